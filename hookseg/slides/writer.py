"""Write tiled pyramidal TIFFs that OpenSlide (generic-tiff) and QuPath open, in bounded memory.

Each level is a top-level tiled page (OpenSlide ignores SubIFD pyramids), level 0 first, reduced levels
marked ``subfiletype=1``; resolution tags in centimetres so OpenSlide reports ``openslide.mpp-x``. Level 0 is
produced tile by tile from a callback; each reduced level is accumulated in a disk-backed memmap while the
level above is written, so memory holds about one row of tiles whatever the slide size.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import tifffile

from hookseg.io import atomic_path, temp_tag

TileFn = Callable[
    [int, int, int, int], np.ndarray
]  # (x, y, width, height) -> (height, width[, channels]) uint8


def pyramid_shapes(width: int, height: int, min_size: int = 512) -> list[tuple[int, int]]:
    """Level sizes halving each time until the longer side is at most ``min_size``."""
    shapes = [(width, height)]
    while max(shapes[-1]) > min_size:
        w, h = shapes[-1]
        shapes.append((math.ceil(w / 2), math.ceil(h / 2)))
    return shapes


def write_pyramid(
    path: str | Path,
    size: tuple[int, int],
    tile_fn: TileFn,
    *,
    mpp: float,
    channels: int = 3,
    tile_size: int = 256,
    compression: str = "jpeg",
    quality: int = 90,
    labels: bool = False,
    min_level_size: int = 512,
    description: str | None = None,
) -> Path:
    """Write a pyramid of ``size`` = (width, height) level-0 pixels, rendered by ``tile_fn``.

    ``labels=True`` builds reduced levels by nearest sampling (classes stay discrete) and should be used
    with a lossless ``compression`` such as "zlib"; images are averaged 2x2.
    """
    width, height = size
    shapes = pyramid_shapes(width, height, min_level_size)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"hookseg-pyramid-{temp_tag()}-", dir=path.parent) as scratch, \
            atomic_path(path) as tmp, tifffile.TiffWriter(tmp, bigtiff=True) as tif:
        source: Callable[[int, int, int, int], np.ndarray] = tile_fn
        for index, (lw, lh) in enumerate(shapes):
            reduced = None
            if index + 1 < len(shapes):
                nw, nh = shapes[index + 1]
                shape = (nh, nw) if channels == 1 else (nh, nw, channels)
                reduced = np.lib.format.open_memmap(Path(scratch) / f"level{index + 1}.npy", mode="w+",
                                                    dtype=np.uint8, shape=shape)
            ds = 2**index
            kwargs = {"compressionargs": {"level": quality}} if compression == "jpeg" else {}
            tif.write(
                _tiles(source, lw, lh, tile_size, channels, reduced, labels),
                shape=(lh, lw) if channels == 1 else (lh, lw, channels),
                dtype=np.uint8,
                tile=(tile_size, tile_size),
                compression=compression,
                photometric="minisblack" if channels == 1 else "rgb",
                resolution=(1e4 / (mpp * ds), 1e4 / (mpp * ds)),
                resolutionunit="CENTIMETER",
                subfiletype=0 if index == 0 else 1,
                description=description if index == 0 else None,
                metadata=None,
                **kwargs,
            )
            if reduced is not None:
                reduced.flush()
                source = _array_tiles(reduced)
    return path


def _array_tiles(array: np.ndarray) -> TileFn:
    def read(x: int, y: int, w: int, h: int) -> np.ndarray:
        return array[y : y + h, x : x + w]

    return read


def _tiles(
    tile_fn: TileFn, width: int, height: int, tile: int, channels: int,
    reduced: np.ndarray | None, labels: bool,
) -> Iterator[np.ndarray]:
    """Yield tiles in row-major order (edge tiles padded) and fill the next level's array row by row."""
    for y in range(0, height, tile):
        th = min(tile, height - y)
        row = np.zeros((th, width, channels), dtype=np.uint8)
        for x in range(0, width, tile):
            tw = min(tile, width - x)
            block = np.asarray(tile_fn(x, y, tw, th), dtype=np.uint8).reshape(th, tw, -1)
            if block.shape[-1] != channels:
                msg = f"tile_fn returned {block.shape[-1]} channels at ({x}, {y}); expected {channels}"
                raise ValueError(msg)
            row[:, x : x + tw] = block
        # Reduce before yielding: tifffile stops pulling once it has the last tile, so code after the final
        # yield would never run.
        if reduced is not None:
            half = _halve(row, labels)
            reduced[y // 2 : y // 2 + half.shape[0]] = half if channels > 1 else half[..., 0]
        for x in range(0, width, tile):
            padded = np.zeros((tile, tile, channels), dtype=np.uint8)
            padded[:th, : min(tile, width - x)] = row[:, x : x + tile]
            yield padded if channels > 1 else padded[..., 0]


def _halve(row: np.ndarray, labels: bool) -> np.ndarray:
    """2x reduction of a tile row: nearest (top-left of each 2x2) for labels, 2x2 mean for images."""
    if labels:
        return row[::2, ::2]
    h, w = row.shape[:2]
    padded = np.pad(row, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge").astype(np.uint16)
    summed = padded[0::2, 0::2] + padded[1::2, 0::2] + padded[0::2, 1::2] + padded[1::2, 1::2]
    return ((summed + 2) // 4).astype(np.uint8)
