"""ASAP XML (``ASAP_Annotations/Annotations/Annotation``): read and write.

ASAP has one simple polygon per ``<Annotation>`` and no holes. To round-trip a MultiPolygon with holes,
the writer emits one ``<Annotation>`` per polygon part and per hole, linked by ``hookseg_id``,
``hookseg_part`` and ``hookseg_role`` attributes that ASAP ignores. Holes go into a separate ``hole`` group,
so a tool that does not know the convention shows them as their own group instead of filling them with
the label. Files without these attributes read as one polygon per ``<Annotation>``, labelled by
``PartOfGroup``.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET  # writing only: every read goes through defusedxml
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import defusedxml
import defusedxml.ElementTree as SafeET
import numpy as np
from shapely.geometry import MultiPolygon

from hookseg.annotations._io import Color, hex_color, parse_color
from hookseg.annotations.model import Annotation, AnnotationSet, GeometryRepair
from hookseg.errors import AnnotationError
from hookseg.io import atomic_path

log = logging.getLogger(__name__)

EXPECTED = "ASAP XML: <ASAP_Annotations><Annotations><Annotation PartOfGroup=...><Coordinates>..."
AREA_TYPES = ("Polygon", "Rectangle", "Spline")
HOLE_GROUP = "hole"
HOLE_COLOR: Color = (128, 128, 128)
DEFAULT_COLOR: Color = (244, 250, 88)  # ASAP's own default annotation colour
UNGROUPED = ("", "None", "none")
UNCLASSIFIED = "unclassified"


def read_asap_xml(path: str | Path) -> AnnotationSet:
    """Read an ASAP annotation file."""
    source = str(path)
    try:
        root = SafeET.parse(path).getroot()
    except FileNotFoundError:
        msg = f"{path}: annotation file not found. Expected {EXPECTED}"
        raise AnnotationError(msg, path=path) from None
    except defusedxml.DefusedXmlException as err:  # entity expansion, external entities, DTD tricks
        msg = f"{path}: refused XML ({type(err).__name__}: no entities or DTDs are read). Expected {EXPECTED}"
        raise AnnotationError(msg, path=path) from None
    except ET.ParseError as err:
        msg = f"{path}: not well-formed XML ({err}). Expected {EXPECTED}"
        raise AnnotationError(msg, path=path) from None
    return parse_asap(root, source=source)


def parse_asap(root: ET.Element, *, source: str | None = None) -> AnnotationSet:
    container = root.find("Annotations")
    if root.tag != "ASAP_Annotations" or container is None:
        found = f"<{root.tag}> with children {[c.tag for c in root][:5]}"
        msg = f"{source}: no <Annotations> under <ASAP_Annotations>. Received: {found}. Expected {EXPECTED}"
        raise AnnotationError(msg, path=source)
    group_colors = {
        g.get("Name"): parse_color(g.get("Color")) for g in root.iterfind("AnnotationGroups/Group")
    }
    repair = GeometryRepair(source)
    linked: dict[str, dict[str, Any]] = defaultdict(lambda: {"parts": {}, "holes": defaultdict(list)})
    annotations: list[tuple[int, Annotation]] = []  # (first element index, annotation) keeps file order
    for index, element in enumerate(container.iterfind("Annotation")):
        kind = element.get("Type", "Polygon")
        if kind not in AREA_TYPES:
            repair.skip(index, f"annotation type {kind!r} has no area (expected one of {list(AREA_TYPES)})")
            continue
        points = _coordinates(element, repair, index)
        if points is None:
            continue
        group = element.get("PartOfGroup", "")
        label = UNCLASSIFIED if group in UNGROUPED else group
        color = parse_color(element.get("Color")) or group_colors.get(group)
        key = element.get("hookseg_id")
        if key is None:
            polygon = repair.clean(repair.polygon(points, index=index), index)
            if polygon is not None:
                annotations.append((index, Annotation(polygon, label, source, color, element.get("Name"))))
            continue
        entry, part = linked[key], element.get("hookseg_part", "0")
        if element.get("hookseg_role") == "hole":
            entry["holes"][part].append(points)
        else:
            entry["parts"][part] = points
            entry.setdefault("meta", (index, label, color, element.get("Name")))
    for key, entry in linked.items():
        if "meta" not in entry:
            repair.skip(f"hookseg_id={key}", "holes without their exterior")
            continue
        index, label, color, name = entry["meta"]
        polygons = [
            repair.polygon(ext, entry["holes"].get(part, []), index=index)
            for part, ext in entry["parts"].items()
        ]
        polygons = [p for p in polygons if p is not None]
        geometry = polygons[0] if len(polygons) == 1 else MultiPolygon(polygons) if polygons else None
        geometry = repair.clean(geometry, index)
        if geometry is not None:
            annotations.append((index, Annotation(geometry, label, source, color, name)))
    repair.report()
    return AnnotationSet(a for _, a in sorted(annotations, key=lambda t: t[0]))


def _coordinates(element: ET.Element, repair: GeometryRepair, index: int) -> np.ndarray | None:
    coords = element.findall("Coordinates/Coordinate")
    try:
        rows = sorted(
            (
                float(c.get("Order", i)),
                float(c.get("X", "").replace(",", ".")),
                float(c.get("Y", "").replace(",", ".")),
            )
            for i, c in enumerate(coords)
        )
    except ValueError:
        repair.skip(index, "a Coordinate without numeric Order, X and Y")
        return None
    return repair.ring([r[1:] for r in rows] or np.zeros((0, 2)), index)


def write_asap_xml(
    annotations: AnnotationSet,
    path: str | Path,
    *,
    colors: Mapping[str, Color] | None = None,
) -> Path:
    """Write ASAP XML atomically, with an ``AnnotationGroups`` entry (and colour) per label."""
    colors = colors or {}
    root = ET.Element("ASAP_Annotations")
    container = ET.SubElement(root, "Annotations")
    group_colors: dict[str, Color | None] = {}
    has_holes = False
    for i, a in enumerate(annotations):
        color = colors.get(a.label, a.color)
        group_colors.setdefault(a.label, color)
        polygons = list(a.geometry.geoms) if isinstance(a.geometry, MultiPolygon) else [a.geometry]
        linked = len(polygons) > 1 or any(p.interiors for p in polygons)
        name = a.name or f"Annotation {i}"
        for k, polygon in enumerate(polygons):
            attrs = {
                "Name": name,
                "Type": "Polygon",
                "PartOfGroup": a.label,
                "Color": hex_color(color or DEFAULT_COLOR),
            }
            if linked:
                attrs |= {"hookseg_id": str(i), "hookseg_part": str(k), "hookseg_role": "exterior"}
            _add_ring(container, attrs, polygon.exterior.coords)
            for j, hole in enumerate(polygon.interiors):
                has_holes = True
                hole_attrs = {
                    "Name": f"{name} hole {k}.{j}",
                    "Type": "Polygon",
                    "PartOfGroup": HOLE_GROUP,
                    "Color": hex_color(HOLE_COLOR),
                    "hookseg_id": str(i),
                    "hookseg_part": str(k),
                    "hookseg_role": "hole",
                }
                _add_ring(container, hole_attrs, hole.coords)
    groups = ET.SubElement(root, "AnnotationGroups")
    if has_holes:
        group_colors.setdefault(HOLE_GROUP, HOLE_COLOR)
    for label, color in group_colors.items():
        group = ET.SubElement(
            groups,
            "Group",
            {"Name": label, "PartOfGroup": "None", "Color": hex_color(color or DEFAULT_COLOR)},
        )
        ET.SubElement(group, "Attributes")
    tree = ET.ElementTree(root)
    ET.indent(tree, space="  ")
    with atomic_path(path) as tmp:
        tree.write(tmp, encoding="utf-8", xml_declaration=True)
    return Path(path)


def _add_ring(container: ET.Element, attrs: dict[str, str], coords: Any) -> None:
    """One <Annotation> with the ring's points; the closing point is implicit in ASAP and dropped."""
    xy = np.asarray(coords)[:-1, :2]
    element = ET.SubElement(container, "Annotation", attrs)
    holder = ET.SubElement(element, "Coordinates")
    for order, (x, y) in enumerate(xy):
        ET.SubElement(holder, "Coordinate", {"Order": str(order), "X": repr(float(x)), "Y": repr(float(y))})
