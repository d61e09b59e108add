"""Vendor formats and tiled pyramidal TIFFs through OpenSlide (SVS, NDPI, MRXS, generic-tiff, ...)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import openslide

from hookseg.errors import SlideError
from hookseg.slides.base import BACKGROUND_RGB, SlideReader
from hookseg.slides.mpp import PLAUSIBLE_MPP, mpp_from_resolution


class OpenSlideReader(SlideReader):
    backend = "openslide"

    def __init__(self, path: str | Path, *, mpp: float | None = None) -> None:
        super().__init__(path, mpp=mpp)
        try:
            self._slide = openslide.OpenSlide(str(self.path))
        except (openslide.OpenSlideError, OSError) as err:
            msg = f"{self.path}: OpenSlide cannot open it ({err}); expected a whole-slide image or tiled TIFF"
            raise SlideError(msg, path=self.path) from err
        # OpenSlide's downsamples (not our rounded ones) and properties, kept: each access of either asks the
        # C library again, and every tile read needs both (bounds): a fifth of the Python time of a read.
        self._downsamples = tuple(float(ds) for ds in self._slide.level_downsamples)
        self._properties = dict(self._slide.properties)
        self._init_levels()

    @property
    def vendor(self) -> str:
        return self._slide.properties.get(openslide.PROPERTY_NAME_VENDOR, "unknown")

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._properties)

    def _level_geometry(self) -> list[tuple[int, int, float]]:
        return [
            (w, h, float(ds))
            for (w, h), ds in zip(self._slide.level_dimensions, self._downsamples, strict=True)
        ]

    def _metadata_mpp(self) -> float | None:
        props = self._slide.properties
        try:
            mpp = float(props[openslide.PROPERTY_NAME_MPP_X])
        except (KeyError, ValueError):
            mpp = None
        if mpp is not None and PLAUSIBLE_MPP[0] <= mpp <= PLAUSIBLE_MPP[1]:
            return mpp
        try:
            resolution = float(props["tiff.XResolution"])
        except (KeyError, ValueError):
            return None
        return mpp_from_resolution(resolution, props.get("tiff.ResolutionUnit"))

    def _window_origin(self, level: int, x: int, y: int) -> tuple[float, float]:
        # OpenSlide maps an integer level-0 location to level pixels with its own downsample estimate
        # (7.99 for an odd-sized pyramid's level 3) and interpolates: the window starts at that fraction.
        ds = self._downsamples[level]
        return math.ceil(x * ds) / ds, math.ceil(y * ds) / ds

    def _read_level(self, level: int, x: int, y: int, width: int, height: int) -> np.ndarray:
        ds = self._downsamples[level]
        try:
            region = self._slide.read_region((math.ceil(x * ds), math.ceil(y * ds)), level, (width, height))
        except openslide.OpenSlideError as err:
            msg = (
                f"{self.path}: reading level {level} at ({x}, {y}) failed ({err}); the file may be truncated"
            )
            raise SlideError(msg, path=self.path) from err
        rgba = np.asarray(region)
        if rgba[..., 3].min() == 255:  # opaque (the usual case): no uint16 copy of the alpha plane
            return np.ascontiguousarray(rgba[..., :3])
        alpha = rgba[..., 3:4].astype(np.uint16)
        # Transparent pixels lie outside the scanned image: composite them onto white glass.
        rgb = (rgba[..., :3].astype(np.uint16) * alpha + BACKGROUND_RGB * (255 - alpha)) // 255
        return rgb.astype(np.uint8)

    def close(self) -> None:
        self._slide.close()
