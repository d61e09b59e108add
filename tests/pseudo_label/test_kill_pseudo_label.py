"""``kill -9`` in the middle of ``hookseg pseudo-label``, then a rerun: the same label rasters byte for byte,
and no temporary left behind. The kill comes when a temporary raster exists on disk (observed, not timed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.factories import banded_cohort


def _label(manifest: Path, model: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "HOOKSEG_WORKERS": "0"}
    argv = ["pseudo-label", "--model", str(model), "--manifest", str(manifest), "--out", str(out),
            "--threshold", "0.5", "--workers", "0", "--no-mlflow"]
    command = [str(Path(sys.executable).parent / "hookseg"), *argv]  # the installed entry point
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _temporaries(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if ".tmp" in p.name or "hookseg-pyramid-pid" in p.name] \
        if out.exists() else []


def test_kill_9_while_labelling_then_rerun_gives_the_same_rasters(colour_model, tmp_path):
    model = colour_model[2]
    manifest = banded_cohort(tmp_path / "cohort", {"a": "train", "b": "train", "c": "val"}, size=(1536, 1024))
    clean = tmp_path / "clean"
    assert _label(manifest, model, clean).wait(timeout=300) == 0
    out = tmp_path / "killed"
    process = _label(manifest, model, out)
    while process.poll() is None and not _temporaries(out):
        time.sleep(0.005)  # polling for the event (a temporary raster exists), not a timed guess
    assert process.poll() is None, "the run finished before any temporary appeared"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert _temporaries(out), "nothing to clean up: the kill came too late to test anything"
    assert _label(manifest, model, out).wait(timeout=300) == 0
    assert not _temporaries(out)
    rasters = sorted(p.name for p in clean.glob("*.tiff"))
    assert rasters == ["a.tiff", "b.tiff", "c.tiff"]
    for name in rasters:
        assert (out / name).read_bytes() == (clean / name).read_bytes(), name
