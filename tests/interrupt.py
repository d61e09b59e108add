"""Interrupting a real ``hookseg`` process the moment it has a temporary output on disk (``kill -9``), for
the tests that check a rerun leaves nothing behind and writes the same bytes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

TEMPORARY = ("hookseg-pyramid-pid", ".tmp")  # atomic-write temporaries and pyramid scratch folders


def start_hookseg(argv: list[str]) -> subprocess.Popen:
    """The installed entry point, in process mode (no Ray), quiet."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "HOOKSEG_WORKERS": "0"}
    command = [str(Path(sys.executable).parent / "hookseg"), *argv]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def temporaries(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if any(t in p.name for t in TEMPORARY)] if out.exists() else []


def kill_once_a_temporary_exists(process: subprocess.Popen, out: Path) -> None:
    """SIGKILL ``process`` when a temporary output appears under ``out``; fails if none did or none is left.

    JSON records (progress, summaries) are written in a blink and renamed: waiting for one would kill after
    the rename. The event is a raster or pyramid temporary, which lives while the output is written.
    """
    while process.poll() is None and not [p for p in temporaries(out) if not p.name.endswith(".tmp.json")]:
        time.sleep(0.005)  # polling for the event (a temporary output exists), not a timed guess
    assert process.poll() is None, "the run finished before any temporary appeared"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert temporaries(out), "nothing to clean up: the kill came too late to test anything"
