"""A training stage end to end on real TIFF slides: fit, metrics, MLflow run, saved model, kill -9 resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.factories import banded_cohort

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cohort")
    manifest = banded_cohort(folder, {"a": "train", "b": "train", "c": "val"})
    return folder, manifest


def train_command(folder, manifest, work, *extra):
    return [sys.executable, "-m", "hookseg", "train", "--config", str(REPO / "configs" / "smoke.yaml"),
            "--manifest", str(manifest), "--labels", str(folder / "labels"), "--work", str(work),
            "--out", str(work / "model.keras"), "--metrics", str(work / "metrics.json"), *extra]


def env_for(tmp_path):
    return {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "KERAS_BACKEND": "tensorflow",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONPATH": REPO,
    }


def test_base_stage_trains_logs_and_saves(cohort, tmp_path):
    folder, manifest = cohort
    work = tmp_path / "base"
    default = yaml.safe_load((REPO / "configs" / "slides.yaml").read_text())["tissue"]
    tissue = {**default, "min_object_um2": 9000.0}
    (tmp_path / "tissue.yaml").write_text(yaml.safe_dump({"tissue": tissue}))
    command = train_command(folder, manifest, work, "--tissue-config", str(tmp_path / "tissue.yaml"))
    result = subprocess.run(command, env=env_for(tmp_path), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((work / "metrics.json").read_text())
    assert metrics["split"] == "val"
    assert 0.0 <= metrics["mean_iou"] <= 1.0
    assert {"iou_background", "iou_tumour", "iou_other"} <= set(metrics)

    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    run = client.get_run(metrics["mlflow_run_id"])
    assert run.data.tags["stage"] == "base"
    assert len(run.data.tags["config_hash"]) == 12
    assert run.data.params["train.lr0"] == "0.01"
    assert run.data.params["tissue.min_object_um2"] == "9000.0"
    assert len(client.get_metric_history(run.info.run_id, "loss")) == 2  # one per epoch
    assert "mean_iou" in run.data.metrics
    assert [a.path for a in client.list_artifacts(run.info.run_id, "model")] == ["model/model.keras"]

    from hookseg.model_io import load_model

    model, meta = load_model(work / "model.keras")
    assert model.output_shape[-1] == 3
    assert (meta.fov.size, meta.fov.mpp, meta.fov.context_mpp) == (64, 2.0, None)
    assert meta.class_names == ("background", "tumour", "other")
    assert meta.tissue == tissue  # its predictions tile the mask it trained with


def test_kill_9_mid_training_then_rerun_continues(cohort, tmp_path):
    folder, manifest = cohort
    work = tmp_path / "resumable"
    command = train_command(folder, manifest, work, "--epochs", "6")
    env = env_for(tmp_path)
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    metadata = work / "backup" / "training_metadata.json"
    deadline = time.monotonic() + 400
    # Wait for the event (a backup recording a finished epoch), then kill without warning.
    while time.monotonic() < deadline and proc.poll() is None:
        if metadata.exists():
            try:
                if json.loads(metadata.read_text())["epoch"] >= 2:
                    break
            except (json.JSONDecodeError, KeyError):
                pass
        time.sleep(0.05)
    assert proc.poll() is None, "training finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert not (work / "model.keras").exists()
    resumed_from = json.loads(metadata.read_text())["epoch"]
    assert resumed_from >= 2

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    output = second.stdout + second.stderr
    assert f"Epoch {resumed_from + 1}/6" in output
    assert "Epoch 1/6" not in output
    assert (work / "model.keras").exists()
    metrics = json.loads((work / "metrics.json").read_text())
    first_run_id = (work / "mlflow_run_id").read_text().strip()
    assert metrics["mlflow_run_id"] == first_run_id  # the resumed stage logged into the run it started


def test_bn_momentum_reaches_every_batchnorm():
    import keras

    from hookseg.model import create_model
    from hookseg.train.loop import set_bn_momentum

    model = create_model("munet", encoder="b0", input_size=64, context_ratio=2)
    count = set_bn_momentum(model, 0.9)
    found = [
        layer.momentum
        for layer in model._flatten_layers()
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert count == len(found) > 100
    assert set(found) == {0.9}
