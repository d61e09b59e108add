"""``kill -9`` in the middle of ``hookseg pseudo-label``, then a rerun: the same label rasters byte for byte,
and no temporary left behind. The kill comes when a temporary raster exists on disk (observed, not timed)."""

from __future__ import annotations

from pathlib import Path

from tests.factories import banded_cohort
from tests.interrupt import kill_once_a_temporary_exists, start_hookseg, temporaries


def _label(manifest: Path, model: Path, out: Path):
    return start_hookseg(["pseudo-label", "--model", str(model), "--manifest", str(manifest),
                          "--out", str(out), "--threshold", "0.5", "--workers", "0", "--no-mlflow"])


def test_kill_9_while_labelling_then_rerun_gives_the_same_rasters(colour_model, tmp_path):
    model = colour_model[2]
    manifest = banded_cohort(tmp_path / "cohort", {"a": "train", "b": "train", "c": "val"}, size=(1536, 1024))
    clean = tmp_path / "clean"
    assert _label(manifest, model, clean).wait(timeout=300) == 0
    out = tmp_path / "killed"
    kill_once_a_temporary_exists(_label(manifest, model, out), out)
    assert _label(manifest, model, out).wait(timeout=300) == 0
    assert not temporaries(out)
    rasters = sorted(p.name for p in clean.glob("*.tiff"))
    assert rasters == ["a.tiff", "b.tiff", "c.tiff"]
    for name in rasters:
        assert (out / name).read_bytes() == (clean / name).read_bytes(), name
