"""The labeller on a real local Ray cluster (`ray start --head`), joined through RAY_ADDRESS."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hookseg.cohort import read_manifest
from hookseg.sampling import open_labels, read_labels
from tests.factories import banded_cohort
from tests.ports import free_port

RAY = str(Path(sys.executable).with_name("ray"))


@pytest.fixture()
def ray_cluster(tmp_path):
    port = free_port()
    temp_dir = Path("/tmp") / f"hookseg-ray-{os.getpid()}"
    # Ray 2.60 authenticates with a token by default; say so on both sides (head and driver), with the
    # cluster's own token, so the test depends neither on how each side would resolve the default nor on a
    # ~/.ray/auth_token that an earlier local Ray happened to leave (a fresh machine has none).
    token = secrets.token_hex(32)
    env = {
        **os.environ,
        "RAY_USAGE_STATS_ENABLED": "0",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": token,
    }
    start = subprocess.run([RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                            "--num-cpus", "2", "--include-dashboard", "false", "--temp-dir", str(temp_dir),
                            "--disable-usage-stats"], env=env, capture_output=True, text=True, timeout=180)
    assert start.returncode == 0, start.stdout + start.stderr
    try:
        yield {"RAY_ADDRESS": f"127.0.0.1:{port}", "RAY_AUTH_TOKEN": token}
    finally:
        stop_cluster(temp_dir, port)
        shutil.rmtree(temp_dir, ignore_errors=True)


def stop_cluster(temp_dir: Path, port: int) -> None:
    """Kill this cluster's processes (those naming its temp dir or port, and their children), as
    ``ray stop --force`` would, but only these: ``ray stop`` stops every Ray on the machine, a parallel test's
    local runtime included."""
    import psutil

    mine = re.compile(rf"{re.escape(str(temp_dir))}|:{port}(?!\d)")
    found: dict[int, psutil.Process] = {}
    for proc in psutil.process_iter(["cmdline"]):
        if mine.search(" ".join(proc.info["cmdline"] or ())):
            try:
                found.update({p.pid: p for p in (proc, *proc.children(recursive=True))})
            except psutil.NoSuchProcess:
                continue
    for proc in found.values():
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(list(found.values()), timeout=60)
    assert not alive, alive


def run_labeller(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pseudo_label", *args], env=env, capture_output=True, text=True, timeout=600
    )


def test_cluster_labels_equal_local_and_bad_slide_is_reported(colour_model, ray_cluster, tmp_path):
    _, _, model_path = colour_model
    manifest_path = banded_cohort(
        tmp_path / "cohort", {"a": "train", "b": "train", "c": "val"}, size=(768, 512)
    )
    # A slide that cannot be read: the task fails, is reported, and the others' labels are kept.
    (tmp_path / "cohort" / "b.tif").write_bytes(b"II*\x00broken")
    base_env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "KERAS_BACKEND": "tensorflow",
        "RAY_AUTH_MODE": "token",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    base_env.pop("RAY_ADDRESS", None)
    common = ["--model", str(model_path), "--manifest", str(manifest_path), "--threshold", "0.6"]
    local = run_labeller([*common, "--out", str(tmp_path / "local"), "--workers", "0"], base_env)
    assert local.returncode == 0, local.stderr[-2000:]
    cluster = run_labeller(
        [*common, "--out", str(tmp_path / "cluster")], {**base_env, **ray_cluster}
    )
    assert cluster.returncode == 0, cluster.stderr[-3000:]
    assert "joined Ray cluster" in cluster.stderr
    for folder in ("local", "cluster"):
        failures = json.loads((tmp_path / folder / "failures.json").read_text())
        assert [f["item"] for f in failures] == ["b"]
        assert "b.tif" in failures[0]["error"]
    manifest = read_manifest(manifest_path)
    for slide_id in ("a", "c"):
        assert manifest.get(slide_id)
        with open_labels(tmp_path / "local" / f"{slide_id}.tiff") as a, \
                open_labels(tmp_path / "cluster" / f"{slide_id}.tiff") as b:
            la = read_labels(a, (0, 0), a.dimensions, a.mpp)
            lb = read_labels(b, (0, 0), b.dimensions, b.mpp)
        np.testing.assert_array_equal(la, lb)
        assert (la != 255).mean() > 0.5
    assert not (tmp_path / "cluster" / "b.tiff").exists()
