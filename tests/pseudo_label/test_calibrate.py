"""Per-class thresholds calibrated on held-out annotations: the smallest threshold reaching the target."""

from __future__ import annotations

import numpy as np
import pytest

from pseudo_label.calibrate import (
    NEVER,
    Calibration,
    add_to_histogram,
    choose_thresholds,
    empty_histogram,
    precision_curve,
    threshold_bin,
)

NAMES = ("background", "tumour", "other")


def _histogram() -> np.ndarray:
    """Background: right everywhere. Tumour: right 100 px per bin from 128 up, 1000 wrong px at bin 199
    and 300 wrong px per bin below it. Other: as often wrong as right at every bin (never 0.9 precise)."""
    hist = empty_histogram(3)
    hist[0, 1, 100:] = 50
    hist[1, 1, 128:] = 100
    hist[1, 0, 199] = 1000
    hist[1, 0, 128:199] = 300
    hist[2, :, 128:] = 40
    return hist


def test_the_smallest_threshold_reaching_the_target_is_chosen():
    hist = _histogram()
    chosen = choose_thresholds(hist, NAMES, floor=0.5, target=0.9, min_support=1000)
    tumour = round(chosen.thresholds[1] * 255)
    precision, support = precision_curve(hist[1])
    assert precision[tumour] >= 0.9 and support[tumour] >= 1000
    assert (precision[threshold_bin(0.5) : tumour] < 0.9).all()  # nothing below it reaches the target
    assert tumour == 200  # the wrong pixels stop at bin 199 by construction
    assert chosen.thresholds[0] == pytest.approx(threshold_bin(0.5) / 255)  # right everywhere: the floor
    assert chosen.thresholds[2] == NEVER


def test_the_phase_threshold_stays_the_floor():
    chosen = choose_thresholds(_histogram(), NAMES, floor=0.9, target=0.9, min_support=1000)
    assert round(chosen.thresholds[1] * 255) == threshold_bin(0.9) > 200


def test_a_class_without_enough_support_gets_no_labels():
    hist = empty_histogram(3)
    hist[1, 1, 250:] = 100  # 600 px, all right, but fewer than min_support
    chosen = choose_thresholds(hist, NAMES, floor=0.5, target=0.9, min_support=1000)
    assert chosen.thresholds == (NEVER, NEVER, NEVER)
    assert chosen.to_json()["unlabelled_classes"] == list(NAMES)
    relaxed = choose_thresholds(hist, NAMES, floor=0.5, target=0.9, min_support=500)
    assert relaxed.thresholds[1] == pytest.approx(threshold_bin(0.5) / 255)  # 600 px above the floor, right
    assert "none (no pseudo-labels)" in relaxed.lines()[0]


def test_calibration_round_trips_through_json():
    chosen = choose_thresholds(_histogram(), NAMES, floor=0.6, target=0.95)
    assert Calibration.from_json(chosen.to_json()) == chosen


def test_histogram_counts_annotated_pixels_by_predicted_class_probability_and_correctness():
    probs = np.array([[[200, 55, 0], [10, 240, 5], [10, 240, 5], [0, 0, 255]]], np.uint8)
    annotation = np.array([[0, 1, 2, 255]], np.uint8)  # right, right, wrong, not annotated
    hist = empty_histogram(3)
    add_to_histogram(hist, probs, annotation, np.ones((1, 4), bool))
    assert hist.sum() == 3
    assert hist[0, 1, 200] == 1 and hist[1, 1, 240] == 1 and hist[1, 0, 240] == 1
    skip_first = np.array([[False, True, True, True]])
    again = empty_histogram(3)
    add_to_histogram(again, probs, annotation, skip_first)
    assert again.sum() == 2 and again[0].sum() == 0
