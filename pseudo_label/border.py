"""An ignore band at class borders: pixels near a change of the model's class get no pseudo-label.

Where the model's class changes, its labels are least trustworthy (rims of ducts and DCIS, tissue edges), and
a misplaced border taught as certain moves the next model's borders too. A pixel is in the band when a pixel
of another argmax class lies within ``radius`` pixels (a disk). Label rasters are written tile by tile, so
each tile reads its probabilities with a margin of ``radius``: the band then does not depend on the tiling.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def radius_px(border_um: float, mpp: float) -> int:
    """The band's radius in label pixels (0 = no band)."""
    return max(0, round(border_um / mpp)) if border_um > 0 else 0


def border_band(classes: np.ndarray, radius: int) -> np.ndarray:
    """True where a pixel of another class lies within ``radius`` pixels (Euclidean disk)."""
    if radius <= 0:
        return np.zeros(classes.shape, bool)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    reached = np.zeros(classes.shape, np.uint8)
    for c in np.unique(classes):
        # Pixels outside the array are no class: cv2's default border value leaves dilation unaffected.
        reached += cv2.dilate((classes == c).astype(np.uint8), kernel)
    return reached > 1


def window(probs: np.ndarray, x: int, y: int, w: int, h: int, margin: int) -> tuple[np.ndarray, int, int]:
    """``probs`` over the tile grown by ``margin`` (clipped to the raster), and the tile's offset in it."""
    height, width = probs.shape[:2]
    x0, y0 = max(0, x - margin), max(0, y - margin)
    x1, y1 = min(width, x + w + margin), min(height, y + h + margin)
    return np.asarray(probs[y0:y1, x0:x1]), x - x0, y - y0


def tile_band(probs: np.ndarray, x: int, y: int, w: int, h: int, radius: int) -> np.ndarray:
    """The band over one tile of a (H, W, C) probability raster, read with enough margin."""
    if radius <= 0:
        return np.zeros((h, w), bool)
    block, ox, oy = window(probs, x, y, w, h, math.ceil(radius))
    band = border_band(block.argmax(axis=-1), radius)
    return band[oy : oy + h, ox : ox + w]
