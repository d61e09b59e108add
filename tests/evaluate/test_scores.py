from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from hookseg.evaluate import Counts, auc, class_scores, threshold_sweep
from tests.bootstrap_reference import bootstrap_ci


def random_block(seed: int, classes: int = 3, n: int = 4000):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, classes, n)
    truth[rng.random(n) < 0.1] = 255
    logits = rng.normal(size=(n, classes)) + 2.0 * np.eye(classes)[np.minimum(truth, classes - 1)]
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    q = np.rint(probs * 255).astype(np.uint8)
    return truth.astype(np.uint8)[None], probs.argmax(1).astype(np.uint8)[None], q[None]


def test_scores_match_direct_computation():
    truth, pred, q = random_block(0)
    counts = Counts.zeros(3)
    counts.add(truth, pred, q)
    valid = truth[0] != 255
    t, p = truth[0][valid], pred[0][valid]
    for c in range(3):
        tp = ((t == c) & (p == c)).sum()
        fp = ((t != c) & (p == c)).sum()
        fn = ((t == c) & (p != c)).sum()
        tn = ((t != c) & (p != c)).sum()
        s = class_scores(counts, c)
        assert s["iou"] == pytest.approx(tp / (tp + fp + fn))
        assert s["dice"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
        assert s["precision"] == pytest.approx(tp / (tp + fp))
        assert s["specificity"] == pytest.approx(tn / (tn + fp))
        assert s["auc"] == pytest.approx(roc_auc_score(t == c, q[0][valid][:, c]), abs=1e-9)


def test_threshold_sweep_matches_thresholding():
    truth, pred, q = random_block(1)
    counts = Counts.zeros(3)
    counts.add(truth, pred, q)
    sweep = threshold_sweep(counts, 1)
    valid = truth[0] != 255
    for t, iou in zip(sweep["threshold"], sweep["iou"], strict=True):
        predicted = q[0][valid][:, 1] >= np.ceil(t * 255)
        actual = truth[0][valid] == 1
        assert iou == pytest.approx((predicted & actual).sum() / (predicted | actual).sum())


def test_auc_edge_cases():
    pos = np.zeros(256, np.int64)
    neg = np.zeros(256, np.int64)
    pos[200], neg[10] = 5, 5
    assert auc(pos, neg) == 1.0
    assert np.isnan(auc(pos, np.zeros(256, np.int64)))


def test_bootstrap_ci_brackets_the_pooled_value():
    slides = []
    for seed in range(8):
        c = Counts.zeros(3)
        c.add(*random_block(seed, n=500))
        slides.append(c)
    pooled = sum(slides[1:], slides[0])
    value = class_scores(pooled, 1)["iou"]
    low, high = bootstrap_ci(slides, lambda c: class_scores(c, 1)["iou"], samples=300)
    assert low <= value <= high
    assert high - low > 0
    assert bootstrap_ci(slides[:1], lambda c: 0.0) != bootstrap_ci(slides[:1], lambda c: 0.0)  # nan pair
