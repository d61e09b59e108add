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
    with np.errstate(invalid="ignore"):
        counts = np.sum(~np.isnan(values), axis=axis)
        total = np.nansum(values, axis=axis)
        return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)


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
    slides = a.shape[1]
    weights = resample_weights(slides, boot)
    samples = {arm: _arm_samples(c, weights, boot, arm) for arm, c in enumerate((a, b))}
    points = {arm: _nanmean(seed_iou(c), axis=0) for arm, c in enumerate((a, b))}
    arms = [Arm(seeds=c.shape[0],
                iou=estimate(points[i], samples[i], slides, boot),
                mean=estimate(mean_iou(points[i]), mean_iou(samples[i]), slides, boot),
                seed_means=mean_iou(seed_iou(c)))
            for i, c in enumerate((a, b))]
    return RecipeComparison(
        a=arms[0], b=arms[1],
        difference=estimate(points[1] - points[0], samples[1] - samples[0], slides, boot),
        mean_difference=estimate(mean_iou(points[1]) - mean_iou(points[0]),
                                  mean_iou(samples[1]) - mean_iou(samples[0]), slides, boot),
    )
