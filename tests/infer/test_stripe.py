"""The streaming blender against a whole-canvas reference, where tiles and whole tile rows are missing."""

from __future__ import annotations

import os
import sys
import threading

import numpy as np
import pytest

from hookseg.infer import InferParams
from hookseg.infer import predict as predict_module
from hookseg.infer.predict import _blend, _paint_background, _Stripe
from hookseg.infer.tiling import TileGrid, ramp_weights
from hookseg.model_io import ModelMeta
from hookseg.sampling import FieldOfView
from hookseg.slides import open_slide
from tests.factories import banded_slide


def test_stripe_with_missing_tiles_and_rows_equals_full_canvas_blending():
    width, height, size, overlap, classes = 700, 900, 64, 16, 3
    grid = TileGrid(width, height, size, overlap)
    rng = np.random.default_rng(7)
    empty_rows = set(grid.rows()[3:7])  # a gap of four tile rows: longer than the stripe's two tile heights
    tiles = [(x, y) for y in grid.rows() for x in grid.cols() if y not in empty_rows and rng.random() < 0.7]
    probs = rng.random((len(tiles), size, size, classes), dtype=np.float32)
    probs /= probs.sum(-1, keepdims=True)
    weights = ramp_weights(size, overlap)

    out = np.zeros((height, width, classes), np.uint8)
    _paint_background(out)
    stripe = _Stripe(width, size, classes, out, top=tiles[0][1])
    for i in range(0, len(tiles), 5):
        _blend(stripe, tiles[i : i + 5], probs[i : i + 5], weights)
    stripe.flush_all()

    acc = np.zeros((height + size, width + size, classes))
    weight = np.zeros((height + size, width + size))
    for (x, y), p in zip(tiles, probs, strict=True):
        acc[y : y + size, x : x + size] += p * weights[..., None]
        weight[y : y + size, x : x + size] += weights
    covered = weight[:height, :width] > 0
    expected = np.rint(acc[:height, :width][covered] / weight[:height, :width][covered][:, None] * 255)
    assert 0 < covered.mean() < 1
    np.testing.assert_allclose(out[covered], expected, atol=1)
    assert (np.abs(out[covered].astype(int) - expected) > 0).mean() < 1e-4  # off by one only at rounding ties
    assert (out[~covered] == (255, 0, 0)).all()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority is Linux only")
def test_reading_and_blending_threads_yield_to_the_model(monkeypatch, tmp_path):
    """Reader and blender threads run at the lowest priority; the calling (model's) thread is untouched."""
    seen: dict[str, int] = {}

    def nice_here() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    read_batch, blend = predict_module.read_batch, predict_module._blend

    def reading(*args):
        seen["reader"] = nice_here()
        return read_batch(*args)

    def blending(*args):
        seen["blender"] = nice_here()
        return blend(*args)

    monkeypatch.setattr(predict_module, "read_batch", reading)
    monkeypatch.setattr(predict_module, "_blend", blending)
    caller = nice_here()

    class Uniform:
        def predict_on_batch(self, x):
            return {"final": np.full((*x["target"].shape[:3], 3), 1 / 3, np.float32)}

    path, _ = banded_slide(tmp_path, "s", size=(512, 384), mpp=1.0)
    meta = ModelMeta(FieldOfView(size=64, mpp=2.0, context_mpp=None))
    with open_slide(path) as slide:
        predict_module.predict_probabilities(Uniform(), meta, slide, tmp_path / "p.npy", InferParams.load())
    assert seen == {"reader": predict_module.NICE, "blender": predict_module.NICE}
    assert nice_here() == caller
