"""Dual-resolution m-UNet: shapes, budget, gradients into both branches, and merge pixel alignment."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hookseg.errors import ConfigError
from hookseg.losses import branch_losses
from hookseg.model import CenterCropResize, ContextMerge, center_crop_resize, create_model, parameter_report

SIZE, RATIO = 64, 2  # stride-16 map 4x4, centre crop 2x2 on whole pixels


def _inputs(batch: int = 2, size: int = SIZE, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(0, 255, (batch, size, size, 3)).astype("float32") for k in ("target", "context")}


@pytest.fixture(scope="module")
def munet_b0():
    return create_model("munet", encoder="b0", input_size=SIZE, context_ratio=RATIO)


def test_outputs_final_and_context_softmax(munet_b0) -> None:
    out = munet_b0(_inputs(), training=False)
    assert set(out) == {"final", "context"}
    for probs in out.values():
        probs = np.asarray(probs)
        assert probs.shape == (2, SIZE, SIZE, 3)
        assert probs.dtype == np.float32
        np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)


def test_parameter_report_has_every_part(munet_b0) -> None:
    report = parameter_report(munet_b0)
    parts = ("target_encoder", "context_encoder", "merge", "target_decoder", "context_decoder", "head")
    assert all(report[p] > 0 for p in parts)
    assert sum(report[p] for p in parts) == report["total_trainable"]
    assert report["context_encoder"] < report["target_encoder"] / 3  # truncated at stride 16


def test_one_train_step_updates_both_encoders_and_the_merge(munet_b0) -> None:
    model = keras.models.clone_model(munet_b0)
    losses, loss_weights = branch_losses(model.output.keys())
    optimizer = keras.optimizers.SGD(0.1)
    model.compile(optimizer=optimizer, loss=losses, loss_weights=loss_weights, run_eagerly=True)
    watched = {
        "target": model.get_layer("target_encoder_head").get_layer("stem_conv").kernel,
        "context": model.get_layer("context_encoder").get_layer("stem_conv").kernel,
        "merge": model.get_layer("merge").context_convs[0].kernel,
    }
    before = {k: keras.ops.convert_to_numpy(v).copy() for k, v in watched.items()}
    rng = np.random.default_rng(3)
    labels = {k: rng.integers(0, 3, (2, SIZE, SIZE)).astype("int32") for k in ("final", "context")}
    labels["final"][:, :8] = 255
    logs = model.train_on_batch(_inputs(), labels, return_dict=True)
    assert np.isfinite(logs["loss"])
    for key, var in watched.items():
        assert not np.allclose(keras.ops.convert_to_numpy(var), before[key]), key


def test_hooknet_merge_only_projects(munet_b0) -> None:
    model = create_model("munet", encoder="b0", input_size=SIZE, context_ratio=RATIO, merge="hooknet")
    merge = model.get_layer("merge")
    assert merge.context_convs == [] and merge.fuse_convs == []
    target_ch, source_ch = merge.out_channels, merge.project_conv.kernel.shape[2] - merge.out_channels
    assert parameter_report(model)["merge"] == (target_ch + source_ch) * target_ch + 2 * target_ch
    assert parameter_report(model)["merge"] < parameter_report(munet_b0)["merge"]
    assert model(_inputs(batch=1), training=False)["final"].shape == (1, SIZE, SIZE, 3)


def test_paper_scale_b4_budget_near_25m() -> None:
    model = create_model("munet", encoder="b4", input_size=128)
    report = parameter_report(model)
    assert abs(report["total_trainable"] - 25_000_000) < 500_000, report
    assert model(_inputs(batch=1, size=128), training=False)["final"].shape == (1, 128, 128, 3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"merge": "concat"}, "merge='concat'"),
        ({"context_ratio": 3}, "context_ratio=3"),
        ({"context_ratio": 4}, "side=4, ratio=4"),  # 4x4 stride-16 map: 1x1 centre crop is off-centre
    ],
)
def test_invalid_configs_raise(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        create_model("munet", encoder="b0", input_size=SIZE, **kwargs)


# --- pixel alignment ---------------------------------------------------------------------------


def _ramp(side: int, ratio: float, target_side: int) -> np.ndarray:
    """(1, side, side, 2) map whose value is the target-map pixel index that each pixel centre covers
    (x in channel 0, y in channel 1), for a map whose pixels are ``ratio`` target pixels wide and
    centred on the target field of view."""
    centre = (np.arange(side) + 0.5 - side / 2) * ratio + target_side / 2 - 0.5
    xx, yy = np.meshgrid(centre, centre)
    return np.stack([xx, yy], -1)[None].astype("float32")


def test_pixel_aligned_crop_resize_lands_on_target_pixels() -> None:
    # Context stride-16 map: same size as the target's, each pixel covers 4 target pixels.
    side, ratio = 16, 4
    out = np.asarray(center_crop_resize(_ramp(side, ratio, side), ratio, (side, side)))
    expected = np.arange(side, dtype="float32")
    inner = slice(2, side - 2)  # bilinear clamps at the outer half source pixel
    np.testing.assert_allclose(out[0, 5, inner, 0], expected[inner], atol=1e-5)
    np.testing.assert_allclose(out[0, inner, 9, 1], expected[inner], atol=1e-5)


def test_centre_crop_resize_layer_matches_function() -> None:
    ramp = _ramp(32, 4, 32)
    layer = CenterCropResize(4, (32, 32))
    np.testing.assert_array_equal(np.asarray(layer(ramp)), np.asarray(center_crop_resize(ramp, 4, (32, 32))))
    assert layer.compute_output_shape((None, 32, 32, 2)) == (None, 32, 32, 2)


@pytest.mark.parametrize(("context_side", "context_pixel"), [(16, 4.0), (64, 1.0)])
def test_context_merge_aligns_planted_coordinates(context_side: int, context_pixel: float) -> None:
    """Both merges: (16, 4) is the pixel-aligned path (crop + 4x resize), (64, 1) HookNet's
    same-pixel-size map (crop only). A linear projection picks the context channels out again."""
    side = 16
    merge = ContextMerge(4, out_channels=2, context_filters=(), fuse_filters=())
    target = np.zeros((1, side, side, 1), "float32")
    context = _ramp(context_side, context_pixel, side)
    merge(target, context)  # build
    merge.project_conv.kernel.assign(np.array([[[[0, 0], [1, 0], [0, 1]]]], "float32"))
    eps = merge.project_bn.epsilon
    out = np.asarray(merge(target, context, training=False)) * np.sqrt(1 + eps)
    expected = np.arange(side, dtype="float32")
    inner = slice(2, side - 2)
    np.testing.assert_allclose(out[0, 7, inner, 0], expected[inner], atol=1e-4)
    np.testing.assert_allclose(out[0, inner, 3, 1], expected[inner], atol=1e-4)
