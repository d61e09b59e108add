"""Resample a level window to an exact output grid: area averaging, then a sub-pixel exact placement.

Output pixel (r, c) covers the level-space box [x + c*f, x + (c+1)*f) x [y + r*f, ...), where (x, y) is the
region origin in level pixels (possibly fractional) and f the level pixels per output pixel. The window handed
in starts at (floor(x), floor(y)). Area averaging keeps the paper's textures (no aliasing at 2 mpp); the final
affine warp places pixel centres exactly, so reads at different mpp stay centre-aligned.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def window_box(x: float, y: float, width: int, height: int, factor: float) -> tuple[int, int, int, int]:
    """Integer level-space window (x0, y0, w, h) covering the region, one pixel of margin to interpolate."""
    x0, y0 = math.floor(x), math.floor(y)
    x1 = math.ceil(x + width * factor) + 1
    y1 = math.ceil(y + height * factor) + 1
    return x0, y0, x1 - x0, y1 - y0


def resample_window(
    window: np.ndarray, offset: tuple[float, float], size: tuple[int, int], factor: float,
    *, interpolation: str = "area",
) -> np.ndarray:
    """Sample ``size`` = (width, height) output pixels from ``window``.

    ``offset`` is the region origin minus the window origin, in level pixels. ``interpolation`` is "area"
    (images) or "nearest" (label rasters, which must stay discrete).
    """
    width, height = size
    dx, dy = offset
    if interpolation == "nearest":
        cols = np.floor(dx + (np.arange(width) + 0.5) * factor).astype(np.intp)
        rows = np.floor(dy + (np.arange(height) + 0.5) * factor).astype(np.intp)
        cols = np.clip(cols, 0, window.shape[1] - 1)
        rows = np.clip(rows, 0, window.shape[0] - 1)
        return np.ascontiguousarray(window[rows[:, None], cols[None, :]])
    if _is_integer(dx) and _is_integer(dy) and _is_integer(factor):
        k, ix, iy = round(factor), round(dx), round(dy)
        crop = window[iy : iy + height * k, ix : ix + width * k]
        if k == 1:
            return np.ascontiguousarray(crop)
        return cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)
    src = window
    scale_x = scale_y = 1.0
    if factor > 1.0:
        # Area-average first, to about the output pixel size; remember the exact scale actually used.
        small = (max(1, round(window.shape[1] / factor)), max(1, round(window.shape[0] / factor)))
        src = cv2.resize(window, small, interpolation=cv2.INTER_AREA)
        scale_x = window.shape[1] / small[0]
        scale_y = window.shape[0] / small[1]
    # Output pixel centre c + 0.5 sits at window coordinate dx + (c + 0.5) * factor; in src pixel-centre
    # units:
    # u = (dx + (c + 0.5) * factor) / scale - 0.5.
    matrix = np.array(
        [
            [factor / scale_x, 0.0, (dx + 0.5 * factor) / scale_x - 0.5],
            [0.0, factor / scale_y, (dy + 0.5 * factor) / scale_y - 0.5],
        ]
    )
    out = cv2.warpAffine(
        src, matrix, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return out.reshape(height, width, *window.shape[2:])


def _is_integer(value: float, tol: float = 1e-6) -> bool:
    return abs(value - round(value)) < tol
