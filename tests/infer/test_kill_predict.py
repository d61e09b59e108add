"""``kill -9`` in the middle of ``hookseg predict``, then a rerun: the same label raster byte for byte, and
no temporary left behind. The kill comes when a temporary output exists on disk (observed, not timed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.factories import banded_slide

TEMPORARY = ("hookseg-pyramid-pid", ".tmp")


def _predict(slide: Path, model: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "HOOKSEG_WORKERS": "0"}
    argv = ["predict", str(slide), "--model", str(model), "--out", str(out), "--workers", "0"]
    command = [str(Path(sys.executable).parent / "hookseg"), *argv]  # the installed entry point
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _temporaries(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if any(t in p.name for t in TEMPORARY)] if out.exists() else []


def test_kill_9_while_writing_then_rerun_gives_the_same_labels(colour_model, tmp_path):
    model = colour_model[2]
    slide, _ = banded_slide(tmp_path, "s", size=(1536, 1024), mpp=1.0)
    clean = tmp_path / "clean"
    assert _predict(slide, model, clean).wait(timeout=300) == 0
    out = tmp_path / "killed"
    process = _predict(slide, model, out)
    while process.poll() is None and not _temporaries(out):
        time.sleep(0.005)  # polling for the event (a temporary output exists), not a timed guess
    assert process.poll() is None, "the run finished before any temporary appeared"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert _temporaries(out), "nothing to clean up: the kill came too late to test anything"
    assert not (out / "s" / "summary.json").exists()
    assert _predict(slide, model, out).wait(timeout=300) == 0
    assert not _temporaries(out)
    for name in ("labels.tiff", "regions.geojson"):
        assert (out / "s" / name).read_bytes() == (clean / "s" / name).read_bytes(), name
