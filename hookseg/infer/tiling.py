"""The tile grid of a whole-slide prediction and its blending weights.

Tiles of ``size`` output pixels step by ``stride = size - overlap``. Each tile's probabilities are weighted by
a separable linear ramp over its overlap margins (paper 001): in the interior the ramps of neighbouring tiles
sum to one, so blending is a partition of unity and tile seams vanish; the accumulated weight divides it out
at the slide's edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TileGrid:
    width: int  # output pixels
    height: int
    size: int
    overlap: int

    @property
    def stride(self) -> int:
        return self.size - self.overlap

    def starts(self, extent: int) -> list[int]:
        """Tile origins along one axis, the first at 0, covering ``extent`` (the last may overhang)."""
        count = max(1, math.ceil(max(extent - self.overlap, 1) / self.stride))
        return [i * self.stride for i in range(count)]

    def rows(self) -> list[int]:
        return self.starts(self.height)

    def cols(self) -> list[int]:
        return self.starts(self.width)


def ramp_1d(size: int, overlap: int) -> np.ndarray:
    """1 in the core, falling linearly to 1/(2*overlap) at the borders; two overlapping ramps sum to 1."""
    if overlap <= 0:
        return np.ones(size, np.float32)
    position = np.arange(size, dtype=np.float32) + 0.5
    ramp = np.minimum(position / overlap, (size - position) / overlap)
    return np.clip(ramp, 0.0, 1.0).astype(np.float32)


def ramp_weights(size: int, overlap: int) -> np.ndarray:
    r = ramp_1d(size, overlap)
    return np.outer(r, r)


def tiles_with_tissue(grid: TileGrid, tissue: np.ndarray, tissue_scale: float) -> list[tuple[int, int]]:
    """(x, y) tile origins whose footprint holds tissue; ``tissue_scale`` = output px per mask px.

    Uses a summed-area table of the mask, so the test is O(1) per tile.
    """
    integral = np.pad(tissue.astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    h, w = tissue.shape
    keep = []
    for y in grid.rows():
        r0, r1 = _span(y, grid.size, tissue_scale, h)
        for x in grid.cols():
            c0, c1 = _span(x, grid.size, tissue_scale, w)
            if r1 > r0 and c1 > c0:
                count = integral[r1, c1] - integral[r0, c1] - integral[r1, c0] + integral[r0, c0]
                if count > 0:
                    keep.append((x, y))
    return keep


def _span(start: int, size: int, scale: float, limit: int) -> tuple[int, int]:
    low = min(limit, max(0, math.floor(start / scale)))
    return low, min(limit, max(0, math.ceil((start + size) / scale)))
