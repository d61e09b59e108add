"""Class-balanced batches: every batch has the same class mix (the paper's 2:1:1 tumour : normal : other)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


def batch_composition(batch_size: int, ratios: Mapping[int, float]) -> dict[int, int]:
    """Samples per class in one batch, by largest remainder so the counts always sum to ``batch_size``."""
    if batch_size <= 0:
        msg = f"batch_size must be positive. Received: batch_size={batch_size}"
        raise ValueError(msg)
    total = sum(ratios.values())
    if total <= 0 or any(r < 0 for r in ratios.values()):
        msg = f"class ratios must be non-negative with a positive sum. Received: ratios={dict(ratios)}"
        raise ValueError(msg)
    exact = {c: batch_size * r / total for c, r in ratios.items()}
    counts = {c: int(np.floor(v)) for c, v in exact.items()}
    remainder = batch_size - sum(counts.values())
    for c in sorted(exact, key=lambda k: (exact[k] - counts[k], ratios[k]), reverse=True)[:remainder]:
        counts[c] += 1
    return counts


class BalancedSampler:
    """Draws index rows per batch with a fixed class composition from a caller-owned Generator.

    A class with no centres in the index gives its share to the others (warned once), so a cohort without,
    say, any "other" annotations still trains.
    """

    def __init__(self, index: pd.DataFrame, ratios: Mapping[int, float]) -> None:
        self.pools = {int(c): np.flatnonzero(index["label"].to_numpy() == c) for c in ratios}
        present = {c: r for c, r in ratios.items() if self.pools[int(c)].size > 0}
        if not present:
            msg = f"the patch index has no centres of any class in {sorted(ratios)}"
            raise ValueError(msg)
        missing = sorted(set(ratios) - set(present))
        if missing:
            log.warning("no index centres of class(es) %s: their batch share goes to the others", missing)
        self.ratios = present

    def draw(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        """Row positions for one batch, grouped by class then shuffled."""
        chosen = [rng.choice(self.pools[int(c)], size=n, replace=True)
                  for c, n in batch_composition(batch_size, self.ratios).items() if n > 0]
        rows = np.concatenate(chosen)
        rng.shuffle(rows)
        return rows
