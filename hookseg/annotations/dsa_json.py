"""Digital Slide Archive (HistomicsTK / large_image) annotation JSON: read only.

A file is a list of annotation documents (or one document, or one bare ``annotation`` body); each holds
``annotation.elements``. Closed ``polyline`` elements (``points`` [[x, y, z], ...], optional ``holes``) and
``rectangle`` elements (``center``, ``width``, ``height``, ``rotation`` in radians, measured from the x
axis towards y in image coordinates, as HistomicsTK's UI writes it) become polygons. The label is the
element's ``group`` (HistomicsTK's class), else ``label.value``. Points are base-level pixels.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

import numpy as np
from shapely import affinity
from shapely.geometry import Polygon, box

from hookseg.annotations._io import load_json, parse_color
from hookseg.annotations.model import Annotation, AnnotationSet, GeometryRepair
from hookseg.errors import AnnotationError

log = logging.getLogger(__name__)

EXPECTED = (
    "DSA annotation JSON: a list of documents with `annotation.elements`, one document, or an annotation body"
)


def read_dsa_json(path: str | Path) -> AnnotationSet:
    """Read a DSA / HistomicsTK annotation file."""
    return parse_dsa(load_json(path, expected=EXPECTED), source=str(path))


def parse_dsa(obj: Any, *, source: str | None = None) -> AnnotationSet:
    """Annotations from already-parsed DSA JSON; ``source`` names the file in messages."""
    repair = GeometryRepair(source)
    counter = itertools.count()
    annotations = []
    for doc_index, body in enumerate(_bodies(obj, source)):
        elements = body.get("elements")
        if not isinstance(elements, list):
            msg = (
                f"{source}: document {doc_index} has no `elements` list. "
                f"Received: elements={type(elements).__name__}. Expected {EXPECTED}"
            )
            raise AnnotationError(msg, path=source)
        doc_name = body.get("name") if isinstance(body.get("name"), str) else None
        for element in elements:
            index = next(counter)  # elements numbered through the file, as a flat list of features
            if not isinstance(element, dict):
                repair.skip(index, "element is not an object")
                continue
            geometry = repair.clean(_element_geometry(element, repair, index), index)
            if geometry is None:
                continue
            label_value = (
                (element.get("label") or {}).get("value") if isinstance(element.get("label"), dict) else None
            )
            label = element.get("group") or label_value or doc_name
            if not isinstance(label, str) or not label.strip():
                repair.skip(index, "no group, label.value or document name to use as a label")
                continue
            color = parse_color(element.get("lineColor")) or parse_color(element.get("fillColor"))
            annotations.append(
                Annotation(geometry, label.strip(), source=source, color=color, name=label_value or doc_name)
            )
    repair.report()
    return AnnotationSet(annotations)


def _bodies(obj: Any, source: str | None) -> list[dict[str, Any]]:
    """The annotation bodies (the dicts holding ``elements``) in file order."""
    docs = obj if isinstance(obj, list) else [obj]
    bodies = []
    for i, doc in enumerate(docs):
        if isinstance(doc, dict) and isinstance(doc.get("annotation"), dict):
            bodies.append(doc["annotation"])
        elif isinstance(doc, dict) and "elements" in doc:
            bodies.append(doc)
        else:
            preview = repr(doc)[:80]
            msg = f"{source}: item {i} is not a DSA document. Received: {preview}. Expected {EXPECTED}"
            raise AnnotationError(msg, path=source)
    return bodies


def _element_geometry(element: dict[str, Any], repair: GeometryRepair, index: int) -> Polygon | None:
    kind = element.get("type")
    if kind == "polyline":
        if not element.get("closed", False):
            repair.skip(index, "open polyline has no area")
            return None
        return repair.polygon(element.get("points"), element.get("holes") or [], index=index)
    if kind == "rectangle":
        try:
            cx, cy = (float(v) for v in element["center"][:2])
            width, height = float(element["width"]), float(element["height"])
            rotation = float(element.get("rotation", 0.0) or 0.0)
        except (KeyError, TypeError, ValueError):
            repair.skip(index, "rectangle without numeric center, width and height")
            return None
        if not (np.isfinite([cx, cy, width, height, rotation]).all() and width > 0 and height > 0):
            repair.skip(index, f"rectangle of size {width} x {height}")
            return None
        rect = box(cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
        return affinity.rotate(rect, rotation, origin=(cx, cy), use_radians=True) if rotation else rect
    repair.skip(index, f"element type {kind!r} is not read (expected a closed polyline or a rectangle)")
    return None
