"""End to end: predict a banded cohort and score it against full ground-truth rasters."""

from __future__ import annotations

import csv
import json
import math

import pytest

from hookseg.cli import main
from hookseg.evaluate.per_slide import read_slides
from tests.factories import banded_cohort


def test_evaluate_cohort_tables_plots_metrics(colour_model, tmp_path, capsys):
    _, _, model_path = colour_model
    manifest = banded_cohort(tmp_path / "cohort", {"t1": "test", "t2": "test", "n1": "new_domain"},
                             size=(768, 512))
    out = tmp_path / "eval"
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(model_path),
                "--manifest",
                str(manifest),
                "--split",
                "test,new_domain",
                "--out",
                str(out),
                "--workers",
                "0",
                "--no-mlflow",
            ]
        )
        == 0
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["slides"] == 2
    assert metrics["new_domain"]["slides"] == 1
    # The colour model is right by construction, up to band edges and the postprocessing grid.
    assert metrics["test"]["mean_iou"] > 0.9
    assert metrics["test"]["tumour"]["auc"] > 0.98
    rows = list(csv.DictReader((out / "tables.csv").open()))
    stains = {r["value"] for r in rows if r["group"] == "stain" and r["cohort"] == "test"}
    assert stains == {"ER", "HER2"}
    all_tumour = next(
        r for r in rows if r["group"] == "all" and r["class"] == "tumour" and r["cohort"] == "test"
    )
    # Two test slides: fewer than MIN_SLIDES_FOR_CI, so no interval rather than a 3-resample artefact.
    assert math.isnan(float(all_tumour["iou_ci_low"])) and math.isnan(float(all_tumour["iou_ci_high"]))
    assert (out / "plots" / "threshold_test_tumour.png").exists()
    sweep = list(csv.DictReader((out / "plots" / "threshold_test_tumour.csv").open()))
    assert [float(r["threshold"]) for r in sweep] == pytest.approx([0.1 * i for i in range(1, 10)])
    assert "test: 2 slides, mean IoU" in capsys.readouterr().out
    # before post-processing too, and per slide for `hookseg report`
    assert 0.9 < metrics["test"]["mean_iou_raw"] <= 1.0
    assert 0.9 < metrics["test"]["tumour"]["iou_raw"] <= 1.0
    assert float(all_tumour["iou_raw"]) == metrics["test"]["tumour"]["iou_raw"]
    slides = read_slides(out / "slides.json")
    assert slides.ids == ("t1", "t2", "n1") and slides.cohorts == ("test", "test", "new_domain")
    assert slides.tags[1]["stain"] == "HER2"
    assert slides.confusion.sum() == slides.raw_confusion.sum() > 0
    # per fine ground-truth label (the banded truth: glass, stroma, tumour, dcis), in metrics and report
    assert set(metrics["test"]["fine_recall"]) == {"glass", "stroma", "tumour", "dcis"}
    assert metrics["test"]["fine_recall"]["dcis"] > 0.9
    assert "test: where each fine ground-truth label went" in (out / "report.md").read_text()
    assert set(slides.fine[0]) == {"glass", "stroma", "tumour", "dcis"}
    assert slides.fine_classes["dcis"] == "other"
    # counts cached before raw (or fine) counting existed are counted again, not reported without it
    cached = out / "predictions" / "t1" / "counts.json"
    for key in ("raw_confusion", "fine"):
        old = json.loads(cached.read_text())
        del old[key]
        cached.write_text(json.dumps(old))
        assert main(["evaluate", "--model", str(model_path), "--manifest", str(manifest), "--split", "test",
                     "--out", str(out), "--workers", "0", "--no-mlflow"]) == 0
        assert key in json.loads(cached.read_text())
    assert read_slides(out / "slides.json").ids == ("t1", "t2")


def test_each_split_is_its_own_cohort(colour_model, tmp_path, capsys):
    """`--split val` reports a val cohort; a val slide is never scored as test."""
    _, _, model_path = colour_model
    manifest = banded_cohort(tmp_path / "cohort", {"v1": "val", "t1": "test"}, size=(512, 512))
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(model_path), "--manifest", str(manifest), "--split", "val",
                 "--out", str(out), "--workers", "0", "--no-mlflow"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"val"} and metrics["val"]["slides"] == 1
    assert "val: 1 slides, mean IoU" in capsys.readouterr().out
    assert read_slides(out / "slides.json").cohorts == ("val",)
    assert "## val (1 slides)" in (out / "report.md").read_text()


def test_another_model_into_the_same_folder_is_predicted_again(colour_model, tmp_path):
    """Finished predictions are reused only for the model (and settings) that made them."""
    from dataclasses import replace

    from hookseg.infer.provenance import model_hashes
    from hookseg.model_io import save_model

    model, meta, first = colour_model
    second = save_model(model, tmp_path / "second.keras", replace(meta, stage="another"))
    manifest = banded_cohort(tmp_path / "cohort", {"t1": "test"}, size=(512, 512))
    out = tmp_path / "eval"

    def evaluate(path) -> dict:
        assert main(["evaluate", "--model", str(path), "--manifest", str(manifest), "--split", "test",
                     "--out", str(out), "--workers", "0", "--no-mlflow"]) == 0
        return json.loads((out / "predictions" / "t1" / "provenance.json").read_text())

    made_by_first = evaluate(first)
    assert made_by_first["model_sha256"] == model_hashes(first)["model_sha256"]
    summary = out / "predictions" / "t1" / "summary.json"
    finished_at = summary.stat().st_mtime_ns
    assert evaluate(first) == made_by_first and summary.stat().st_mtime_ns == finished_at  # reused
    assert evaluate(second)["model_sha256"] == model_hashes(second)["model_sha256"]
    assert summary.stat().st_mtime_ns != finished_at  # predicted again, not scored from the first model's
