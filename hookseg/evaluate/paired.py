"""Vectorised slide bootstrap of pooled IoU, for one model and paired between two.

Slides are the unit that varies between labs and scanners, so a resample draws slides with replacement and
pools their confusions (a weighted sum: weight = times drawn). Paired comparisons give both models the same
draws, so a slide that is hard for both does not widen the difference's interval. Everything is one
``einsum`` over a (B, n) weight matrix: 2000 resamples of hundreds of slides take milliseconds.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Bootstrap:
    samples: int = 2000
    seed: int = 0
    level: float = 0.95


def resample_weights(slides: int, boot: Bootstrap) -> np.ndarray:
    """(B, n) times each slide is drawn in each resample; the same for any two calls with equal n and seed."""
    rng = np.random.default_rng(boot.seed)
    picks = rng.integers(0, slides, (boot.samples, slides))
    offsets = picks + slides * np.arange(boot.samples)[:, None]
    return np.bincount(offsets.ravel(), minlength=boot.samples * slides).reshape(boot.samples, slides)


def pooled_iou(confusion: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Per-class IoU of pooled (n, C, C) confusions: (C,) for all slides once, (B, C) for ``weights`` (B, n).

    A class absent from truth and prediction has no IoU (nan), as in ``scores.class_scores``.
    """
    if weights is None:
        pooled = confusion.sum(axis=0, dtype=np.float64)
    else:
        pooled = np.einsum("bn,nij->bij", weights.astype(np.float64), confusion.astype(np.float64))
    return iou_of_pooled(pooled)


def iou_of_pooled(pooled: np.ndarray) -> np.ndarray:
    """Per-class IoU of (..., C, C) pooled confusions (rows = truth): (..., C); nan for an absent class."""
    tp = np.diagonal(pooled, axis1=-2, axis2=-1)
    union = pooled.sum(axis=-1) + pooled.sum(axis=-2) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / union, np.nan)


def mean_iou(iou: np.ndarray) -> np.ndarray:
    """Mean over the last (class) axis, ignoring classes without an IoU (like ``scores.scores_table``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(iou, axis=-1)


def percentile_ci(values: np.ndarray, boot: Bootstrap) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0 (resamples), nan-aware; nan where no resample has a value."""
    tail = (1 - boot.level) / 2 * 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(values, [tail, 100 - tail], axis=0)
    return low, high


@dataclass(frozen=True)
class Estimate:
    """A point value (all slides once) with its bootstrap interval; nan for fewer than MIN_SLIDES_FOR_CI."""

    value: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def excludes_zero(self) -> np.ndarray:
        return (self.low > 0) | (self.high < 0)


# A percentile bootstrap over n slides has few distinct resamples when n is small (2 slides: 3), so its
# "interval" is an artefact, not an uncertainty; below this many slides no CI is given (and none is bold).
MIN_SLIDES_FOR_CI = 3


def estimate(point: np.ndarray, samples: np.ndarray, slides: int, boot: Bootstrap) -> Estimate:
    """``point`` and the percentile interval of its ``samples``; none below MIN_SLIDES_FOR_CI slides."""
    if slides < MIN_SLIDES_FOR_CI:
        nan = np.full_like(point, np.nan, dtype=np.float64)
        return Estimate(point, nan, nan)
    low, high = percentile_ci(samples, boot)
    return Estimate(point, low, high)


def iou_estimates(confusion: np.ndarray, boot: Bootstrap) -> tuple[Estimate, Estimate]:
    """(per-class IoU, mean IoU) of one model's (n, C, C) slide confusions."""
    slides = confusion.shape[0]
    point = pooled_iou(confusion)
    samples = pooled_iou(confusion, resample_weights(slides, boot))
    return (estimate(point, samples, slides, boot),
            estimate(mean_iou(point), mean_iou(samples), slides, boot))


def paired_difference(model: np.ndarray, base: np.ndarray, boot: Bootstrap) -> tuple[Estimate, Estimate]:
    """(per-class, mean) IoU of ``model`` minus ``base`` over the same slides (same order), same resamples."""
    if model.shape != base.shape:
        msg = (f"paired bootstrap: expected confusions of the same slides. "
               f"Received: {model.shape} and {base.shape}")
        raise ValueError(msg)
    slides = model.shape[0]
    weights = resample_weights(slides, boot)
    iou_m, iou_b = pooled_iou(model, weights), pooled_iou(base, weights)
    point_m, point_b = pooled_iou(model), pooled_iou(base)
    return (estimate(point_m - point_b, iou_m - iou_b, slides, boot),
            estimate(mean_iou(point_m) - mean_iou(point_b), mean_iou(iou_m) - mean_iou(iou_b), slides, boot))
