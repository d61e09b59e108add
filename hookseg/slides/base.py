"""The one reader API: every backend reads regions in level-0 coordinates at a physical mpp."""

from __future__ import annotations

import abc
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hookseg.errors import SlideError
from hookseg.slides.mpp import choose_level
from hookseg.slides.resample import resample_window, window_box

log = logging.getLogger(__name__)

BACKGROUND_RGB = 255  # glass is white: regions outside the slide or its bounds read as white


@dataclass(frozen=True)
class SlideLevel:
    width: int
    height: int
    downsample: float
    mpp: float


@dataclass(frozen=True)
class Bounds:
    """The scanned area in level-0 pixels (``openslide.bounds-*``); the whole image when absent."""

    x: int
    y: int
    width: int
    height: int


def _snap_downsample(width0: int, height0: int, width: int, height: int, downsample: float) -> float:
    """The exact power of two when the level size is level 0 divided by it and rounded either way.

    Pyramids halve with rounding, so a level of an odd-sized slide reports 1.998 or 2.0005 where every level
    pixel really covers 2 x 2 level-0 pixels; using the estimate would shift reads by up to a pixel per 1000.
    """
    exact = 2.0 ** round(math.log2(downsample)) if downsample > 0 else downsample
    fits = all(size in (math.floor(size0 / exact), math.ceil(size0 / exact))
               for size0, size in ((width0, width), (height0, height)))
    return exact if fits else downsample


