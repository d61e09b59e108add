"""The model, the loss and a train step under KERAS_BACKEND=jax (the GPU machines have no TensorFlow)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("backend", ["jax"])
def test_backend_check_script_passes(backend):
    pytest.importorskip(backend)
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "backend_check.py"),
            "--size",
            "64",
            "--ratio",
            "2",
            "--steps",
            "2",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"OK {backend}" in result.stdout
    assert "backend=jax" in result.stdout
