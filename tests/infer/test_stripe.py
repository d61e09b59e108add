"""The streaming blender against a whole-canvas reference, where tiles and whole tile rows are missing."""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import replace

import numpy as np
import pytest

from hookseg.infer import InferParams
from hookseg.infer import predict as predict_module
from hookseg.infer.predict import _blend, _Stripe
from hookseg.infer.tiling import TileGrid, ramp_weights
from hookseg.model_io import ModelMeta
from hookseg.sampling import FieldOfView
from hookseg.slides import open_slide
from tests.factories import banded_slide


def test_stripe_with_missing_tiles_and_rows_equals_full_canvas_blending():
    width, height, size, overlap, classes = 700, 900, 64, 16, 3
    grid = TileGrid(width, height, size, overlap)
    rng = np.random.default_rng(7)
    # gaps of four tile rows (longer than the stripe's two tile heights) inside and at the bottom: rows no
    # tile touches, which the stripe must still write as background
    empty_rows = set(grid.rows()[3:7]) | set(grid.rows()[-4:])
    tiles = [(x, y) for y in grid.rows() for x in grid.cols() if y not in empty_rows and rng.random() < 0.7]
    probs = rng.random((len(tiles), size, size, classes), dtype=np.float32)
    probs /= probs.sum(-1, keepdims=True)
    weights = ramp_weights(size, overlap)

    out = np.zeros((height, width, classes), np.uint8)
    recorded = []

    def rows_final(rows: int, written: np.ndarray) -> None:  # what a resume checkpoint records
        recorded.append(rows)
        # every pixel written holds probabilities summing to ~255; a zero pixel was never written
        assert (written[:rows].sum(axis=-1, dtype=int) > 250).all(), f"rows above {rows} recorded, unwritten"

    stripe = _Stripe(width, size, classes, out, weights, top=tiles[0][1], on_final=rows_final)
    for i in range(0, len(tiles), 5):
        _blend(stripe, tiles[i : i + 5], probs[i : i + 5])
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
    assert recorded[-1] > grid.rows()[7]  # recorded past the inner gap


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority is Linux only")
def test_reading_and_blending_threads_yield_to_the_model(monkeypatch, tmp_path):
    """Reader and blender threads run under SCHED_IDLE; the calling (model's) thread is untouched."""
    seen: dict[str, int] = {}

    def policy_here() -> int:
        return os.sched_getscheduler(threading.get_native_id())

    read_batch, blend = predict_module.read_batch, predict_module._blend

    def reading(*args):
        seen["reader"] = policy_here()
        return read_batch(*args)

    def blending(*args):
        seen["blender"] = policy_here()
        return blend(*args)

    monkeypatch.setattr(predict_module, "read_batch", reading)
    monkeypatch.setattr(predict_module, "_blend", blending)
    caller = policy_here()

    class Uniform:
        def predict_on_batch(self, x):
            return {"final": np.full((*x["target"].shape[:3], 3), 1 / 3, np.float32)}

    path, _ = banded_slide(tmp_path, "s", size=(512, 384), mpp=1.0)
    meta = ModelMeta(FieldOfView(size=64, mpp=2.0, context_mpp=None))
    with open_slide(path) as slide:
        predict_module.predict_probabilities(Uniform(), meta, slide, tmp_path / "p.npy", InferParams.load())
    assert seen == {"reader": os.SCHED_IDLE, "blender": os.SCHED_IDLE}
    assert policy_here() == caller


def test_only_a_predictor_that_takes_any_batch_gets_the_short_last_batch_unpadded(tmp_path):
    """Keras retraces on a new batch size, so it gets zero padding; an ONNX export's batch is dynamic."""

    class Recording:
        def __init__(self, takes_any_batch: bool) -> None:
            self.takes_any_batch, self.sizes = takes_any_batch, []

        def predict_on_batch(self, x):
            self.sizes.append(len(x["target"]))
            return {"final": np.full((*x["target"].shape[:3], 3), 1 / 3, np.float32)}

    path, _ = banded_slide(tmp_path, "s", size=(512, 384), mpp=1.0)
    meta = ModelMeta(FieldOfView(size=64, mpp=2.0, context_mpp=None))
    params = replace(InferParams.load(), batch_size=3)
    padded, unpadded = Recording(False), Recording(True)
    with open_slide(path) as slide:
        maps = [predict_module.predict_probabilities(p, meta, slide, tmp_path / f"{i}.npy", params)
                for i, p in enumerate((padded, unpadded))]
    tiles = maps[0].tiles
    assert tiles % 3 and sum(unpadded.sizes) == tiles and unpadded.sizes[-1] == tiles % 3
    assert padded.sizes == [3] * len(unpadded.sizes)
    np.testing.assert_array_equal(maps[0].open(), maps[1].open())
