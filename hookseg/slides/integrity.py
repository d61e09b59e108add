"""Refuse a slide whose file cannot hold what its header promises, when it is opened rather than mid-run.

A TIFF-family slide cut short (an interrupted copy or download) still opens: OpenSlide and tifffile read the
header, and the first tile past the end of the file fails hours later, or reads as blank. Every tile or strip
of every page must lie inside the file. ``mpp`` values are checked here too, for every path a value enters by.
"""

from __future__ import annotations

import logging
import math
import struct
from pathlib import Path

from hookseg.errors import SlideError

MPP_RANGE = (0.05, 100.0)  # microns per pixel: finer than any scanner objective to coarser than a thumbnail
TIFF_SUFFIXES = (".tif", ".tiff", ".btf", ".svs", ".ndpi", ".scn", ".bif")


def mpp_problem(value: object) -> str | None:
    """What is wrong with ``value`` as an mpp (finite, within :data:`MPP_RANGE`), or None when nothing is.
    One wording for every place an mpp enters: ``open_slide``, the manifest column, ``--mpp``."""
    low, high = MPP_RANGE
    try:
        mpp = float(value)
    except (TypeError, ValueError):
        mpp = math.nan
    if math.isfinite(mpp) and low <= mpp <= high:
        return None
    return f"expected microns per pixel, finite, in [{low:g}, {high:g}]. Received: {value!r}"


def check_mpp(value: float, where: str) -> float:
    """``value`` as a float if it is a valid mpp, else a one-line error naming ``where``."""
    problem = mpp_problem(value)
    if problem is not None:
        msg = f"{where}: {problem}"
        raise SlideError(msg)
    return float(value)


def check_tiff_complete(path: Path) -> None:
    """The IFD chain and every tile or strip of every page (pyramid levels, SubIFDs, label and macro images)
    lie inside the file. Only headers are read; a file that is not a TIFF is left to the reader."""
    size = path.stat().st_size
    problem = _chain_past_end(path, size) or _tiles_past_end(path, size)
    if problem is not None:
        msg = f"{path}: truncated: {problem}, the file has {size} bytes. Expected the complete file"
        raise SlideError(msg, path=path)


def _chain_past_end(path: Path, size: int) -> str | None:
    """The first IFD offset at or past the end of the file (classic TIFF and BigTIFF)."""
    with path.open("rb") as f:
        head = f.read(16)
        if len(head) < 8 or head[:2] not in (b"II", b"MM"):
            return None
        order = "<" if head[:2] == b"II" else ">"
        version = struct.unpack(order + "H", head[2:4])[0]
        if version == 42:
            offset, count_fmt, entry, next_fmt = struct.unpack(order + "I", head[4:8])[0], "H", 12, "I"
        elif version == 43 and len(head) == 16:
            offset, count_fmt, entry, next_fmt = struct.unpack(order + "Q", head[8:16])[0], "Q", 20, "Q"
        else:
            return None
        count_size, next_size = struct.calcsize(count_fmt), struct.calcsize(next_fmt)
        seen = set()
        for number in range(100_000):
            if offset == 0 or offset in seen:
                return None
            seen.add(offset)
            if offset + count_size > size:
                return f"IFD {number} starts at byte {offset}"
            f.seek(offset)
            count = struct.unpack(order + count_fmt, f.read(count_size))[0]
            end = offset + count_size + count * entry + next_size
            if end > size:
                return f"IFD {number} ends at byte {end}"
            f.seek(offset + count_size + count * entry)
            offset = struct.unpack(order + next_fmt, f.read(next_size))[0]
    return None


def _tiles_past_end(path: Path, size: int) -> str | None:
    """The first page whose tiles or strips end past the end of the file (tifffile's warnings muted)."""
    import tifffile

    logger = logging.getLogger("tifffile")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with tifffile.TiffFile(path) as tif:
            pages = [p for series in tif.series for level_ in series.levels for p in level_.pages]
            for number, page in enumerate(pages):
                ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts, strict=False) if n]
                if ends and max(ends) > size:
                    return f"page {number} ({page.shape[1]}x{page.shape[0]} px) needs {max(ends)} bytes"
    except (tifffile.TiffFileError, ValueError, IndexError, OSError, AttributeError, struct.error):
        return None
    finally:
        logger.setLevel(level)
    return None
