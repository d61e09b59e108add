"""The slide bootstrap as a plain per-resample loop: the reference the vectorised one is checked against.

hookseg.evaluate.paired resamples all slides at once with one einsum; this slow, obvious loop must give the
same interval for the same seed (tests/evaluate/test_paired.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from hookseg.evaluate.counts import Counts


def bootstrap_ci(
    slides: Sequence[Counts], statistic: Callable[[Counts], float], *, samples: int = 1000,
    seed: int = 0, level: float = 0.95,
) -> tuple[float, float]:
    """Percentile CI of ``statistic`` over slide-resampled pooled counts; (nan, nan) for < 2 slides."""
    if len(slides) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    stacked = [np.stack([getattr(s, f) for s in slides]) for f in ("confusion", "positive", "negative")]
    values = []
    for _ in range(samples):
        pick = rng.integers(0, len(slides), len(slides))
        weights = np.bincount(pick, minlength=len(slides))
        pooled = Counts(*(np.tensordot(weights, arr, axes=1) for arr in stacked))
        values.append(statistic(pooled))
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def hierarchical_difference(
    a: np.ndarray, b: np.ndarray, weights: np.ndarray, draws_a: np.ndarray, draws_b: np.ndarray,
) -> np.ndarray:
    """Mean IoU of recipe b minus a per resample, one resample at a time: pool each drawn seed's slides with
    that resample's slide weights, take its mean IoU, average over the drawn seeds (the reference for
    hookseg.evaluate.seeds, given the same slide weights and seed draws)."""

    def arm(confusions: np.ndarray, weights_row: np.ndarray, draw: np.ndarray) -> float:
        values = []
        for seed in draw:
            pooled = np.tensordot(weights_row, confusions[seed].astype(float), axes=1)
            tp = np.diag(pooled)
            values.append(np.mean(tp / (pooled.sum(0) + pooled.sum(1) - tp)))
        return float(np.mean(values))

    return np.array([arm(b, w, db) - arm(a, w, da)
                     for w, da, db in zip(weights, draws_a, draws_b, strict=True)])
