"""Region clean-up removes what is small, right or wrong: the reason evaluation reports IoU before it too."""

from __future__ import annotations

import dataclasses

import numpy as np

from hookseg.infer.params import InferParams
from hookseg.infer.postprocess import clean_regions

PIXEL_UM2 = 4.0  # a 2 um/px grid


def _params(**changes) -> InferParams:
    base = dict(mode="argmax", hysteresis=None, min_region_um2=2000.0, fill_holes_um2=0.0)
    return dataclasses.replace(InferParams.load(), **{**base, **changes})


def _square_labels(pixels: int, cls: int = 1) -> np.ndarray:
    labels = np.zeros((100, 100), np.uint8)
    side = int(np.sqrt(pixels))
    labels[10 : 10 + side, 10 : 10 + side] = cls
    return labels


def test_regions_at_or_below_the_minimum_area_go_even_when_right():
    probs = np.zeros((100, 100, 3), np.float32)
    small = _square_labels(22 * 22)  # 484 px = 1936 um^2 < 2000
    large = _square_labels(23 * 23)  # 529 px = 2116 um^2
    assert not (clean_regions(small, probs, _params(), PIXEL_UM2) == 1).any()
    np.testing.assert_array_equal(clean_regions(large, probs, _params(), PIXEL_UM2), large)


def test_small_holes_take_the_region_class_and_no_setting_changes_nothing():
    probs = np.zeros((100, 100, 3), np.float32)
    labels = _square_labels(40 * 40)
    labels[20:24, 20:24] = 0  # a 64 um^2 hole
    filled = clean_regions(labels, probs, _params(fill_holes_um2=100.0), PIXEL_UM2)
    assert (filled[20:24, 20:24] == 1).all()
    untouched = clean_regions(labels, probs, _params(min_region_um2=0.0), PIXEL_UM2)
    np.testing.assert_array_equal(untouched, labels)
