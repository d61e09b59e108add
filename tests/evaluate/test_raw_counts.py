"""Counts before and after post-processing, from one stored prediction: the clean-up's cost is visible."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from hookseg.annotations import ClassMap
from hookseg.cohort import read_manifest
from hookseg.evaluate.counts import Counts
from hookseg.evaluate.fine import fine_classes, fine_rows
from hookseg.evaluate.slide_counts import slide_counts
from hookseg.evaluate.tables import summary
from hookseg.evaluate.truth import truth_rows
from hookseg.infer.outputs import SlideOutputs
from hookseg.infer.params import InferParams
from hookseg.infer.postprocess import clean_regions, labels_from_probs
from hookseg.infer.writers import write_probability_tiffs
from hookseg.sampling import write_label_raster
from tests.factories import banded_cohort

OUT_MPP = 2.0  # the prediction grid; the banded slide is 1 um/px, its truth 2 um/px


def _stored_prediction(tmp_path, dot: tuple[int, int, int], side: int = 3):
    """A prediction equal to the truth except a ``dot`` (class, row, col) side x side spot; labels
    post-processed."""
    manifest = read_manifest(banded_cohort(tmp_path / "cohort", {"t1": "test"}, size=(768, 512)))
    record = manifest.records[0]
    class_map = ClassMap.default()
    truth = truth_rows(record, class_map, OUT_MPP, 1.0)(0, 256, 384)
    probs = np.zeros((256, 384, 3), np.uint8)
    probs[..., 0] = 255
    valid = truth < 3
    probs[valid] = 0
    probs[valid, truth[valid]] = 255
    cls, r, c = dot
    probs[r : r + side, c : c + side] = 0
    probs[r : r + side, c : c + side, cls] = 230
    params = dataclasses.replace(InferParams.load(), mode="argmax", hysteresis=None, fill_holes_um2=0.0,
                                 min_region_um2=2000.0)
    raw = labels_from_probs(probs, params, class_map.names)
    post = clean_regions(raw, probs.astype(np.float32) / 255, params, OUT_MPP**2)
    outputs = SlideOutputs(tmp_path / "pred" / "t1")
    outputs.folder.mkdir(parents=True)
    write_label_raster(outputs.labels, post, mpp=OUT_MPP)
    write_probability_tiffs(outputs.probability_parts(3), probs, OUT_MPP)
    return record, outputs, class_map, params, truth


def test_a_small_spurious_region_counts_raw_but_not_after_post_processing(tmp_path):
    # 3x3 px at 2 um/px = 36 um^2 of tumour inside the background band: below min_region_um2 (2000)
    record, outputs, class_map, params, truth = _stored_prediction(tmp_path, (1, 100, 40))
    assert truth[100, 40] == 0
    counts = slide_counts(record, outputs, class_map, params, rows_per_block=64)
    off_diagonal = counts.confusion.sum() - np.trace(counts.confusion)
    assert off_diagonal == 0  # post-processing removed the spot: a perfect label map
    assert counts.raw_confusion[0, 1] == 9  # before it, the spot's 9 pixels are background called tumour
    assert counts.raw_confusion.sum() == counts.confusion.sum()
    scores = summary(counts, class_map.names)
    assert scores["tumour"]["iou"] == 1.0
    assert scores["tumour"]["iou_raw"] < 1.0
    assert scores["mean_iou_raw"] < scores["mean_iou"]


def test_raw_labels_follow_the_prediction_settings(tmp_path):
    # threshold mode: the spot's tumour probability (230/255 = 0.90) is below 0.95, so raw calls it background
    record, outputs, class_map, params, _ = _stored_prediction(tmp_path, (1, 100, 40))
    strict = dataclasses.replace(params, mode="threshold", thresholds={"tumour": 0.95, "other": 0.5})
    counts = slide_counts(record, outputs, class_map, strict)
    assert counts.raw_confusion[0, 1] == 0
    assert np.trace(counts.raw_confusion) == counts.raw_confusion.sum()


def test_counts_round_trip_with_raw_and_old_files_load_without_it():
    counts = Counts.zeros(3)
    truth = np.array([[0, 1, 2, 255]], np.uint8)
    counts.add(truth, np.array([[0, 1, 1, 0]], np.uint8), np.zeros((1, 4, 3), np.uint8),
               raw=np.array([[0, 2, 2, 0]], np.uint8))
    assert counts.confusion[2, 1] == 1 and counts.raw_confusion[1, 2] == 1
    again = Counts.from_dict(json.loads(json.dumps(counts.to_dict())))
    np.testing.assert_array_equal(again.raw_confusion, counts.raw_confusion)
    old = counts.to_dict()
    del old["raw_confusion"]
    assert Counts.from_dict(old).raw_confusion is None
    np.testing.assert_array_equal((counts + counts).raw().confusion, 2 * counts.raw_confusion)


def test_fine_labels_say_which_part_of_a_class_was_missed(tmp_path):
    # A 40x40 px (6400 um^2, kept by post-processing) tumour spot inside the DCIS band (fine code 3, clubbed
    # into "other"): the class confusion says "other" lost 1600 px to tumour, the fine rows say it was DCIS.
    record, outputs, class_map, params, truth = _stored_prediction(tmp_path, (1, 100, 300), side=40)
    assert truth[100, 300] == 2
    counts = slide_counts(record, outputs, class_map, params)
    assert counts.fine is not None and set(counts.fine) == {"glass", "tumour", "stroma", "dcis"}
    other, tumour = class_map.names.index("other"), class_map.names.index("tumour")
    assert counts.confusion[other, tumour] == 1600
    assert counts.fine["dcis"][tumour] == 1600
    rows = {r["label"]: r for r in fine_rows(counts.fine, fine_classes(list(counts.fine), class_map),
                                             class_map.names)}
    assert rows["dcis"]["class"] == "other"
    assert rows["dcis"]["as_tumour"] == pytest.approx(1600 / counts.confusion[other].sum(), abs=1e-4)
    assert rows["stroma"]["class"] == "background" and rows["stroma"]["recall"] == 1.0
    assert rows["tumour"]["recall"] == 1.0
    # the fine rows split the class confusion, they do not add to it
    assert counts.fine["dcis"].sum() == counts.confusion[other].sum()
    assert sum(r["pixels"] for r in rows.values() if r["class"] == "background") == counts.confusion[0].sum()


def test_fine_counts_charge_a_miss_to_its_fine_label():
    counts = Counts.zeros(3)
    codes = np.array([[1, 1, 2, 3, 3, 3, 0]], np.uint8)
    predicted = np.array([[1, 1, 0, 2, 1, 1, 0]], np.uint8)
    names = {0: "glass", 1: "tumour", 2: "stroma", 3: "dcis"}
    counts.add_fine(codes, predicted, names)
    counts.add_fine(codes[:, :1], predicted[:, :1], names)
    np.testing.assert_array_equal(counts.fine["dcis"], [0, 2, 1])
    np.testing.assert_array_equal(counts.fine["tumour"], [0, 3, 0])
    rows = fine_rows(counts.fine, {"glass": "background", "tumour": "tumour", "stroma": "background",
                                   "dcis": "other"}, ("background", "tumour", "other"))
    assert [r["label"] for r in rows] == ["glass", "stroma", "tumour", "dcis"]  # by class, then name
    dcis = rows[-1]
    assert dcis["recall"] == pytest.approx(1 / 3, abs=1e-4)
    assert dcis["as_tumour"] == pytest.approx(2 / 3, abs=1e-4)
    # round trip, merge, and counts from before fine counting load as "not counted"
    again = Counts.from_dict(json.loads(json.dumps(counts.to_dict())))
    np.testing.assert_array_equal((again + counts).fine["dcis"], [0, 4, 2])
    old = counts.to_dict()
    del old["fine"]
    assert Counts.from_dict(old).fine is None
    assert (Counts.from_dict(old) + Counts.from_dict(old)).fine is None
