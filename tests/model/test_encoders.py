"""Encoder registry: taps per stride, the stride-16 split point, naming, weights handling."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hookseg.errors import ConfigError
from hookseg.model.encoders import (
    ENCODERS,
    STRIDES,
    build_base,
    build_encoder,
    build_split_encoder,
    get_encoder_spec,
    stage16_output_name,
)


def test_registry_covers_b0_to_b7_and_mnv3s_with_existing_constructors() -> None:
    assert sorted(ENCODERS) == [f"b{i}" for i in range(8)] + ["mnv3s"]
    for spec in ENCODERS.values():
        assert callable(getattr(keras.applications, spec.constructor))


def test_unknown_encoder_lists_valid_keys() -> None:
    with pytest.raises(ConfigError, match=r"encoder='resnet50'.*'b0'.*'b7'"):
        get_encoder_spec("resnet50")


@pytest.mark.parametrize(("name", "stage16"), [("b0", "block5c_add"), ("b4", "block5f_add")])
def test_stage16_output_found_from_graph(name: str, stage16: str) -> None:
    base = build_base(name, 32, model_name=f"probe_{name}")
    assert stage16_output_name(base) == stage16
    assert base.count_params() == ENCODERS[name].params


@pytest.mark.parametrize(("name", "channels"), [
    ("b0", [96, 144, 240, 672, 1280]),  # named taps
    ("mnv3s", [16, 72, 96, 288, 576]),  # tapped by shape: the last layer at each stride
])
def test_pyramid_shapes_follow_strides(name: str, channels: list[int]) -> None:
    size = 64
    encoder = build_encoder(name, size, model_name="target_encoder")
    outputs = encoder(np.zeros((1, size, size, 3), "float32"))
    assert [o.shape[1] for o in outputs] == [size // s for s in STRIDES]
    assert [o.shape[-1] for o in outputs] == channels
    assert encoder.name == "target_encoder"
    assert any(isinstance(layer, keras.layers.Rescaling) for layer in encoder.layers)  # takes 0-255 pixels


def test_mobilenet_is_a_fraction_of_b0() -> None:
    """The student's encoder: its registered size, under an eighth of B0's weights."""
    assert build_base("mnv3s", 64, model_name="probe_mnv3s").count_params() == ENCODERS["mnv3s"].params
    assert ENCODERS["mnv3s"].params < ENCODERS["b0"].params / 8


def test_mobilenet_cannot_be_the_split_target_encoder() -> None:
    with pytest.raises(ConfigError, match=r"encoder='mnv3s'.*EfficientNet"):
        build_split_encoder("mnv3s", 64)


def test_depth4_stops_at_stride16_and_is_much_smaller() -> None:
    full = build_encoder("b0", 64, depth=5)
    short = build_encoder("b0", 64, depth=4)
    assert len(short.outputs) == 4
    assert short.outputs[-1].shape[1:] == (4, 4, 672)
    assert short.count_params() < full.count_params() / 3


def test_split_halves_recompose_to_the_full_encoder() -> None:
    head, tail = build_split_encoder("b0", 64)
    x = np.random.default_rng(0).uniform(0, 255, (1, 64, 64, 3)).astype("float32")
    *_, stage16 = head(x)
    p4, p5 = tail(stage16)
    assert stage16.shape[1:] == (4, 4, 112)
    assert p4.shape[1:] == (4, 4, 672)
    assert p5.shape[1:] == (2, 2, 1280)
    assert not {w.path for w in head.weights} & {w.path for w in tail.weights}


@pytest.mark.parametrize("weights", ["imagenet", "/nonexistent/enc.weights.h5"])
def test_weights_never_download(weights: str) -> None:
    with pytest.raises(ConfigError, match="weights"):
        build_base("b0", 32, weights=weights)


def test_local_weights_file_is_loaded(tmp_path) -> None:
    source = build_base("b0", 32, model_name="source")
    path = tmp_path / "b0.weights.h5"
    source.save_weights(path)
    loaded = build_base("b0", 32, weights=path, model_name="loaded")
    for a, b in zip(source.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


@pytest.mark.parametrize("size", [0, 48, 100])
def test_input_size_must_be_multiple_of_32(size: int) -> None:
    with pytest.raises(ConfigError, match=f"input_size={size}"):
        build_encoder("b0", size)
