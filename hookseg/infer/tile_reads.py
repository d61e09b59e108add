"""Read a batch of prediction tiles as few slide regions as possible.

The tiles of a batch mostly lie side by side in one row of the grid, overlapping by the blend margin, and
their context fields overlap far more (at 4x the field of view a context moves a quarter of its width per
tile). Reading each run of tiles as one strip and slicing it decodes every pixel once instead of once per
tile that covers it, and makes one reader call per run instead of one per tile. A strip is sliced only where
the step between tiles is a whole number of pixels at the read's mpp; where it is not, the tiles are read one
by one, as before. When the read is an exact crop of a pyramid level (whole level pixels per output pixel and
a whole-pixel origin: the usual case of a slide whose levels hold the model's mpp) a sliced tile equals its
own read byte for byte; otherwise it is resampled on the strip's grid, which can differ from a single
tile's by a rounding step of the area pre-filter.
"""

from __future__ import annotations

import numpy as np

from hookseg.model_meta import ModelMeta
from hookseg.slides.base import SlideReader

Tile = tuple[int, int]


def row_runs(tiles: list[Tile]) -> list[list[Tile]]:
    """Consecutive tiles split into runs that share a row and step by one constant ``x`` stride."""
    runs: list[list[Tile]] = []
    for tile in tiles:
        run = runs[-1] if runs else None
        same_row = run is not None and run[-1][1] == tile[1] and tile[0] > run[-1][0]
        if same_row and (len(run) == 1 or tile[0] - run[-1][0] == run[1][0] - run[0][0]):
            run.append(tile)
        else:
            runs.append([tile])
    return runs


def read_batch(slide: SlideReader, meta: ModelMeta, tiles: list[Tile]) -> dict[str, np.ndarray]:
    """``{"target": (B, S, S, 3) float32[, "context": ...]}`` for tile origins in output px at the fov mpp."""
    fov = meta.fov
    scale = fov.mpp / slide.mpp  # output px -> level-0 px
    target = np.empty((len(tiles), fov.size, fov.size, 3), np.float32)
    context = None
    if fov.context_mpp is not None:
        context = np.empty((len(tiles), fov.context_size, fov.context_size, 3), np.float32)
        half = fov.context_size * fov.context_mpp / slide.mpp / 2  # level-0 px from centre to corner
    index = 0
    for run in row_runs(tiles):
        step = run[1][0] - run[0][0] if len(run) > 1 else 0
        x0, y0 = run[0]
        _read_run(slide, (x0 * scale, y0 * scale), len(run), step, fov.size, fov.mpp, target[index:])
        if context is not None:
            corner = ((x0 + fov.size / 2) * scale - half, (y0 + fov.size / 2) * scale - half)
            _read_run(slide, corner, len(run), step * fov.mpp / fov.context_mpp, fov.context_size,
                      fov.context_mpp, context[index:])
        index += len(run)
    return {"target": target} if context is None else {"target": target, "context": context}


def _read_run(slide: SlideReader, corner: tuple[float, float], count: int, step: float, size: int,
              mpp: float, out: np.ndarray) -> None:
    """``count`` square reads of ``size`` px at ``mpp``, ``step`` px apart along x, into ``out[:count]``."""
    whole = round(step)
    if count == 1 or abs(step - whole) > 1e-6 or whole <= 0:
        level0_step = step * mpp / slide.mpp
        for i in range(count):
            out[i] = slide.read((corner[0] + i * level0_step, corner[1]), (size, size), mpp)
        return
    strip = slide.read(corner, (size + (count - 1) * whole, size), mpp)
    for i in range(count):
        out[i] = strip[:, i * whole : i * whole + size]
