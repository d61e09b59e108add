"""Helpers the format modules share: JSON loading with a useful error, and colour parsing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hookseg.errors import AnnotationError

Color = tuple[int, int, int]

_RGB_RE = re.compile(r"^\s*rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*[\d.]+\s*)?\)\s*$", re.IGNORECASE)
_HEX_RE = re.compile(r"^\s*#([0-9a-f]{6})(?:[0-9a-f]{2})?\s*$", re.IGNORECASE)


def load_json(path: str | Path, *, expected: str) -> Any:
    """Parse a JSON file; a missing, unreadable or truncated file is an AnnotationError naming it."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except FileNotFoundError:
        msg = f"{path}: annotation file not found. Expected {expected}"
        raise AnnotationError(msg, path=path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        msg = f"{path}: not valid JSON ({err}). Expected {expected}"
        raise AnnotationError(msg, path=path) from None


def parse_color(value: Any) -> Color | None:
    """An (r, g, b) from what annotation tools write; None when absent or unreadable.

    Accepted: [r, g, b] (QuPath >= 0.3), a packed (A)RGB int, signed or not (QuPath's ``colorRGB``),
    "rgb(r,g,b)" / "rgba(r,g,b,a)" (DSA) and "#rrggbb" (ASAP).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        packed = value & 0xFFFFFF
        return ((packed >> 16) & 255, (packed >> 8) & 255, packed & 255)
    if isinstance(value, list | tuple) and len(value) in (3, 4):
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:3]):
            rgb = tuple(int(round(v)) for v in value[:3])
            if all(0 <= v <= 255 for v in rgb):
                return rgb  # type: ignore[return-value]
        return None
    if isinstance(value, str):
        if match := _RGB_RE.match(value):
            rgb = tuple(int(v) for v in match.groups())
            return rgb if all(v <= 255 for v in rgb) else None  # type: ignore[return-value]
        if match := _HEX_RE.match(value):
            hexa = match.group(1)
            return (int(hexa[0:2], 16), int(hexa[2:4], 16), int(hexa[4:6], 16))
    return None


def hex_color(color: Color) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)
