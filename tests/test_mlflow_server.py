"""hookseg's stages against a real ``mlflow server`` on 127.0.0.1, and a dead server as a one-line error.

The server runs in its own process with its own SQLite store and artifact folder; the stage reaches it only
through ``MLFLOW_TRACKING_URI=http://127.0.0.1:<port>``, so what the test reads back went over HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from hookseg.cli import main
from tests.factories import banded_cohort
from tests.ports import free_port

MLFLOW = str(Path(sys.executable).with_name("mlflow"))


def wait_until_healthy(url: str, server: subprocess.Popen, log: Path, deadline_s: float = 180.0) -> None:
    """Poll ``/health`` until it answers (the readiness signal), the server exits, or the deadline passes."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        try:
            code = server.wait(timeout=0.25)  # between polls; returns at once if the server died
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"mlflow server exited with {code}: {log.read_text()[-2000:]}")
    pytest.fail(f"mlflow server at {url} did not answer /health within {deadline_s:.0f} s")


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = root / "server.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [MLFLOW, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
             "--backend-store-uri", f"sqlite:///{root / 'server.db'}",
             "--artifacts-destination", str(root / "artifacts")],
            stdout=sink, stderr=subprocess.STDOUT, cwd=root)
    try:
        wait_until_healthy(url, server, log)
        yield url, root
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=60)


def evaluate_argv(tmp_path: Path, model: Path, *extra: str) -> list[str]:
    manifest = banded_cohort(tmp_path / "cohort", {"t1": "test", "t2": "test"}, size=(512, 384))
    return ["evaluate", "--model", str(model), "--manifest", str(manifest), "--split", "test",
            "--out", str(tmp_path / "eval"), "--workers", "0", *extra]


def test_evaluate_logs_its_metrics_and_artifacts_to_the_server(mlflow_server, colour_model, tmp_path,
                                                               monkeypatch):
    import mlflow

    url, root = mlflow_server
    _, _, model = colour_model
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    monkeypatch.setenv("HOOKSEG_EXPERIMENT", "server-test")
    monkeypatch.delenv("HOOKSEG_PARENT_RUN_ID", raising=False)
    assert main(evaluate_argv(tmp_path, model, "--run-name", "evaluate-served")) == 0
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())

    client = mlflow.MlflowClient(tracking_uri=url)
    experiment = client.get_experiment_by_name("server-test")
    runs = client.search_runs([experiment.experiment_id], "tags.stage = 'evaluate-served'")
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert run.data.metrics["mean_iou.test"] == pytest.approx(metrics["test"]["mean_iou"])
    assert run.data.metrics["fine_recall.dcis.test"] == pytest.approx(metrics["test"]["fine_recall"]["dcis"])
    # The report went up through the server's artifact proxy: it lies in the server's folder, and reads back.
    assert experiment.artifact_location.startswith("mlflow-artifacts:"), experiment.artifact_location
    stored = list((root / "artifacts").rglob("report.md"))
    assert len(stored) == 1, stored
    fetched = client.download_artifacts(run.info.run_id, "report.md", str(tmp_path / "fetched"))
    assert Path(fetched).read_text() == (tmp_path / "eval" / "report.md").read_text()


def test_a_dead_server_is_one_line_before_any_slide_is_predicted(colour_model, tmp_path, monkeypatch,
                                                                  capsys):
    _, _, model = colour_model
    dead = f"http://127.0.0.1:{free_port()}"  # bound, released: nothing listens there
    monkeypatch.setenv("MLFLOW_TRACKING_URI", dead)
    assert main(evaluate_argv(tmp_path, model)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("hookseg evaluate: error: MLFLOW_TRACKING_URI: expected an MLflow server")
    assert dead in err
    assert not (tmp_path / "eval" / "predictions").exists()
