"""Format name / file suffix -> reader or writer, imported lazily (STYLE.md rule 2).

``.json`` is shared by QuPath GeoJSON and DSA; the file's start tells them apart (GeoJSON says
``"type": "Feature..."``, DSA documents hold ``"elements"``), with a full parse only when that is unclear.
"""

from __future__ import annotations

import importlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hookseg.annotations.classes import ClassMap, normalize_label
from hookseg.annotations.model import AnnotationSet
from hookseg.errors import AnnotationError

log = logging.getLogger(__name__)

READERS: dict[str, tuple[str, str]] = {
    "geojson": ("hookseg.annotations.geojson", "read_geojson"),
    "asap": ("hookseg.annotations.asap_xml", "read_asap_xml"),
    "dsa": ("hookseg.annotations.dsa_json", "read_dsa_json"),
    "mask": ("hookseg.annotations.label_mask", "read_label_mask"),
}
WRITERS: dict[str, tuple[str, str]] = {
    "geojson": ("hookseg.annotations.geojson", "write_geojson"),
    "asap": ("hookseg.annotations.asap_xml", "write_asap_xml"),
}
SUFFIXES: dict[str, str | None] = {  # None: sniff the content
    ".geojson": "geojson",
    ".json": None,
    ".xml": "asap",
    ".png": "mask",
    ".tif": "mask",
    ".tiff": "mask",
}
_SNIFF_BYTES = 1 << 16
_GEOJSON_RE = re.compile(rb'"type"\s*:\s*"(?:Feature|FeatureCollection|Polygon|MultiPolygon)"')
_DSA_RE = re.compile(rb'"elements"\s*:|"_modelType"\s*:\s*"annotation"')


def _load(table: Mapping[str, tuple[str, str]], name: str, role: str) -> Callable[..., Any]:
    if name not in table:
        msg = f"Unknown format for {role}. Received: format={name!r}. Expected one of {sorted(table)}"
        raise AnnotationError(msg)
    module, attribute = table[name]
    return getattr(importlib.import_module(module), attribute)


def detect_format(path: str | Path, *, writing: bool = False) -> str:
    """The format name for ``path`` from its suffix (and, for .json read, its content)."""
    path = Path(path)
    suffix = path.suffix.lower()
    table = WRITERS if writing else READERS
    if suffix not in SUFFIXES or (SUFFIXES[suffix] is not None and SUFFIXES[suffix] not in table):
        valid = [s for s, f in SUFFIXES.items() if f is None or f in table]
        msg = (
            f"{path}: cannot tell the annotation format from the suffix {suffix!r}. "
            f"Expected one of {valid}, or name the format (format=, CLI --to) as one of {sorted(table)}"
        )
        raise AnnotationError(msg, path=path)
    name = SUFFIXES[suffix]
    if name is None:
        name = "geojson" if writing else _sniff_json(path)
    return name


def _sniff_json(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except FileNotFoundError:
        msg = f"{path}: annotation file not found"
        raise AnnotationError(msg, path=path) from None
    geojson, dsa = _GEOJSON_RE.search(head), _DSA_RE.search(head)
    if geojson and not dsa:
        return "geojson"
    if dsa and not geojson:
        return "dsa"
    try:  # unclear from the first bytes: look at the structure
        obj = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        msg = f"{path}: not valid JSON ({err}). Expected QuPath GeoJSON or DSA annotation JSON"
        raise AnnotationError(msg, path=path) from None
    first = obj[0] if isinstance(obj, list) and obj else obj
    if isinstance(first, dict) and ("annotation" in first or "elements" in first):
        return "dsa"
    return "geojson"


def read_annotations(
    path: str | Path,
    *,
    format: str | None = None,
    codes: str | Path | None = None,
    origin: tuple[float, float] | None = None,
) -> AnnotationSet:
    """Read any supported annotation file into level-0 polygons.

    ``codes`` (a code -> name CSV) and ``origin`` (level-0 x, y of the top-left pixel) apply to label
    masks only; the codes CSV defaults to the single ``*GTcodes.csv`` beside the mask.
    """
    path = Path(path)
    name = format or detect_format(path)
    reader = _load(READERS, name, "reading")
    if name == "mask":
        return reader(path, codes=codes if codes is not None else _default_codes(path), origin=origin)
    if codes is not None or origin is not None:
        msg = (
            f"{path}: codes= and origin= apply to label masks only. "
            f"Received: format={name!r}, codes={codes!r}, origin={origin!r}"
        )
        raise AnnotationError(msg, path=path)
    return reader(path)


def _default_codes(mask: Path) -> Path:
    candidates = sorted(mask.parent.glob("*GTcodes.csv"))
    if len(candidates) == 1:
        return candidates[0]
    found = f"found {[c.name for c in candidates]}" if candidates else "found none"
    msg = (
        f"{mask}: a label mask needs a code table (code -> name CSV). Expected exactly one *GTcodes.csv "
        f"beside it ({found}); pass codes= (CLI: --codes CSV)"
    )
    raise AnnotationError(msg, path=mask)


def write_annotations(
    annotations: AnnotationSet,
    path: str | Path,
    *,
    format: str | None = None,
    class_map: ClassMap | None = None,
) -> Path:
    """Write atomically; labels that are class names get the class map's colours."""
    name = format or detect_format(path, writing=True)
    writer = _load(WRITERS, name, "writing")
    colors = None
    if class_map is not None:
        by_name = {normalize_label(k): v for k, v in class_map.colors_by_name().items()}
        colors = {
            lab: by_name[normalize_label(lab)]
            for lab in annotations.labels()
            if normalize_label(lab) in by_name
        }
    return writer(annotations, path, colors=colors)


def reader_formats() -> list[str]:
    return sorted(READERS)


def writer_formats() -> list[str]:
    return sorted(WRITERS)
