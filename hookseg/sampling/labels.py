"""Per-slide label rasters: the one form training labels take, whether drawn by hand or pseudo-labelled.

A label raster is a single-channel pyramidal TIFF of class ids (255 = ignore) in the slide's level-0 frame at
some mpp. Manual annotations are rasterised into one once; the pseudo-labeller writes one per phase. Reading
goes through the slide readers with nearest sampling, so labels are read by mpp exactly like images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hookseg.slides import open_slide, write_pyramid
from hookseg.slides.base import SlideReader

IGNORE = 255


def open_labels(path: str | Path) -> SlideReader:
    """Open a label raster written by ``write_label_raster``."""
    return open_slide(path, backend="tifffile")


def read_labels(labels: SlideReader, location: tuple[float, float], size: tuple[int, int], mpp: float) -> np.ndarray:
    """Class ids (h, w) uint8 at ``mpp``; outside the raster is ignore (255)."""
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
    path: str | Path, labels: np.ndarray, *, mpp: float, tile_size: int = 256,
) -> Path:
    """Write a (h, w) uint8 class-id array as a pyramidal, lossless label raster at ``mpp``."""
    labels = np.ascontiguousarray(labels, dtype=np.uint8)
    height, width = labels.shape
    return write_pyramid(
        path, (width, height), lambda x, y, w, h: labels[y : y + h, x : x + w, None],
        mpp=mpp, channels=1, labels=True, compression="zlib", tile_size=tile_size,
    )
