"""`dvc repro` end to end on a tiny generated cohort with the smoke profile, through `hookseg pipeline run`.

Real DVC, real MLflow store, real slides; slide-level work in process (HOOKSEG_WORKERS=0) to keep it short.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("hookseg", "pseudo_label", "stylegan_aug", "configs"):
        shutil.copytree(REPO / folder, root / folder, ignore=ignore)  # the stages' code dependencies
    shutil.copy(REPO / "dvc.yaml", root / "dvc.yaml")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["profile"] = "configs/smoke.yaml"
    # seed 3, 3 pool slides: Ki67/A and ER/C train unannotated (ER/C: the StyleGAN target), Ki67/B test
    params["cohort"].update({"slides": 6, "unlabelled": 3, "new_domain": 2, "size": 1024, "seed": 3})
    params["train_base"]["epochs"] = 1
    params["controls"]["steps_epochs"] = 2
    params["stylegan"].update({"profile": "smoke", "steps": 4})
    params["distill"].update({"epochs": 1, "steps_per_epoch": 3})
    # Two phases keep the suite short (the lineage and the manual control each train every phase): p1 as in
    # params.yaml, then p2 with the last phase's settings (the StyleGAN bank, pixel weights), shipped.
    repo = params["phases"]
    # Both kinds of phase, whatever params.yaml's default: p1 thresholded pseudo-labels only (Table 8), p2
    # half soft targets (p1's softmax on any training tissue) and the rest manual labels.
    params["phases"] = {"p1": {**repo["p1"], "soft_share": 0.0, "hard_labels": "pseudo"},
                        "p2": {**repo[params["final"]], "prev": "p1", "init": "p1",
                               "soft_share": 0.5, "hard_labels": "manual"}}
    params["final"] = "p2"
    for phase in params["phases"].values():
        phase["epochs"] = 1
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1",
           "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}", "HOOKSEG_WORKERS": "0",
           "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow", "NO_ALBUMENTATIONS_UPDATE": "1"}
    env.pop("HOOKSEG_PARENT_RUN_ID", None)
    subprocess.run([BIN / "dvc", "init", "--no-scm", "-q"], cwd=root, env=env, check=True)
    result = subprocess.run([BIN / "hookseg", "pipeline", "run"], cwd=root, env=env, capture_output=True,
                            text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return root, env, result


def dvc(root, env, *args):
    return subprocess.run([BIN / "dvc", *args], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)


def test_every_stage_ran_and_the_phase_table_exists(project):
    root, _, result = project
    table = json.loads((root / "metrics" / "phases.json").read_text())
    assert list(table) == ["base", "p1", "p2", "control_steps", "control_manual", "student"]
    for model in table.values():
        assert set(model) == {"test", "new_domain"}
        assert 0.0 <= model["test"]["mean_iou"] <= 1.0
    text = (root / "metrics" / "phases.md").read_text()
    assert "| p2 | new_domain |" in text
    assert "| control_manual | test |" in text and "p2 against the controls" in text
    for other in ("control_steps", "control_manual", "student"):
        assert table["p2"]["test"][f"vs_{other}"]["slides"] == table["p2"]["test"]["slides"]
    assert "p2 against the students distilled from it" in text
    student = json.loads((root / "metrics" / "student.json").read_text())
    assert (student["epochs"] * student["steps_per_epoch"], student["encoder"]) == (3, "mnv3s"), student
    assert student["teacher"].endswith("p2.keras"), student
    # the steps control's budget is printed beside the lineage's: smoke base 1 epoch, 2 phases x 1 epoch
    smoke = yaml.safe_load((root / "configs" / "smoke.yaml").read_text())
    base, master = (smoke[s]["train"]["steps_per_epoch"] for s in ("base", "master"))
    assert f"Optimiser steps: lineage {base + 2 * master} " in text
    assert f"control_steps {2 * base}." in text
    assert json.loads((root / "metrics" / "control_steps.json").read_text())["epochs"] == 2
    soft = json.loads((root / "metrics" / "p2.json").read_text())
    assert (soft["teacher"], soft["soft_share"]) == ("models/p1.keras", 0.5), soft
    assert (root / "work" / "p2" / "labels" / "class_map.json").exists()  # manual labels rasterised there
    manual = json.loads((root / "metrics" / "manual" / "p1.json").read_text())
    assert manual["init"] == "warm_start"  # the manual chain starts where the lineage starts
    new_domain = sorted(p.name for p in (root / "predictions" / "new_domain").iterdir() if p.is_dir())
    assert len(new_domain) == 2
    assert (root / "predictions" / "new_domain" / new_domain[0] / "regions.geojson").exists()
    assert "mlflow ui" in result.stdout


def test_the_last_phase_draws_from_the_stylegan_stage_bank(project):
    root, _, result = project
    bank = json.loads((root / "stylegan" / "bank.json").read_text())
    assert bank["generators"] == ["generator"]
    meta = json.loads((root / "stylegan" / "generator" / "stylegan.json").read_text())
    assert meta["targets"] == ["scanner=C"]
    lock = yaml.safe_load((root / "dvc.lock").read_text())["stages"]
    for phase, uses_bank in {"p1": False, "p2": True}.items():
        deps = {d["path"] for d in lock[f"train@{phase}"]["deps"]}
        assert ("stylegan/bank.json" in deps) is uses_bank, (phase, deps)
    # the generator really ran inside the phase's loader (the `gan` slot fired at least once)
    assert "style bank: loaded 1 generator(s)" in result.stdout + result.stderr


def test_rerun_is_a_no_op_and_a_phase_change_reruns_only_its_descendants(project):
    root, env, _ = project
    status = dvc(root, env, "status")
    assert status.returncode == 0
    assert "up to date" in status.stdout
    text = (root / "params.yaml").read_text()
    params = yaml.safe_load(text)
    params["phases"]["p2"]["threshold"] = 0.45
    try:
        (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        changed = dvc(root, env, "status", "--json")
    finally:
        (root / "params.yaml").write_text(text)
    assert changed.returncode == 0
    # Only the stage that reads the threshold is stale (not phase 1, not train@p2: its keys are the same),
    # and report, which reads the phase list from `phases`; `dvc repro` reruns them and what they change.
    assert set(json.loads(changed.stdout)) == {"pseudo@p2", "report"}


def test_metrics_and_plots_show(project):
    root, env, _ = project
    metrics = dvc(root, env, "metrics", "show")
    assert metrics.returncode == 0, metrics.stderr
    assert "mean_iou" in metrics.stdout
    plots = dvc(root, env, "plots", "show", "-o", str(root / "plots_html"))
    assert plots.returncode == 0, plots.stderr
    assert (root / "plots_html" / "index.html").exists()


def test_mlflow_has_a_parent_run_with_a_child_per_stage(project):
    import mlflow

    root, _, _ = project
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    parents = [r for r in runs if r.data.tags.get("stage") == "pipeline"]
    assert len(parents) == 1
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    stages = {r.data.tags["stage"] for r in children}
    assert {"stylegan", "base", "p1", "p2", "evaluate-base", "evaluate-p2", "report"} <= stages
    assert {"control-steps", "manual-p1", "manual-p2", "evaluate-control_manual"} <= stages
    assert {"student", "evaluate-student"} <= stages
    last = next(r for r in children if r.data.tags["stage"] == "p2")
    assert last.data.params["train.style_bank"] == "stylegan/bank.json"
    evaluation = next(r for r in children if r.data.tags["stage"] == "evaluate-p2")
    assert any(k.startswith("iou.tumour.test.stain.") for k in evaluation.data.metrics)
    assert "mean_iou.new_domain" in evaluation.data.metrics


def test_a_code_edit_makes_the_stages_that_import_it_stale(project):
    """hookseg/losses.py is imported by training (the loss) and by loading models (custom objects)."""
    root, env, _ = project
    losses = root / "hookseg" / "losses.py"
    source = losses.read_text()
    assert json.loads(dvc(root, env, "status", "--json").stdout) == {}
    try:
        losses.write_text(source + "\n# edited\n")
        changed = dvc(root, env, "status", "--json")
        assert changed.returncode == 0, changed.stderr
        stale = set(json.loads(changed.stdout))
    finally:
        losses.write_text(source)
    phases = ["p1", "p2"]
    assert {"train_base", *(f"train@{p}" for p in phases), *(f"evaluate@{p}" for p in phases)} <= stale
    assert not {"cohort", "stylegan", "report"} & stale


def test_the_never_seen_domain_feeds_no_training_stage(project):
    """Its pixels reach evaluate and predict_new only: no pseudo-label, no StyleGAN pool, no index."""
    from hookseg.cohort import read_manifest

    root, _, _ = project
    manifest = read_manifest(root / "data" / "cohort" / "manifest.csv")
    held_out = {r.slide_id for r in manifest.split("test", "new_domain")}
    labelled = {p.stem for p in (root / "pseudo").glob("p*/*.tiff")}
    assert labelled and not labelled & held_out
    unannotated = {r.slide_id for r in manifest.split("train") if r.annotations is None}
    assert unannotated and unannotated <= {p.stem for p in (root / "pseudo" / "p1").glob("*.tiff")}
    gan = yaml.safe_load((root / "configs" / "stylegan.yaml").read_text())
    assert all(set(profile["data"]["splits"]) <= {"train", "val"} for profile in gan.values())
    import pandas as pd

    for index in (root / "work").rglob("index_*.parquet"):
        assert not set(pd.read_parquet(index)["slide_id"]) & held_out, index
