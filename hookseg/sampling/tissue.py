"""Patch centres uniform over the tissue of whole slides, for targets that need no annotation.

A teacher's soft prediction (``hookseg distill``, soft self-training phases) can label any pixel, so these
samplers draw from every tissue cell of every slide instead of from a label index: a cell of the slide's
tissue mask (``hookseg.slides.tissue_mask``), then a point inside it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hookseg.cohort import SlideRecord
from hookseg.slides.tissue import TissueParams

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TissueCells:
    """Where a slide has tissue: level-0 top-left corners of the tissue mask's cells, and a cell's side."""

    path: str
    mpp: float | None
    corners: np.ndarray  # (N, 2) float64 level-0 x, y
    cell: float  # level-0 pixels


def tissue_cells(
    records: Sequence[SlideRecord], params: TissueParams | None = None,
) -> dict[str, TissueCells]:
    """The tissue cells of each slide (one mask per slide, computed once, with ``params``; default
    configs/slides.yaml's); slides without tissue are left out with a warning."""
    from hookseg.slides import tissue_mask

    cells = {}
    for record in records:
        with record.open() as slide:
            mask = tissue_mask(slide, params)
            scale = mask.mpp / slide.mpp
        rows, cols = np.nonzero(mask.mask)
        if not len(rows):
            log.warning("%s: no tissue found; no patches drawn from it", record.slide_id)
            continue
        corners = np.stack([mask.origin[0] + cols * scale, mask.origin[1] + rows * scale], axis=1)
        cells[record.slide_id] = TissueCells(str(record.path), record.mpp, corners, scale)
    return cells


class TissueCentres:
    """Draws level-0 centres uniform over all tissue of all slides (so a slide weighs by its tissue area)."""

    def __init__(self, cells: Mapping[str, TissueCells]) -> None:
        self.cells = dict(cells)
        self.slide_ids = sorted(self.cells)
        self._ends = np.cumsum([len(self.cells[s].corners) for s in self.slide_ids])

    def __len__(self) -> int:
        return len(self.slide_ids)

    def draw(self, count: int, rng: np.random.Generator) -> list[tuple[str, tuple[float, float]]]:
        """``count`` (slide id, (x, y)) pairs: a cell, then a point inside it."""
        picks = rng.integers(self._ends[-1], size=count)
        out = []
        for pick in picks:
            index = int(np.searchsorted(self._ends, pick, side="right"))
            cells = self.cells[self.slide_ids[index]]
            corner = cells.corners[pick - (self._ends[index - 1] if index else 0)]
            x, y = corner + rng.random(2) * cells.cell
            out.append((self.slide_ids[index], (float(x), float(y))))
        return out


def turn(arrays: Sequence[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """One of the 8 flips / quarter turns, the same for every (H, W, ...) array: exact (no resampling), and
    it keeps centre-aligned views of different sizes aligned."""
    turns, flip = int(rng.integers(4)), bool(rng.integers(2))
    out = []
    for array in arrays:
        array = np.rot90(array, turns)
        out.append(np.ascontiguousarray(array[:, ::-1] if flip else array))
    return out
