from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import shapely

from hookseg.annotations import Annotation, AnnotationSet, write_annotations
from hookseg.cohort.manifest import SlideRecord
from hookseg.sampling import open_labels, read_labels
from pseudo_label.labeller import confident_labels, label_slide
from pseudo_label.quality import QualityCounts, fine_tables, summarise
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
