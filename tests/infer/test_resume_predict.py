"""A prediction killed part-way resumes from the tile rows it had finished: the same probability bytes as an
uninterrupted run, fewer tiles through the model, and nothing kept from a run of another model or setting."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hookseg.infer import InferParams, predict_probabilities
from hookseg.infer.predict import RowCheckpoint
from hookseg.slides import open_slide
from tests.factories import banded_slide


class Died(RuntimeError):
    """What the interrupted run dies of, in the middle of its tiles."""


class Counting:
    """The model, counting the batches it answers; after ``die_after`` batches it raises instead.

    Each tile's answer is tilted by its own mean pixel, so overlapping tiles disagree and a row blended from
    only some of its tiles shows in the bytes (the bands of the test slide alone would look alike).
    """

    def __init__(self, model, die_after: int | None = None) -> None:
        self.model, self.die_after, self.batches = model, die_after, 0

    def predict_on_batch(self, x):
        if self.die_after is not None and self.batches >= self.die_after:
            raise Died
        self.batches += 1
        final = np.asarray(self.model.predict_on_batch(x)["final"], np.float32)
        tilt = np.sin(x["target"].mean(axis=(1, 2, 3)) / 7.0)[:, None, None, None]
        tilted = final * np.exp(np.array([0.0, 1.5, -1.5], np.float32) * tilt)
        return {"final": tilted / tilted.sum(axis=-1, keepdims=True)}


@pytest.fixture(scope="module")
def slide(tmp_path_factory):
    path, _ = banded_slide(tmp_path_factory.mktemp("resume"), "s", size=(1024, 1536), mpp=1.0)
    return path


def _run(model, meta, slide_path, out, params, key):
    with open_slide(slide_path) as slide:
        return predict_probabilities(model, meta, slide, out, params, resume_key=key)


def test_a_killed_prediction_resumes_from_its_finished_rows(colour_model, slide, tmp_path):
    model, meta, _ = colour_model
    params = replace(InferParams.load(), overlap=0.25, batch_size=2, prefetch=1)
    whole = Counting(model)
    clean = _run(whole, meta, slide, tmp_path / "clean.npy", params, "k")
    assert clean.resumed_tiles == 0 and whole.batches >= 8
    expected = np.load(tmp_path / "clean.npy").tobytes()

    out = tmp_path / "killed.npy"
    with pytest.raises(Died):
        _run(Counting(model, die_after=whole.batches * 2 // 3), meta, slide, out, params, "k")
    finished = RowCheckpoint(out, "k", clean.shape, clean.tiles).finished_rows()
    assert 0 < finished < clean.shape[0], "the run died before or after every row was final"
    assert RowCheckpoint(out, "other model", clean.shape, clean.tiles).finished_rows() == 0
    glass = (np.load(tmp_path / "clean.npy")[finished:] == (255, 0, 0)).all(axis=-1)
    assert glass.any(), "no untiled glass below the finished rows: the resumed run's painting goes untested"

    again = Counting(model)
    resumed = _run(again, meta, slide, out, params, "k")
    assert 0 < resumed.resumed_tiles < clean.tiles
    assert again.batches < whole.batches
    assert resumed.resumed_tiles % params.batch_size == 0  # restarted on a batch boundary of the same list
    assert np.load(out).tobytes() == expected


def test_rows_of_another_model_or_setting_are_not_kept(colour_model, slide, tmp_path):
    model, meta, _ = colour_model
    params = replace(InferParams.load(), overlap=0.25, batch_size=2, prefetch=1)
    out = tmp_path / "p.npy"
    with pytest.raises(Died):
        _run(Counting(model, die_after=6), meta, slide, out, params, "model A")
    assert _run(Counting(model), meta, slide, out, params, "model B").resumed_tiles == 0
    with pytest.raises(Died):
        _run(Counting(model, die_after=6), meta, slide, out, params, "model A")
    other = replace(params, overlap=0.5)  # another tiling: the record's tile count or key no longer fits
    assert _run(Counting(model), meta, slide, out, other, "model A, other overlap").resumed_tiles == 0
