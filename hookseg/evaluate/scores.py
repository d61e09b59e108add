"""Metrics from Counts: one-vs-rest per class, AUC and the threshold sweep (paper 003, Table 2)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hookseg.evaluate.counts import BINS, Counts

METRICS = ("iou", "dice", "precision", "recall", "sensitivity", "specificity", "auc")
SWEEP = tuple(round(t, 1) for t in np.arange(0.1, 0.95, 0.1))


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def class_scores(counts: Counts, cls: int) -> dict[str, float]:
    cm = counts.confusion
    tp = cm[cls, cls]
    fn = cm[cls].sum() - tp
    fp = cm[:, cls].sum() - tp
    tn = cm.sum() - tp - fn - fp
    recall = _ratio(tp, tp + fn)
    return {
        "iou": _ratio(tp, tp + fp + fn),
        "dice": _ratio(2 * tp, 2 * tp + fp + fn),
        "precision": _ratio(tp, tp + fp),
        "recall": recall,
        "sensitivity": recall,
        "specificity": _ratio(tn, tn + fp),
        "auc": auc(counts.positive[cls], counts.negative[cls]),
    }


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """ROC AUC from score histograms: P(score_pos > score_neg) + 0.5 P(equal), exact for binned scores."""
    n_pos, n_neg = positive.sum(), negative.sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    neg_below = np.concatenate([[0], np.cumsum(negative)[:-1]])
    wins = (positive * neg_below).sum() + 0.5 * (positive * negative).sum()
    return float(wins / (n_pos * n_neg))


def threshold_sweep(counts: Counts, cls: int, thresholds: Sequence[float] = SWEEP) -> dict[str, list[float]]:
    """One-vs-rest IoU, precision and recall of ``prob >= t`` for each threshold."""
    pos, neg = counts.positive[cls], counts.negative[cls]
    out: dict[str, list[float]] = {"threshold": list(thresholds), "iou": [], "precision": [], "recall": []}
    for t in thresholds:
        start = int(np.ceil(t * (BINS - 1)))
        tp, fp = pos[start:].sum(), neg[start:].sum()
        fn = pos[:start].sum()
        out["iou"].append(_ratio(tp, tp + fp + fn))
        out["precision"].append(_ratio(tp, tp + fp))
        out["recall"].append(_ratio(tp, tp + fn))
    return out


def scores_table(counts: Counts, class_names: Sequence[str]) -> dict[str, dict[str, float]]:
    table = {name: class_scores(counts, c) for c, name in enumerate(class_names)}
    table["mean"] = {m: float(np.nanmean([table[n][m] for n in class_names])) for m in METRICS}
    return table
