"""Per-slide label rasters: the one form training labels take, whether drawn by hand or pseudo-labelled.

A label raster is a single-channel pyramidal TIFF of class ids (the class map's ignore id where unlabelled) in
the slide's level-0 frame at some mpp. Manual annotations are rasterised into one once, the pseudo-labeller
writes one per phase and prediction writes its label map as one: all through ``write_label_raster``. Reading
goes through the slide readers with nearest sampling, so labels are read by mpp exactly like images.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from hookseg.slides import open_slide, write_pyramid
from hookseg.slides.base import SlideReader

LabelTiles = Callable[[int, int, int, int], np.ndarray]  # (x, y, width, height) -> (height, width) class ids


def open_labels(path: str | Path) -> SlideReader:
    """Open a label raster written by ``write_label_raster``."""
    return open_slide(path, backend="tifffile")


def read_labels(
    labels: SlideReader, location: tuple[float, float], size: tuple[int, int], mpp: float,
) -> np.ndarray:
    """Class ids (h, w) uint8 at ``mpp``; outside the raster reads as 255 (the default ignore id)."""
    return labels.read(location, size, mpp, interpolation="nearest")[..., 0]


def read_labels_at_center(
    labels: SlideReader, center: tuple[float, float], size: tuple[int, int], mpp: float, slide_mpp: float,
) -> np.ndarray:
    """Labels centred on a level-0 point of the SLIDE (whose mpp may differ from the raster's)."""
    scale = labels.mpp / slide_mpp  # slide level-0 px -> raster level-0 px
    half_w, half_h = size[0] * mpp / labels.mpp / 2, size[1] * mpp / labels.mpp / 2
    location = (center[0] / scale - half_w, center[1] / scale - half_h)
    return read_labels(labels, location, size, mpp)


def write_label_raster(
    path: str | Path, labels: np.ndarray | LabelTiles, *, mpp: float, size: tuple[int, int] | None = None,
    tile_size: int = 256,
) -> Path:
    """Write class ids as a pyramidal, lossless label raster at ``mpp``, atomically (temp name + rename).

    ``labels`` is a (h, w) array, or a function of a level-0 tile ``(x, y, w, h)`` returning its (h, w) ids,
    with ``size`` = (width, height): tiles stream, so a whole-slide raster never sits in memory.
    """
    if callable(labels):
        if size is None:
            msg = "write_label_raster: a tile function needs size=(width, height). Received: size=None"
            raise ValueError(msg)
        tiles = labels
    else:
        array = np.ascontiguousarray(labels, dtype=np.uint8)
        size = (array.shape[1], array.shape[0])

        def tiles(x: int, y: int, w: int, h: int) -> np.ndarray:
            return array[y : y + h, x : x + w]

    return write_pyramid(
        path, size, lambda x, y, w, h: np.asarray(tiles(x, y, w, h), np.uint8)[..., None],
        mpp=mpp, channels=1, labels=True, compression="zlib", tile_size=tile_size,
    )
