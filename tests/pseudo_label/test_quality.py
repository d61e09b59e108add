"""Pseudo-label quality counts: precision, coverage and where each fine label went."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pseudo_label.quality import QualityCounts, flat_metrics, summarise

NAMES = ("background", "tumour", "other")
IGNORE = 255


def _lut() -> np.ndarray:
    lut = np.full(256, IGNORE, np.uint8)
    lut[[1, 2, 3, 4]] = [0, 1, 2, 2]  # stroma, tumour, dcis, duct
    return lut


def test_truth_scores_count_only_model_made_pixels() -> None:
    fine = np.array([[1, 1, 2, 2], [3, 3, 4, 4]], np.uint8)
    pseudo = np.array([[0, IGNORE, 1, 1], [1, 2, 2, IGNORE]], np.uint8)
    model_made = np.ones_like(fine, bool)
    model_made[0, 0] = False  # an annotated pixel: right by definition, not counted
    counts = QualityCounts(3, IGNORE)
    counts.add_truth(pseudo, fine, model_made)
    report = summarise(counts, NAMES, _lut(), {1: "stroma", 2: "tumour", 3: "dcis", 4: "duct"})
    tumour = report["truth"]["tumour"]
    # labelled tumour: two true tumour pixels + one dcis pixel
    assert tumour["precision"] == pytest.approx(2 / 3)
    assert tumour["recall"] == pytest.approx(1.0)
    other = report["truth"]["other"]
    assert other["precision"] == pytest.approx(1.0)
    assert other["coverage"] == pytest.approx(3 / 4)  # one duct pixel ignored
    assert other["recall"] == pytest.approx(2 / 4)
    assert report["truth"]["background"]["coverage"] == pytest.approx(0.0)  # its one pixel ignored
    assert report["fine"]["dcis"]["as_tumour"] == pytest.approx(0.5)
    assert report["fine"]["duct"]["ignored"] == pytest.approx(0.5)


def test_held_out_counts_model_labels_on_annotations_and_merges() -> None:
    model = np.array([1, 1, 0, IGNORE], np.uint8)
    annotation = np.array([1, 2, 0, 2], np.uint8)
    one = QualityCounts(3, IGNORE)
    one.add_held_out(model, annotation)
    both = one.merge(one)
    report = summarise(both, NAMES)
    assert report["held_out"]["tumour"]["precision"] == pytest.approx(0.5)
    assert report["held_out"]["other"]["coverage"] == pytest.approx(0.5)
    assert report["held_out"]["other"]["true_pixels"] == 4
    assert "truth" not in report


def test_json_round_trip_and_flat_names() -> None:
    counts = QualityCounts(3, IGNORE)
    counts.add_truth(np.array([1, 2], np.uint8), np.array([2, 3], np.uint8), np.array([True, True]))
    again = QualityCounts.from_json(counts.to_json())
    np.testing.assert_array_equal(again.truth, counts.truth)
    flat = flat_metrics(summarise(again, NAMES, _lut(), {2: "tumour", 3: "dcis"}))
    assert flat["pseudo.truth.tumour.precision"] == 1.0
    assert flat["pseudo.fine.dcis.as_other"] == 1.0


def test_pseudo_label_cli_reports_quality_per_class_and_fine_label(colour_model, tmp_path, capsys):
    from hookseg.cli import main as hookseg_main
    from tests.factories import banded_cohort

    _, meta, model_path = colour_model
    manifest = banded_cohort(tmp_path / "cohort", {"a": "train", "b": "val"}, size=(768, 512))
    out, metrics = tmp_path / "pseudo", tmp_path / "quality_metrics.json"
    code = hookseg_main(["pseudo-label", "--model", str(model_path), "--manifest", str(manifest),
                         "--threshold", "0.5", "--out", str(out), "--metrics", str(metrics), "--workers", "0",
                         "--no-mlflow"])
    assert code == 0
    report = json.loads((out / "quality.json").read_text())
    assert report["slides_with_truth"] == 2
    # The colour model labels every band right wherever it is sure.
    for name in meta.class_map.names:
        assert report["truth"][name]["precision"] > 0.95
    assert report["fine"]["dcis"]["as_other"] > 0.95
    flat = json.loads(metrics.read_text())
    assert flat["threshold"] == 0.5
    precision = report["truth"]["tumour"]["precision"]
    assert flat["pseudo.truth.tumour.precision"] == pytest.approx(precision, abs=1e-4)
    assert "| tumour |" in (out / "quality.md").read_text()
    assert "Pseudo-labels against the full ground truth" in capsys.readouterr().out
