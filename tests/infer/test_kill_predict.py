"""``kill -9`` in the middle of ``hookseg predict``, then a rerun: the same label raster byte for byte, and
no temporary left behind. The kill comes when a temporary output exists on disk (observed, not timed)."""

from __future__ import annotations

from pathlib import Path

from tests.factories import banded_slide
from tests.interrupt import kill_once_a_temporary_exists, start_hookseg, temporaries


def _predict(slide: Path, model: Path, out: Path):
    return start_hookseg(["predict", str(slide), "--model", str(model), "--out", str(out), "--workers", "0"])


def test_kill_9_while_writing_then_rerun_gives_the_same_labels(colour_model, tmp_path):
    model = colour_model[2]
    slide, _ = banded_slide(tmp_path, "s", size=(1536, 1024), mpp=1.0)
    clean = tmp_path / "clean"
    assert _predict(slide, model, clean).wait(timeout=300) == 0
    out = tmp_path / "killed"
    kill_once_a_temporary_exists(_predict(slide, model, out), out)
    assert not (out / "s" / "summary.json").exists()
    assert _predict(slide, model, out).wait(timeout=300) == 0
    assert not temporaries(out)
    for name in ("labels.tiff", "regions.geojson"):
        assert (out / "s" / name).read_bytes() == (clean / "s" / name).read_bytes(), name
