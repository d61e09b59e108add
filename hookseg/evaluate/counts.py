"""Per-slide evaluation counts: small, mergeable, enough for every metric.

A confusion matrix of final labels plus, per class, histograms of the predicted probability (uint8, 256
bins) over pixels that are and are not that class. IoU/Dice/precision/recall/specificity come from the
matrix; AUC and any one-vs-rest threshold sweep come from the histograms exactly (probabilities are stored as
uint8). Summing counts over slides pools them; resampling slides bootstraps them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 256


@dataclass
class Counts:
    confusion: np.ndarray  # (C, C) int64, rows = truth
    positive: np.ndarray  # (C, 256) int64: prob histogram of pixels whose truth is the class
    negative: np.ndarray  # (C, 256) int64: ... whose truth is another class

    @classmethod
    def zeros(cls, classes: int) -> Counts:
        return cls(np.zeros((classes, classes), np.int64), np.zeros((classes, BINS), np.int64),
                   np.zeros((classes, BINS), np.int64))

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.confusion + other.confusion, self.positive + other.positive,
                      self.negative + other.negative)

    def add(self, truth: np.ndarray, predicted: np.ndarray, probs: np.ndarray) -> None:
        """Accumulate one block: truth/predicted (h, w) class ids, probs (h, w, C) uint8.

        Truth ids outside 0..C-1 (the class map's ignore id, whatever it is) are not counted.
        """
        classes = self.confusion.shape[0]
        valid = truth < classes
        t = truth[valid].astype(np.int64)
        p = predicted[valid].astype(np.int64)
        self.confusion += np.bincount(t * classes + p, minlength=classes * classes).reshape(classes, classes)
        q = probs[valid].astype(np.int64)  # (n, C)
        for c in range(classes):
            is_c = t == c
            self.positive[c] += np.bincount(q[is_c, c], minlength=BINS)
            self.negative[c] += np.bincount(q[~is_c, c], minlength=BINS)

    def to_dict(self) -> dict[str, list]:
        return {"confusion": self.confusion.tolist(), "positive": self.positive.tolist(),
                "negative": self.negative.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> Counts:
        return cls(*(np.asarray(data[k], np.int64) for k in ("confusion", "positive", "negative")))
