"""Slides held in memory: plain PNG/JPEG images (one level) and arrays built by tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from hookseg.errors import SlideError
from hookseg.slides.base import BACKGROUND_RGB, SlideReader
from hookseg.slides.mpp import mpp_from_resolution


class ArrayReader(SlideReader):
    """An RGB array as a one-level slide. ``mpp`` is required: arrays carry no metadata."""

    backend = "array"

    def __init__(self, image: np.ndarray, *, mpp: float | None, path: str | Path = "<array>") -> None:
        super().__init__(path, mpp=mpp)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=-1)
        if image.ndim != 3 or image.shape[-1] not in (3, 4) or image.dtype != np.uint8:
            msg = f"{path}: expected an RGB uint8 image. Received: shape={image.shape}, dtype={image.dtype}"
            raise SlideError(msg, path=path)
        self._image = np.ascontiguousarray(image[..., :3])
        self._init_levels()

    @property
    def vendor(self) -> str:
        return "array"

    @property
    def properties(self) -> dict[str, str]:
        return {}

    def _level_geometry(self) -> list[tuple[int, int, float]]:
        return [(self._image.shape[1], self._image.shape[0], 1.0)]

    def _metadata_mpp(self) -> float | None:
        return None

    def _read_level(self, level: int, x: int, y: int, width: int, height: int) -> np.ndarray:
        out = np.full((height, width, 3), BACKGROUND_RGB, dtype=np.uint8)
        h, w = self._image.shape[:2]
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + width, w), min(y + height, h)
        if x0 < x1 and y0 < y1:
            out[y0 - y : y1 - y, x0 - x : x1 - x] = self._image[y0:y1, x0:x1]
        return out


class ImageFileReader(ArrayReader):
    """A PNG or JPEG as a one-level slide; mpp from its DPI only when plausible for a microscope."""

    backend = "image"

    def __init__(self, path: str | Path, *, mpp: float | None = None) -> None:
        path = Path(path)
        try:
            with Image.open(path) as img:
                self._dpi = img.info.get("dpi")
                image = np.asarray(img.convert("RGB"))
        except (UnidentifiedImageError, OSError, ValueError) as err:
            msg = f"{path}: not a readable image ({err}); expected PNG or JPEG"
            raise SlideError(msg, path=path) from err
        super().__init__(image, mpp=mpp, path=path)

    @property
    def vendor(self) -> str:
        return "image"

    def _metadata_mpp(self) -> float | None:
        if not self._dpi:
            return None
        return mpp_from_resolution(float(self._dpi[0]), "inch")
