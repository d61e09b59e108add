"""Models and custom objects round-trip through `.keras` files with safe_mode=True."""

from __future__ import annotations

import keras
import numpy as np

from hookseg.model import CenterCropResize, ContextMerge, create_model


def test_munet_reloads_with_same_predictions(tmp_path) -> None:
    model = create_model("munet", encoder="b0", input_size=64, context_ratio=2)
    # Move BN statistics away from their init so a reload that dropped them would show.
    for layer in model.get_layer("merge").context_bns:
        layer.moving_mean.assign(np.full(layer.moving_mean.shape, 0.3, "float32"))
    rng = np.random.default_rng(5)
    x = {k: rng.uniform(0, 255, (1, 64, 64, 3)).astype("float32") for k in ("target", "context")}
    before = {k: np.asarray(v) for k, v in model(x, training=False).items()}
    path = tmp_path / "munet.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    after = {k: np.asarray(v) for k, v in loaded(x, training=False).items()}
    assert set(after) == {"final", "context"}
    for key in before:
        np.testing.assert_allclose(after[key], before[key], atol=1e-6)
    assert isinstance(loaded.get_layer("merge"), ContextMerge)
    assert loaded.count_params() == model.count_params()


def test_custom_layers_config_round_trip() -> None:
    merge = ContextMerge(4, out_channels=160, context_filters=(256, 64), fuse_filters=(128,), name="m")
    clone = ContextMerge.from_config(merge.get_config())
    assert (clone.ratio, clone.out_channels) == (4, 160)
    assert (clone.context_filters, clone.fuse_filters) == ((256, 64), (128,))
    crop = CenterCropResize.from_config(CenterCropResize(2, (8, 8)).get_config())
    assert (crop.ratio, crop.size) == (2, (8, 8))
