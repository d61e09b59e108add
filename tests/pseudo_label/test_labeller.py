from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import shapely

from hookseg.annotations import Annotation, AnnotationSet, write_annotations
from hookseg.cohort.manifest import SlideRecord
from hookseg.evaluate.truth import fine_tables
from hookseg.sampling import open_labels, read_labels
from pseudo_label.labeller import confident_labels, label_slide
from pseudo_label.quality import QualityCounts, summarise
from tests.factories import banded_slide


def test_confident_labels_keep_only_sure_pixels():
    probs = np.array([[[250, 3, 2], [120, 100, 35], [0, 0, 255]]], np.uint8)
    np.testing.assert_array_equal(confident_labels(probs, 0.9), [[0, 255, 2]])
    np.testing.assert_array_equal(confident_labels(probs, 0.4), [[0, 0, 2]])


@pytest.fixture(scope="module")
def annotated_slide(tmp_path_factory):
    folder = tmp_path_factory.mktemp("annotated")
    slide, _ = banded_slide(folder, "s", size=(768, 512), mpp=1.0)
    # The pathologist says a square inside the tumour band is DCIS: manual labels must win over the model.
    square = shapely.box(300, 100, 400, 200)
    path = write_annotations(AnnotationSet([Annotation(square, "dcis")]), folder / "s.geojson")
    return SlideRecord("s", slide, "ER", "A", "DS1", "train", "P1", path)


def test_label_slide_thresholds_and_manual_override(colour_model, annotated_slide, tmp_path):
    model, meta, _ = colour_model
    strict = label_slide(model, meta, annotated_slide, 0.999, tmp_path / "strict.tiff")
    loose = label_slide(model, meta, annotated_slide, 0.5, tmp_path / "loose.tiff")
    assert loose["labelled_fraction"] > strict["labelled_fraction"]
    assert json.loads((tmp_path / "loose.json").read_text()) == loose
    with open_labels(tmp_path / "loose.tiff") as raster:
        assert raster.mpp == meta.fov.mpp
        labels = read_labels(raster, (0, 0), raster.dimensions, raster.mpp)
    # Raster pixels are 2 slide px: the DCIS square spans raster [150, 200) x [50, 100).
    assert (labels[55:95, 155:195] == 2).all()
    assert (labels[55:95, 130:145] == 1).mean() > 0.95  # the tumour band around it stays tumour
    assert loose["manual_fraction"] == pytest.approx(50 * 50 / labels.size, rel=0.05)


def test_label_slide_measures_its_labels_against_truth_and_held_out_annotations(colour_model, annotated_slide,
                                                                                tmp_path):
    model, meta, _ = colour_model
    folder = annotated_slide.path.parent
    held_out = replace(annotated_slide, split="val", ground_truth=folder / "gt" / "s.tiff")
    summary = label_slide(model, meta, held_out, 0.5, tmp_path / "val.tiff")
    counts = QualityCounts.from_json(summary["quality"])
    report = summarise(counts, meta.class_map.names, *fine_tables(held_out.ground_truth, meta.class_map))
    # The colour model is right wherever it labels; the annotated DCIS square is not counted against truth.
    for name in ("background", "tumour", "other"):
        assert report["truth"][name]["precision"] > 0.95
    assert report["fine"]["dcis"]["as_other"] > 0.95
    # On the held-out annotation the model said tumour (the square lies in the tumour band): all wrong.
    assert report["held_out"]["other"]["recall"] < 0.05
    assert report["held_out"]["tumour"]["true_pixels"] == 0
    # A training slide's annotations are not held out: nothing counted.
    train = label_slide(model, meta, annotated_slide, 0.5, tmp_path / "train.tiff")
    assert not np.asarray(train["quality"]["held_out"]).any()


def test_per_class_thresholds_label_each_class_at_its_own_threshold():
    probs = np.array([[[200, 55, 0], [55, 200, 0], [0, 55, 200]]], np.uint8)
    np.testing.assert_array_equal(confident_labels(probs, [0.7, 0.9, 2.0]), [[0, 255, 255]])
    np.testing.assert_array_equal(confident_labels(probs, [0.9, 0.7, 0.7]), [[255, 1, 2]])
    with pytest.raises(ValueError, match=r"^thresholds: expected one per class \(3\)"):
        confident_labels(probs, [0.5, 0.5])


