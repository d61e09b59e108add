"""Single-resolution U-Net and the architecture factory."""

from __future__ import annotations

import numpy as np
import pytest

from hookseg.errors import ConfigError
from hookseg.model import build_encoder, create_model, parameter_report


@pytest.fixture(scope="module")
def unet_b0():
    return create_model("unet", encoder="b0", input_size=64, num_classes=4)


def test_output_is_a_float32_softmax_at_input_size(unet_b0) -> None:
    x = np.random.default_rng(1).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    out = unet_b0({"target": x}, training=False)
    assert set(out) == {"final"}
    probs = np.asarray(out["final"])
    assert probs.shape == (2, 64, 64, 4)
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    assert list(unet_b0.input) == ["target"]


def test_parameter_report_parts_add_up(unet_b0) -> None:
    report = parameter_report(unet_b0)
    encoder = build_encoder("b0", 64)
    assert report["target_encoder"] == sum(int(np.prod(w.shape)) for w in encoder.trainable_weights)
    assert report["context_encoder"] == report["merge"] == report["context_decoder"] == 0
    parts = ("target_encoder", "target_decoder", "head")
    assert sum(report[p] for p in parts) == report["total_trainable"]
    assert report["head"] == 16 * 9 * 4 + 4  # 3x3 conv from 16 decoder channels to 4 classes


def test_decoder_filters_must_match_depth() -> None:
    with pytest.raises(ConfigError, match="filters=\\(64, 32\\)"):
        create_model("unet", encoder="b0", input_size=64, decoder_filters=(64, 32))


def test_factory_rejects_unknown_arch_and_bad_kwargs() -> None:
    with pytest.raises(ConfigError, match=r"arch='deeplab'.*'munet'.*'unet'"):
        create_model("deeplab")
    with pytest.raises(ConfigError, match="context_ratio"):
        create_model("unet", encoder="b0", input_size=64, context_ratio=4)