class SlideReader(abc.ABC):
    """A slide opened for reading. Subclasses implement ``_read_level`` for one container format.

    ``mpp`` given by the caller overrides metadata (scanners sometimes write wrong values); without it a slide
    that has no mpp raises SlideError on open, naming the ways to supply it.
    """

    backend: str = "abstract"

    def __init__(self, path: str | Path, *, mpp: float | None = None) -> None:
        self.path = Path(path)
        self._mpp_override = mpp
        self._levels: tuple[SlideLevel, ...] = ()

    # --- what a backend provides -------------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def vendor(self) -> str: ...

    @property
    @abc.abstractmethod
    def properties(self) -> dict[str, str]: ...

    @abc.abstractmethod
    def _level_geometry(self) -> list[tuple[int, int, float]]:
        """(width, height, downsample) per level, finest first."""

    @abc.abstractmethod
    def _metadata_mpp(self) -> float | None:
        """Level-0 mpp from the file's metadata, or None."""

    @abc.abstractmethod
    def _read_level(self, level: int, x: int, y: int, width: int, height: int) -> np.ndarray:
        """RGB uint8 (height, width, 3) at ``level``, origin in its pixels; white outside the image."""

    def _window_origin(self, level: int, x: int, y: int) -> tuple[float, float]:
        """Where, in level pixels, the window ``_read_level`` returned for (x, y) really starts."""
        return float(x), float(y)

    def close(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Release file handles."""

    # --- shared behaviour ----------------------------------------------------------------------------------
    def _init_levels(self) -> None:
        """Called by subclasses once the file is open: resolves mpp and fixes the level table."""
        mpp = self._resolve_mpp()
        geometry = self._level_geometry()
        width0, height0 = geometry[0][:2]
        self._levels = tuple(
            SlideLevel(w, h, snapped := _snap_downsample(width0, height0, w, h, ds), mpp * snapped)
            for w, h, ds in geometry
        )

    def _resolve_mpp(self) -> float:
        meta = self._metadata_mpp()
        if self._mpp_override is not None:
            if self._mpp_override <= 0:
                msg = f"{self.path}: mpp must be positive. Received: mpp={self._mpp_override}"
                raise SlideError(msg, path=self.path)
            if meta is not None and abs(meta - self._mpp_override) / meta > 0.05:
                log.warning("%s: metadata says %.4f um/px, using the given mpp %.4f", self.path, meta,
                            self._mpp_override)
            return float(self._mpp_override)
        if meta is None:
            msg = (
                f"{self.path}: no microns-per-pixel in the slide metadata (openslide.mpp-x, TIFF resolution "
                "or OME PhysicalSizeX). Supply it: the manifest's `mpp` column, or `--mpp` on the command "
                "line"
            )
            raise SlideError(msg, path=self.path)
        return float(meta)

    @property
    def levels(self) -> tuple[SlideLevel, ...]:
        return self._levels

    @property
    def mpp(self) -> float:
        return self._levels[0].mpp

    @property
    def dimensions(self) -> tuple[int, int]:
        return self._levels[0].width, self._levels[0].height

    @property
    def bounds(self) -> Bounds:
        props = self.properties
        try:
            return Bounds(*(int(props[f"openslide.bounds-{k}"]) for k in ("x", "y", "width", "height")))
        except (KeyError, ValueError):
            return Bounds(0, 0, *self.dimensions)

    def read(
        self, location: tuple[float, float], size: tuple[int, int], mpp: float,
        *, interpolation: str = "area",
    ) -> np.ndarray:
        """Exactly ``size`` = (width, height) RGB pixels at ``mpp``, top-left at level-0 ``location``.

        The finest level that is not coarser than ``mpp`` is read and area-resampled. Outside the image and
        the scanned bounds the result is white.
        """
        width, height = int(size[0]), int(size[1])
        if width <= 0 or height <= 0 or mpp <= 0:
            msg = f"{self.path}: read needs positive size and mpp. Received: size={size}, mpp={mpp}"
            raise SlideError(msg, path=self.path)
        level = choose_level([lv.mpp for lv in self._levels], mpp)
        ds = self._levels[level].downsample
        factor = mpp / self._levels[level].mpp
        lx, ly = location[0] / ds, location[1] / ds
        wx, wy, ww, wh = window_box(lx, ly, width, height, factor)
        window = self._read_level(level, wx, wy, ww, wh)
        window = self._mask_outside_bounds(window, level, wx, wy)
        ox, oy = self._window_origin(level, wx, wy)
        return resample_window(
            window, (lx - ox, ly - oy), (width, height), factor, interpolation=interpolation
        )

    def read_at_center(self, center: tuple[float, float], size: tuple[int, int], mpp: float) -> np.ndarray:
        """Like ``read`` but centred on level-0 ``center``: what paired fields of view use to stay aligned."""
        scale = mpp / self.mpp
        location = (center[0] - size[0] * scale / 2, center[1] - size[1] * scale / 2)
        return self.read(location, size, mpp)

    def thumbnail(self, max_size: int = 1024) -> tuple[np.ndarray, float]:
        """RGB thumbnail of the scanned bounds whose longer side is ``max_size``, and its mpp."""
        b = self.bounds
        mpp = self.mpp * max(b.width, b.height) / max_size
        size = (max(1, round(b.width * self.mpp / mpp)), max(1, round(b.height * self.mpp / mpp)))
        return self.read((b.x, b.y), size, mpp), mpp

    def info(self) -> dict[str, Any]:
        b = self.bounds
        return {
            "path": str(self.path),
            "backend": self.backend,
            "vendor": self.vendor,
            "mpp": self.mpp,
            "dimensions": list(self.dimensions),
            "bounds": {"x": b.x, "y": b.y, "width": b.width, "height": b.height},
            "levels": [
                {"width": lv.width, "height": lv.height, "downsample": lv.downsample, "mpp": lv.mpp}
                for lv in self._levels
            ],
        }

    def _mask_outside_bounds(self, window: np.ndarray, level: int, wx: int, wy: int) -> np.ndarray:
        b = self.bounds
        if (b.x, b.y, b.width, b.height) == (0, 0, *self.dimensions):
            return window
        ds = self._levels[level].downsample
        h, w = window.shape[:2]
        xs = (wx + np.arange(w) + 0.5) * ds
        ys = (wy + np.arange(h) + 0.5) * ds
        inside_x = (xs >= b.x) & (xs < b.x + b.width)
        inside_y = (ys >= b.y) & (ys < b.y + b.height)
        if inside_x.all() and inside_y.all():
            return window
        window = window.copy()
        window[~inside_y, :] = BACKGROUND_RGB
        window[:, ~inside_x] = BACKGROUND_RGB
        return window

    def __enter__(self) -> SlideReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, mpp={self.mpp:.4f}, dimensions={self.dimensions})"
