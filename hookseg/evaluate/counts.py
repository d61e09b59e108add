"""Per-slide evaluation counts: small, mergeable, enough for every metric.

A confusion matrix of final labels plus, per class, histograms of the predicted probability (uint8, 256
bins) over pixels that are and are not that class. IoU/Dice/precision/recall/specificity come from the
matrix; AUC and any one-vs-rest threshold sweep come from the histograms exactly (probabilities are stored as
uint8). Summing counts over slides pools them; resampling slides bootstraps them.

``raw_confusion`` counts the labels before region post-processing (the same probabilities' argmax or
thresholds), so the cost of minimum-area, hole-filling and hysteresis steps shows beside the final score.

``fine`` counts, for slides with a full ground-truth raster, what each fine label (DCIS, duct, blur, ...)
became: a class's IoU says "other" is missed, the fine rows say which of its parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

BINS = 256


@dataclass
class Counts:
    confusion: np.ndarray  # (C, C) int64, rows = truth
    positive: np.ndarray  # (C, 256) int64: prob histogram of pixels whose truth is the class
    negative: np.ndarray  # (C, 256) int64: ... whose truth is another class
    raw_confusion: np.ndarray | None = None  # (C, C) int64: labels before post-processing; None = not counted
    fine: dict[str, np.ndarray] | None = None  # fine label -> (C,) int64 final labels; None = not counted

    @classmethod
    def zeros(cls, classes: int, *, fine: bool = True) -> Counts:
        """Empty counts; ``fine=False`` marks a slide without a fine ground truth (``fine`` stays None)."""
        square, bins = np.zeros((classes, classes), np.int64), np.zeros((classes, BINS), np.int64)
        return cls(square, bins, bins.copy(), square.copy(), {} if fine else None)

    def __add__(self, other: Counts) -> Counts:
        raw = None
        if self.raw_confusion is not None and other.raw_confusion is not None:
            raw = self.raw_confusion + other.raw_confusion
        return Counts(self.confusion + other.confusion, self.positive + other.positive,
                      self.negative + other.negative, raw, merge_fine(self.fine, other.fine))

    def raw(self) -> Counts:
        """These counts with the pre-post-processing confusion in place of the final one (same histograms)."""
        if self.raw_confusion is None:
            msg = ("counts: expected a raw (pre-post-processing) confusion. Received: none (counts written "
                   "before raw counting existed; rerun hookseg evaluate)")
            raise ValueError(msg)
        return Counts(self.raw_confusion, self.positive, self.negative, self.raw_confusion)

    def add_fine(self, codes: np.ndarray, predicted: np.ndarray, names: Mapping[int, str]) -> None:
        """Accumulate what each fine truth code (uint8, named by ``names``; unnamed codes skipped) became."""
        classes = self.confusion.shape[0]
        index = codes.astype(np.int64).ravel() * classes + predicted.astype(np.int64).ravel()
        table = np.bincount(index, minlength=256 * classes).reshape(256, classes)
        found = {names[c]: table[c] for c in np.flatnonzero(table.sum(axis=1)) if int(c) in names}
        self.fine = merge_fine(self.fine or {}, found)

    def add(self, truth: np.ndarray, predicted: np.ndarray, probs: np.ndarray,
            raw: np.ndarray | None = None) -> None:
        """Accumulate one block: truth/predicted/raw (h, w) class ids, probs (h, w, C) uint8.

        Truth ids outside 0..C-1 (the class map's ignore id, whatever it is) are not counted. ``raw`` is the
        block's labels before post-processing; without it they count as ``predicted``.
        """
        classes = self.confusion.shape[0]
        valid = truth < classes
        t = truth[valid].astype(np.int64)
        self.confusion += _confusion(t, predicted[valid], classes)
        if self.raw_confusion is not None:
            self.raw_confusion += _confusion(t, (predicted if raw is None else raw)[valid], classes)
        q = probs[valid].astype(np.int64)  # (n, C)
        for c in range(classes):
            is_c = t == c
            self.positive[c] += np.bincount(q[is_c, c], minlength=BINS)
            self.negative[c] += np.bincount(q[~is_c, c], minlength=BINS)

    def to_dict(self) -> dict[str, list]:
        data = {"confusion": self.confusion.tolist(), "positive": self.positive.tolist(),
                "negative": self.negative.tolist()}
        if self.raw_confusion is not None:
            data["raw_confusion"] = self.raw_confusion.tolist()
        if self.fine is not None:
            data["fine"] = {name: row.tolist() for name, row in sorted(self.fine.items())}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> Counts:
        """Counts saved by ``to_dict``; files from before raw (fine) counting load with that part None."""
        arrays = [np.asarray(data[k], np.int64) for k in ("confusion", "positive", "negative")]
        raw = np.asarray(data["raw_confusion"], np.int64) if "raw_confusion" in data else None
        fine = {n: np.asarray(r, np.int64) for n, r in data["fine"].items()} if "fine" in data else None
        return cls(*arrays, raw, fine)


def merge_fine(a: Mapping[str, np.ndarray] | None, b: Mapping[str, np.ndarray] | None,
               ) -> dict[str, np.ndarray] | None:
    """Sum two name -> counts maps; None (not counted) only when both are."""
    if a is None and b is None:
        return None
    merged = {name: row.copy() for name, row in (a or {}).items()}
    for name, row in (b or {}).items():
        merged[name] = merged[name] + row if name in merged else row.copy()
    return merged


def _confusion(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """(C, C) counts, rows = truth; ``truth`` already restricted to valid ids."""
    index = truth * classes + predicted.astype(np.int64)
    return np.bincount(index, minlength=classes * classes).reshape(classes, classes)
