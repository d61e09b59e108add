"""Two training recipes compared over seeds and slides: a hierarchical (two-level) bootstrap.

Another seed is another model, by as much as most effects measured on the demo: the same phase-1 command
with only its seed changed moved mean IoU on the decision slides by +0.039 [0.011, 0.063] (docs/
self-training.md). A slide bootstrap of one model per arm resamples slides but not that spread, so it calls
a lucky seed an effect. Here an arm is several trainings of one recipe (its seeds), all scored on the same
slides. Each resample draws slides with replacement, the same draw for both arms (paired: a slide hard for
both does not widen the difference), and, independently per arm, seeds with replacement; an arm's value is
the mean over its drawn seeds of their slide-pooled IoU (the hierarchical bootstrap of Saravanan et al.
2020, "Application of the hierarchical bootstrap to multi-level data in neuroscience"). Resampling k seeds
narrows their variance by (k - 1) / k, so an interval from two seeds per arm is optimistic: use three or more.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from hookseg.evaluate.paired import Bootstrap, Estimate, estimate, iou_of_pooled, mean_iou, resample_weights

# Three seeds is where a seed resample stops being mostly artefact ((k - 1) / k = 2/3 of the variance).
MIN_SEEDS_FOR_SEED_SPREAD = 3


def seed_iou(confusions: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Per-class IoU of each seed's pooled slides: (k, C) from (k, n, C, C), or (B, k, C) for ``weights``
    (B, n), every seed pooled with the same slide draw. nan for a class absent from truth and prediction."""
    if weights is None:
        pooled = confusions.sum(axis=1, dtype=np.float64)
    else:
        pooled = np.einsum("bn,knij->bkij", weights.astype(np.float64), confusions.astype(np.float64))
    return iou_of_pooled(pooled)


def seed_draws(seeds: int, boot: Bootstrap, arm: int) -> np.ndarray:
    """(B, k) seed indices drawn with replacement; ``arm`` keeps two arms' draws independent but each
    reproducible (and independent of the slide draws, which use ``boot.seed`` alone)."""
    rng = np.random.default_rng([boot.seed, arm + 1])
    return rng.integers(0, seeds, (boot.samples, seeds))


def _nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    """Mean over ``axis`` ignoring nan (a class absent from a seed's slides); nan, silently, where all are."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def _arm_samples(confusions: np.ndarray, weights: np.ndarray, boot: Bootstrap, arm: int) -> np.ndarray:
    """(B, C): per resample, the mean over the drawn seeds of their IoU on the drawn slides."""
    per_seed = seed_iou(confusions, weights)  # (B, k, C)
    draws = seed_draws(confusions.shape[0], boot, arm)
    picked = np.take_along_axis(per_seed, draws[:, :, None], axis=1)
    return _nanmean(picked, axis=1)


@dataclass(frozen=True)
class Arm:
    """One recipe: per-class and mean IoU (mean over seeds) with intervals over seeds and slides."""

    seeds: int
    iou: Estimate
    mean: Estimate
    seed_means: np.ndarray  # (k,) each seed's mean IoU over all slides once: the spread itself


@dataclass(frozen=True)
class RecipeComparison:
    a: Arm
    b: Arm
    difference: Estimate  # per class, b - a
    mean_difference: Estimate  # mean IoU, b - a


def compare_recipes(a: np.ndarray, b: np.ndarray, boot: Bootstrap) -> RecipeComparison:
    """Recipe ``b`` against ``a``: each (k, n, C, C), k seeds (may differ between arms) over the same n slides
    in the same order."""
    if a.ndim != 4 or b.ndim != 4 or a.shape[1:] != b.shape[1:]:
        msg = (f"seed comparison: expected (seeds, slides, C, C) confusions of the same slides. "
               f"Received: {a.shape} and {b.shape}")
        raise ValueError(msg)
    weights = resample_weights(a.shape[1], boot)
    (arm_a, point_a, samples_a), (arm_b, point_b, samples_b) = (
        _arm(confusions, weights, boot, i) for i, confusions in enumerate((a, b)))
    slides = a.shape[1]
    return RecipeComparison(
        a=arm_a, b=arm_b,
        difference=estimate(point_b - point_a, samples_b - samples_a, slides, boot),
        mean_difference=estimate(mean_iou(point_b) - mean_iou(point_a),
                                 mean_iou(samples_b) - mean_iou(samples_a), slides, boot),
    )


def _arm(
    confusions: np.ndarray, weights: np.ndarray, boot: Bootstrap, arm: int,
) -> tuple[Arm, np.ndarray, np.ndarray]:
    """One recipe's summary, with its (C,) point IoU and (B, C) resampled IoU for the difference."""
    per_seed = seed_iou(confusions)  # (k, C), all slides once
    point = _nanmean(per_seed, axis=0)
    samples = _arm_samples(confusions, weights, boot, arm)
    slides = confusions.shape[1]
    summary = Arm(seeds=confusions.shape[0], iou=estimate(point, samples, slides, boot),
                  mean=estimate(mean_iou(point), mean_iou(samples), slides, boot),
                  seed_means=mean_iou(per_seed))
    return summary, point, samples