def _annotated_val_cohort(folder):
    """Slides a (train) and v (val); v's annotations mark background and tumour, never 'other'."""
    import csv

    from tests.factories import banded_cohort, write_manifest_rows

    manifest = banded_cohort(folder, {"a": "train", "v": "val"}, size=(768, 512))
    boxes = [Annotation(shapely.box(20, 20, 200, 400), "background"),
             Annotation(shapely.box(300, 20, 480, 400), "tumour")]
    write_annotations(AnnotationSet(boxes), folder / "v.geojson")
    rows = list(csv.DictReader(manifest.open()))
    for row in rows:
        row["annotations"] = "v.geojson" if row["slide_id"] == "v" else ""
    return write_manifest_rows(manifest, rows)


def test_calibrated_cohort_labels_only_classes_that_reach_the_target_and_predicts_val_once(
    colour_model, tmp_path, monkeypatch,
):
    from hookseg.cohort import read_manifest
    from pseudo_label.calibrate import NEVER, threshold_bin
    from pseudo_label.runner import LabelOptions, label_cohort

    _, meta, model_path = colour_model
    manifest = read_manifest(_annotated_val_cohort(tmp_path / "cohort"))
    options = LabelOptions(0.6, target_precision=0.9, min_support=500)
    done, failures = label_cohort(model_path, manifest, 0.6, tmp_path / "out", workers=0, options=options)
    assert not failures and sorted(done) == ["a", "v"]
    calibration = json.loads((tmp_path / "out" / "calibration.json").read_text())
    assert calibration["held_out_slides"] == ["v"]
    # The colour model is right on its annotated bands: the floor. 'other' was never annotated: no labels.
    assert calibration["thresholds"]["tumour"] == pytest.approx(threshold_bin(0.6) / 255)
    assert calibration["thresholds"]["other"] == NEVER
    assert calibration["unlabelled_classes"] == ["other"]
    with open_labels(done["a"]) as raster:
        labels = read_labels(raster, (0, 0), raster.dimensions, raster.mpp)
    assert (labels == 1).any() and not (labels == 2).any()
    val = json.loads(done["v"].with_suffix(".json").read_text())
    assert val["reused_probabilities"] and val["predict_s"] == 0.0  # pass 1's prediction, not a second one
    assert not list((tmp_path / "out").glob(".*.npy*"))  # scratch files are gone
    # A rerun with the same options resumes: calibration.json is reused, nothing is predicted again.
    monkeypatch.setattr("pseudo_label.runner.calibrate_task", None)
    again, _ = label_cohort(model_path, manifest, 0.6, tmp_path / "out", workers=0, options=options)
    assert again == done
    plain, _ = label_cohort(model_path, manifest, 0.6, tmp_path / "plain", workers=0)
    with open_labels(plain["a"]) as raster:
        assert (read_labels(raster, (0, 0), raster.dimensions, raster.mpp) == 2).any()
    assert not (tmp_path / "plain" / "calibration.json").exists()


def test_labels_of_another_model_are_made_again_not_resumed(colour_model, tmp_path):
    """A rerun resumes only the labels its own model and options made (``provenance.json``)."""
    from dataclasses import replace

    from hookseg.cohort import read_manifest
    from hookseg.infer.provenance import model_hashes
    from hookseg.model_io import save_model
    from pseudo_label.runner import label_cohort

    model, meta, first = colour_model
    second = save_model(model, tmp_path / "second.keras", replace(meta, stage="another"))
    manifest = read_manifest(_annotated_val_cohort(tmp_path / "cohort"))
    out = tmp_path / "out"
    done, _ = label_cohort(first, manifest, 0.6, out, workers=0)
    summary = done["a"].with_suffix(".json")
    made = summary.stat().st_mtime_ns
    assert label_cohort(first, manifest, 0.6, out, workers=0)[0] == done
    assert summary.stat().st_mtime_ns == made  # resumed: nothing labelled again
    label_cohort(second, manifest, 0.6, out, workers=0)
    assert summary.stat().st_mtime_ns != made  # another model: labelled again
    recorded = json.loads((out / "provenance.json").read_text())
    assert recorded["model_sha256"] == model_hashes(second)["model_sha256"]
    label_cohort(second, manifest, 0.7, out, workers=0)  # other options: labelled again too
    assert json.loads(summary.read_text())["threshold"] == 0.7
