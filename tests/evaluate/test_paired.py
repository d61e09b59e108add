"""Slide bootstrap of pooled IoU: intervals that collapse, exclude 0 and widen exactly when they should."""

from __future__ import annotations

import numpy as np
import pytest

from hookseg.evaluate import Counts, class_scores
from hookseg.evaluate.paired import (
    Bootstrap,
    iou_estimates,
    mean_iou,
    paired_difference,
    pooled_iou,
    resample_weights,
)
from tests.bootstrap_reference import bootstrap_ci

BOOT = Bootstrap(samples=2000, seed=0)


def slide_confusions(slides: int, seed: int, classes: int = 3, accuracy: float = 0.7) -> np.ndarray:
    """(n, C, C) confusions whose per-slide accuracy varies, as real slides do."""
    rng = np.random.default_rng(seed)
    out = np.zeros((slides, classes, classes), np.int64)
    for s in range(slides):
        right = np.clip(accuracy + rng.normal(0, 0.15), 0.05, 0.99)
        for t in range(classes):
            total = rng.integers(500, 5000)
            hit = int(total * right)
            out[s, t, t] = hit
            out[s, t, (t + 1 + rng.integers(0, classes - 1)) % classes] = total - hit
    return out


def test_weights_draw_n_slides_per_resample_reproducibly():
    w = resample_weights(7, BOOT)
    assert w.shape == (2000, 7)
    assert (w.sum(axis=1) == 7).all()
    np.testing.assert_array_equal(w, resample_weights(7, BOOT))
    assert not np.array_equal(w, resample_weights(7, Bootstrap(seed=1)))


def test_pooled_iou_is_class_scores_of_the_summed_counts():
    confusion = slide_confusions(5, seed=3)
    total = Counts.zeros(3)
    total.confusion = confusion.sum(axis=0)
    expected = [class_scores(total, c)["iou"] for c in range(3)]
    np.testing.assert_allclose(pooled_iou(confusion), expected)
    absent = confusion.copy()
    absent[:, 2, :] = 0
    absent[:, :, 2] = 0
    assert np.isnan(pooled_iou(absent)[2])
    assert mean_iou(pooled_iou(absent)) == pytest.approx(np.mean(pooled_iou(absent)[:2]))


def test_vectorised_ci_equals_the_per_resample_loop():
    confusion = slide_confusions(6, seed=4)
    slides = [Counts(c, np.zeros((3, 256), np.int64), np.zeros((3, 256), np.int64)) for c in confusion]
    per_class, _ = iou_estimates(confusion, Bootstrap(samples=300, seed=0))
    low, high = bootstrap_ci(slides, lambda c: class_scores(c, 1)["iou"], samples=300, seed=0)
    assert (per_class.low[1], per_class.high[1]) == pytest.approx((low, high))


def test_identical_models_differ_by_exactly_zero():
    confusion = slide_confusions(8, seed=0)
    per_class, mean = paired_difference(confusion, confusion.copy(), BOOT)
    assert (mean.value, mean.low, mean.high) == (0.0, 0.0, 0.0)
    assert (per_class.low == 0).all() and (per_class.high == 0).all()
    assert not mean.excludes_zero()


def test_better_on_every_slide_excludes_zero_even_when_slides_vary_more_than_the_gain():
    base = slide_confusions(6, seed=1)
    better = base.copy()
    for t in range(3):  # on every slide, 3% of each class's pixels move from an error onto the diagonal
        moved = (base[:, t].sum(axis=1) * 0.03).astype(np.int64)
        wrong = (t + 1) % 3
        moved = np.minimum(moved, base[:, t, wrong])
        better[:, t, t] += moved
        better[:, t, wrong] -= moved
    (_, base_mean) = iou_estimates(base, BOOT)
    assert base_mean.high - base_mean.low > 0.05  # unpaired intervals would overlap
    per_class, mean = paired_difference(better, base, BOOT)
    assert mean.low > 0 and mean.excludes_zero()
    assert mean.low <= mean.value <= mean.high
    swapped, _ = paired_difference(base, better, BOOT)
    assert (swapped.high < 0).all()


def test_intervals_widen_with_fewer_slides():
    confusion = slide_confusions(40, seed=2)
    _, many = iou_estimates(confusion, BOOT)
    _, few = iou_estimates(confusion[:5], BOOT)
    assert few.high - few.low > 1.5 * (many.high - many.low)


def test_one_slide_has_no_interval():
    per_class, mean = iou_estimates(slide_confusions(1, seed=0), BOOT)
    assert np.isnan(mean.low) and np.isnan(per_class.high).all()
    assert not np.isnan(mean.value)
    with pytest.raises(ValueError, match="same slides"):
        paired_difference(slide_confusions(2, 0), slide_confusions(3, 0), BOOT)
