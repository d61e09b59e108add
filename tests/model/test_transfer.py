"""Warm start base U-Net -> m-UNet: the target encoder arrives whole; the logits view shares the weights."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hookseg.model import create_model
from hookseg.model.transfer import scoped_layers, transfer_weights
from hookseg.train.logits import logits_view

SIZE, RATIO = 64, 2


@pytest.fixture(scope="module")
def pair():
    """A base U-Net with weights moved off their init values, and a fresh m-UNet (other decoder sizes)."""
    base = create_model("unet", encoder="b0", input_size=SIZE, decoder_filters=[64, 48, 32, 24, 16])
    rng = np.random.default_rng(0)
    base.set_weights([w + rng.normal(0, 0.01, w.shape).astype(w.dtype) for w in base.get_weights()])
    master = create_model("munet", encoder="b0", input_size=SIZE, context_ratio=RATIO)
    return base, master


def _encoder_arrays(model: keras.Model) -> dict[tuple[str, str], list[np.ndarray]]:
    return {k: layer.get_weights() for k, layer in scoped_layers(model, ["target_encoder"]).items()}


def test_master_target_encoder_equals_the_base_after_a_warm_start(pair) -> None:
    base, master = pair
    context_before = [w.copy() for w in master.get_layer("context_encoder").get_weights()]
    report = transfer_weights(master, base)
    theirs, ours = _encoder_arrays(base), _encoder_arrays(master)
    assert set(theirs) == set(ours)  # the names line up, numbered ones (normalization_3) included
    assert report.tensors == report.source_tensors == sum(len(v) for v in theirs.values())
    assert report.params == base.get_layer("target_encoder").count_params()
    for key, arrays in theirs.items():
        for a, b in zip(arrays, ours[key], strict=True):
            np.testing.assert_array_equal(a, b, err_msg=str(key))
    for a, b in zip(context_before, master.get_layer("context_encoder").get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # the context branch is not the base's to set


def test_layers_whose_shapes_differ_are_skipped(pair) -> None:
    base, master = pair
    report = transfer_weights(master, base, scopes=["target_decoder"])
    # demo base decoder (64, 48, ...) vs master (96, 64, ...): only the last block's tail agrees in shape
    assert 0 < report.tensors < report.source_tensors
    np.testing.assert_array_equal(master.get_layer("target_decoder_b4_2_conv").get_weights()[0],
                                  base.get_layer("target_decoder_b4_2_conv").get_weights()[0])


def test_logits_view_shares_weights_and_its_softmax_is_the_model_output(pair) -> None:
    _, master = pair
    view = logits_view(master)
    assert view is not None and list(view.output) == ["final", "context"]
    assert all(a is b for a, b in zip(view.weights, master.weights, strict=True))
    rng = np.random.default_rng(1)
    x = {k: rng.uniform(0, 255, (1, SIZE, SIZE, 3)).astype("float32") for k in ("target", "context")}
    probs, logits = master(x, training=False), view(x, training=False)
    for key in probs:
        np.testing.assert_allclose(keras.ops.convert_to_numpy(keras.ops.softmax(logits[key], axis=-1)),
                                   keras.ops.convert_to_numpy(probs[key]), atol=1e-6)


def test_residual_merge_starts_as_identity_so_the_warm_encoder_keeps_the_base_features(pair) -> None:
    base, _ = pair
    master = create_model("munet", encoder="b0", input_size=SIZE, context_ratio=RATIO, merge_residual=True)
    transfer_weights(master, base)
    rng = np.random.default_rng(2)
    image = rng.uniform(0, 255, (1, SIZE, SIZE, 3)).astype("float32")
    merge = master.get_layer("merge")
    context = rng.normal(0, 1, (1, *merge.input[1].shape[1:])).astype("float32")  # any context map
    *_, stage16 = master.get_layer("target_encoder_head")(image, training=False)
    merged = merge(stage16, context, training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(merged), keras.ops.convert_to_numpy(stage16))
    p5_master = master.get_layer("target_encoder_tail")(merged, training=False)[-1]
    p5_base = base.get_layer("target_encoder")(image, training=False)[-1]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(p5_master), keras.ops.convert_to_numpy(p5_base),
                               rtol=1e-4, atol=1e-4)
