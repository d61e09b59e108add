"""OME-TIFF and tiled pyramidal TIFFs OpenSlide refuses, decoded tile by tile with tifffile.

Only the tiles a region touches are read and decoded, so memory stays bounded whatever the image size.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml
import defusedxml.ElementTree as SafeET
import numpy as np
import tifffile

from hookseg.errors import SlideError
from hookseg.slides.base import BACKGROUND_RGB, SlideReader
from hookseg.slides.mpp import mpp_from_resolution

_OME_UNIT_TO_MICRONS = {"µm": 1.0, "um": 1.0, "nm": 1e-3, "mm": 1e3, "cm": 1e4, "m": 1e6}


class TiffFileReader(SlideReader):
    backend = "tifffile"

    def __init__(self, path: str | Path, *, mpp: float | None = None) -> None:
        super().__init__(path, mpp=mpp)
        try:
            self._tif = tifffile.TiffFile(str(self.path))
            series = self._tif.series[0] if self._tif.series else None
            if series is None:
                msg = f"{self.path}: no readable image in this TIFF; the file may be truncated or not a slide"
                raise SlideError(msg, path=self.path)
            self._pages = [level.keyframe for level in series.levels]
        except SlideError:
            raise
        except (tifffile.TiffFileError, OSError, ValueError) as err:
            msg = f"{self.path}: not a readable TIFF ({err}); expected a tiled, pyramidal or OME-TIFF image"
            raise SlideError(msg, path=self.path) from err
        for page in self._pages:
            if page.samplesperpixel not in (1, 3, 4) or page.ndim not in (2, 3):
                msg = f"{self.path}: unsupported TIFF page shape {page.shape}; expected RGB or grayscale"
                raise SlideError(msg, path=self.path)
        self._init_levels()

    @property
    def vendor(self) -> str:
        return "ome-tiff" if self._tif.is_ome else "tiff"

    @property
    def properties(self) -> dict[str, str]:
        page = self._pages[0]
        props = {f"tiff.{tag.name}": str(tag.value) for tag in page.tags.values() if tag.code < 32768}
        props.pop("tiff.StripOffsets", None)
        props.pop("tiff.TileOffsets", None)
        return props

    def _level_geometry(self) -> list[tuple[int, int, float]]:
        width0 = self._pages[0].imagewidth
        return [(p.imagewidth, p.imagelength, width0 / p.imagewidth) for p in self._pages]

    def _metadata_mpp(self) -> float | None:
        if self._tif.is_ome:
            mpp = _ome_mpp(self._tif.ome_metadata)
            if mpp is not None:
                return mpp
        page = self._pages[0]
        tag = page.tags.get("XResolution")
        unit = page.tags.get("ResolutionUnit")
        if tag is None or unit is None:
            return None
        num, den = tag.value
        return mpp_from_resolution(num / den if den else None, unit.value.name)

    def _read_level(self, level: int, x: int, y: int, width: int, height: int) -> np.ndarray:
        page = self._pages[level]
        out = np.full((height, width, 3), BACKGROUND_RGB, dtype=np.uint8)
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + width, page.imagewidth), min(y + height, page.imagelength)
        if x0 >= x1 or y0 >= y1:
            return out
        try:
            data = _read_page_box(self._tif, page, x0, y0, x1, y1)
        except Exception as err:
            msg = (f"{self.path}: decoding level {level} at ({x0}, {y0}) failed ({err}); "
                   "the file may be truncated")
            raise SlideError(msg, path=self.path) from err
        out[y0 - y : y1 - y, x0 - x : x1 - x] = _as_rgb(data)
        return out

    def close(self) -> None:
        self._tif.close()


def _read_page_box(
    tif: tifffile.TiffFile, page: tifffile.TiffPage, x0: int, y0: int, x1: int, y1: int
) -> np.ndarray:
    """Pixels [y0:y1, x0:x1] of a page, decoding only the tiles (or strips) they touch."""
    if not page.is_tiled:
        if page.rowsperstrip >= page.imagelength or page.compression == 1:
            return page.asarray()[y0:y1, x0:x1]
        tile_w, tile_h = page.imagewidth, page.rowsperstrip
    else:
        tile_w, tile_h = page.tilewidth, page.tilelength
    tiles_across = math.ceil(page.imagewidth / tile_w)
    samples = page.samplesperpixel
    box = np.empty((y1 - y0, x1 - x0, samples), dtype=page.dtype)
    fh = tif.filehandle
    for ty in range(y0 // tile_h, (y1 - 1) // tile_h + 1):
        for tx in range(x0 // tile_w, (x1 - 1) // tile_w + 1):
            index = ty * tiles_across + tx
            fh.seek(page.dataoffsets[index])
            encoded = fh.read(page.databytecounts[index])
            tile, _, _ = page.decode(encoded, index, jpegtables=page.jpegtables)
            tile = tile.reshape(tile.shape[-3:])  # (1, h, w, s) -> (h, w, s)
            ty0, tx0 = ty * tile_h, tx * tile_w
            sy0, sx0 = max(y0, ty0), max(x0, tx0)
            sy1, sx1 = min(y1, ty0 + tile.shape[0]), min(x1, tx0 + tile.shape[1])
            box[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = tile[sy0 - ty0 : sy1 - ty0, sx0 - tx0 : sx1 - tx0]
    return box


def _as_rgb(data: np.ndarray) -> np.ndarray:
    if data.ndim == 2:
        data = data[..., None]
    if data.dtype != np.uint8:
        data = (data.astype(np.float64) * (255.0 / max(float(data.max()), 1.0))).astype(np.uint8)
    if data.shape[-1] == 1:
        return np.repeat(data, 3, axis=-1)
    return data[..., :3]


def _ome_mpp(ome_xml: str | None) -> float | None:
    """PhysicalSizeX of the first OME Image's Pixels, converted to microns."""
    if not ome_xml:
        return None
    try:
        root = SafeET.fromstring(ome_xml)
    except (ET.ParseError, defusedxml.DefusedXmlException):  # an entity-laden description is not metadata
        return None
    for element in root.iter():
        if element.tag.endswith("Pixels") and "PhysicalSizeX" in element.attrib:
            unit = element.attrib.get("PhysicalSizeXUnit", "µm")
            factor = _OME_UNIT_TO_MICRONS.get(unit)
            if factor is None:
                return None
            return float(element.attrib["PhysicalSizeX"]) * factor
    return None
