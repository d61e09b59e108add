"""Per-class thresholds calibrated on held-out annotations to a target precision.

A single threshold for every class trusts each class equally; measurement says the model is much surer of
itself than it is right for some classes (tumour on DCIS) and not for others. So, on annotations no stage
trains on (the val split's), we count per predicted class c, in 256 bins of p_c (the uint8 probability), the
pixels where the annotation agrees (correct) and where it does not (wrong). For each class the threshold is
the smallest bin at or above the phase's threshold (Table 8's floor) whose pixels above it are at least
``target`` precise, with at least ``min_support`` of them; a class that never gets there gets no
pseudo-labels at all (``NEVER``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

BINS = 256  # probabilities are stored as uint8 (x 255)
NEVER = 2.0  # a threshold no probability reaches: the class gets no pseudo-labels
CURVE_AT = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99)  # precision curve points in summary.json


def threshold_bin(threshold: float) -> int:
    """The smallest uint8 probability that passes ``threshold`` (probabilities are p x 255, rounded)."""
    return math.ceil(threshold * (BINS - 1) - 1e-9)


def empty_histogram(num_classes: int) -> np.ndarray:
    """(C, 2, 256): per predicted class, wrong [0] and correct [1] pixel counts by uint8 probability."""
    return np.zeros((num_classes, 2, BINS), np.int64)


def add_to_histogram(hist: np.ndarray, probs: np.ndarray, annotation: np.ndarray, keep: np.ndarray) -> None:
    """Count the annotated pixels of ``keep`` by predicted class, its probability, and right or wrong."""
    num_classes = hist.shape[0]
    use = keep & (annotation < num_classes)
    predicted = probs.argmax(axis=-1)[use].astype(np.int64)
    top = probs.max(axis=-1)[use].astype(np.int64)
    correct = (annotation[use] == predicted).astype(np.int64)
    index = (predicted * 2 + correct) * BINS + top
    hist += np.bincount(index, minlength=hist.size).reshape(hist.shape)


@dataclass(frozen=True)
class Calibration:
    """Chosen thresholds per class (``NEVER`` = no labels) and the held-out precision curves behind them."""

    class_names: tuple[str, ...]
    thresholds: tuple[float, ...]
    target: float
    floor: float
    min_support: int
    curves: dict[str, list[dict[str, float]]]

    def to_json(self) -> dict[str, Any]:
        return {
            "target_precision": self.target, "floor": self.floor, "min_support": self.min_support,
            "thresholds": dict(zip(self.class_names, self.thresholds, strict=True)),
            "unlabelled_classes": [n for n, t in zip(self.class_names, self.thresholds, strict=True)
                                   if t > 1],
            "curves": self.curves,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        names = tuple(data["thresholds"])
        return cls(names, tuple(float(data["thresholds"][n]) for n in names), float(data["target_precision"]),
                   float(data["floor"]), int(data["min_support"]), data["curves"])

    def lines(self) -> list[str]:
        """One line per class a person reads in the log."""
        out = []
        for name, t in zip(self.class_names, self.thresholds, strict=True):
            chosen = "none (no pseudo-labels)" if t > 1 else f"{t:.3f}"
            points = ", ".join(f"{p['threshold']:.2f}:{_fmt(p['precision'])}/{p['support']}"
                               for p in self.curves[name])
            out.append(f"  {name}: threshold {chosen}; held-out precision/support by threshold: {points}")
        return out


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def precision_curve(hist_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Precision and support of the pixels at or above each bin, for one class's (2, 256) counts."""
    correct = hist_c[1, ::-1].cumsum()[::-1]
    support = (hist_c[0, ::-1].cumsum()[::-1] + correct).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(support > 0, correct / np.maximum(support, 1), np.nan)
    return precision, support


def choose_thresholds(
    hist: np.ndarray, class_names: Sequence[str], floor: float, target: float, min_support: int = 1000,
) -> Calibration:
    """Per class, the smallest threshold >= ``floor`` with held-out precision >= ``target`` on enough px."""
    start = threshold_bin(floor)
    thresholds, curves = [], {}
    for c, name in enumerate(class_names):
        precision, support = precision_curve(hist[c])
        ok = (support >= min_support) & (precision >= target)
        ok[:start] = False
        hits = np.flatnonzero(ok)
        chosen = float(hits[0] / (BINS - 1)) if hits.size else NEVER
        thresholds.append(chosen)
        bins = sorted({start, *hits[:1].tolist(), *(threshold_bin(t) for t in CURVE_AT if t > floor)})
        curves[name] = [{"threshold": round(b / (BINS - 1), 4),
                         "precision": None if np.isnan(precision[b]) else round(float(precision[b]), 4),
                         "support": int(support[b])} for b in bins]
        if not hits.size:
            log.warning("class %s: no threshold >= %.2f reaches held-out precision %.2f on >= %d px: no "
                        "pseudo-labels for it", name, floor, target, min_support)
    return Calibration(tuple(class_names), tuple(thresholds), target, floor, min_support, curves)
