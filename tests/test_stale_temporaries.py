"""What ``kill -9`` leaves behind (atomic-write temporaries, pyramid scratch folders) is removed by the next
run of a command writing there; temporaries of live processes stay."""

from __future__ import annotations

import os
import subprocess
import sys

from hookseg.cli import main
from hookseg.io import atomic_path, remove_stale_temporaries, temp_tag
from tests.factories import banded_slide


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    return int(done.stdout)


def test_temporaries_name_their_process(tmp_path):
    with atomic_path(tmp_path / "labels.tiff") as tmp:
        assert f".{temp_tag()}." in tmp.name and tmp.name.startswith(".labels.")
    assert not list(tmp_path.glob(".*"))


def test_the_next_run_removes_what_a_killed_one_left(colour_model, tmp_path):
    dead, live = _dead_pid(), os.getpid()
    out = tmp_path / "pred"
    (out / "slide" / f"hookseg-pyramid-pid{dead}-x1").mkdir(parents=True)
    (out / "slide" / f"hookseg-pyramid-pid{dead}-x1" / "level1.npy").write_bytes(b"0" * 100)
    stale = [out / "slide" / f".labels.pid{dead}.ab12.tmp.tiff", out / f".summary.pid{dead}.cd34.tmp.json"]
    kept = [out / "slide" / f".labels.pid{live}.ef56.tmp.tiff", out / "notes.tmp.txt"]
    for path in stale + kept:
        path.write_bytes(b"partial")
    slide, _ = banded_slide(tmp_path, "s", size=(512, 512), mpp=1.0)
    assert main(["predict", str(slide), "--model", str(colour_model[2]), "--out", str(out),
                 "--workers", "0"]) == 0
    assert not any(p.exists() for p in stale)
    assert not (out / "slide" / f"hookseg-pyramid-pid{dead}-x1").exists()
    assert all(p.exists() for p in kept)
    assert remove_stale_temporaries(out) == 0
