"""``kill -9`` in the middle of ``hookseg predict``, then a rerun: the same label raster byte for byte, and
no temporary left behind. The kill comes when a temporary output exists on disk, or once a band of tile rows
is recorded as final (observed, not timed); in that case the rerun predicts only the rest."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.factories import banded_slide
from tests.interrupt import kill_once_a_temporary_exists, start_hookseg, temporaries


def _predict(slide: Path, model: Path, out: Path):
    return start_hookseg(["predict", str(slide), "--model", str(model), "--out", str(out), "--workers", "0"])


@pytest.fixture(scope="module")
def uninterrupted(colour_model, tmp_path_factory) -> tuple[Path, Path]:
    """A 1536-px slide (768 output rows) and its outputs from a run nobody killed."""
    folder = tmp_path_factory.mktemp("kill_predict")
    slide, _ = banded_slide(folder, "s", size=(1536, 1536), mpp=1.0)
    assert _predict(slide, colour_model[2], folder / "clean").wait(timeout=300) == 0
    return slide, folder / "clean"


def _rerun_matches_the_uninterrupted_run(slide: Path, model: Path, out: Path, clean: Path) -> None:
    assert _predict(slide, model, out).wait(timeout=300) == 0
    assert not temporaries(out)
    for name in ("labels.tiff", "regions.geojson"):
        assert (out / "s" / name).read_bytes() == (clean / "s" / name).read_bytes(), name


def test_kill_9_while_writing_then_rerun_gives_the_same_labels(colour_model, uninterrupted, tmp_path):
    model, (slide, clean) = colour_model[2], uninterrupted
    out = tmp_path / "killed"
    kill_once_a_temporary_exists(_predict(slide, model, out), out)
    assert not (out / "s" / "summary.json").exists()
    _rerun_matches_the_uninterrupted_run(slide, model, out, clean)


def test_kill_9_mid_slide_then_rerun_resumes_from_finished_rows(colour_model, uninterrupted, tmp_path):
    model, (slide, clean) = colour_model[2], uninterrupted
    out = tmp_path / "killed"
    progress = out / "s" / ".probabilities.npy.progress.json"
    process = _predict(slide, model, out)
    while process.poll() is None and _finished_rows(progress) < 384:  # of 768: past the first tiles' reach
        time.sleep(0.005)  # polling for the event (half the rows recorded as final), not a timed guess
    assert process.poll() is None, "the slide finished before half its rows were recorded"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    _rerun_matches_the_uninterrupted_run(slide, model, out, clean)
    summary = json.loads((out / "s" / "summary.json").read_text())
    assert 0 < summary["tiles_resumed"] < summary["tiles"]
    assert not progress.exists() and not (out / "s" / ".probabilities.npy").exists()


def _finished_rows(progress: Path) -> int:
    try:
        return json.loads(progress.read_text())["finished_rows"]
    except (FileNotFoundError, json.JSONDecodeError):  # not yet written (it is replaced atomically)
        return 0
