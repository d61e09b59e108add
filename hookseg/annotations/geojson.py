"""QuPath GeoJSON: read what QuPath exports (FeatureCollection, Feature, bare list) and write what it imports.

QuPath stores the class in ``properties.classification`` ({"name", "color"}; older versions a packed
``colorRGB`` int, some tools a plain string) and the object's own name in ``properties.name``. Coordinates
are level-0 pixels with no offset, the same frame hookseg uses, so nothing is shifted either way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shapely.geometry import MultiPolygon, Polygon, mapping

from hookseg.annotations._io import Color, load_json, parse_color
from hookseg.annotations.model import Annotation, AnnotationSet, GeometryRepair
from hookseg.errors import AnnotationError
from hookseg.io import atomic_write_text

log = logging.getLogger(__name__)

EXPECTED = "a GeoJSON FeatureCollection, a Feature or a list of Features (QuPath export)"
UNCLASSIFIED = "unclassified"
_AREA_TYPES = ("Polygon", "MultiPolygon", "GeometryCollection")


def read_geojson(path: str | Path) -> AnnotationSet:
    """Read a QuPath GeoJSON file."""
    return parse_geojson(load_json(path, expected=EXPECTED), source=str(path))


def parse_geojson(obj: Any, *, source: str | None = None) -> AnnotationSet:
    """Annotations from already-parsed GeoJSON; ``source`` names the file in messages."""
    features = _features(obj, source)
    repair = GeometryRepair(source)
    annotations = []
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type", "Feature") != "Feature":
            msg = (
                f"{source}: feature {index} is not a GeoJSON Feature. "
                f"Received: {_preview(feature)}. Expected {EXPECTED}"
            )
            raise AnnotationError(msg, path=source)
        geometry = repair.clean(_geometry(feature.get("geometry"), repair, index), index)
        if geometry is None:
            continue
        props = feature.get("properties") or {}
        label, color = _classification(props)
        name = props.get("name") if isinstance(props.get("name"), str) else None
        annotations.append(Annotation(geometry, label, source=source, color=color, name=name))
    repair.report()
    return AnnotationSet(annotations)


def _features(obj: Any, source: str | None) -> list[Any]:
    if isinstance(obj, list):
        return obj
    if isinstance(obj, dict):
        kind = obj.get("type")
        if kind == "FeatureCollection" and isinstance(obj.get("features"), list):
            return obj["features"]
        if kind == "Feature":
            return [obj]
    msg = f"{source}: unexpected JSON structure. Received: {_preview(obj)}. Expected {EXPECTED}"
    raise AnnotationError(msg, path=source)


def _geometry(geom: Any, repair: GeometryRepair, index: int) -> Polygon | MultiPolygon | None:
    """Shapely polygons from a GeoJSON geometry; non-area types and bad rings are recorded and dropped."""
    if not isinstance(geom, dict):
        repair.skip(index, "no geometry")
        return None
    kind, coords = geom.get("type"), geom.get("coordinates")
    if kind not in _AREA_TYPES:
        repair.skip(index, f"geometry type {kind!r} has no area (expected one of {list(_AREA_TYPES)})")
        return None
    if kind == "GeometryCollection":
        parts = [_geometry(g, repair, index) for g in geom.get("geometries") or []]
        polys = [q for p in parts if p is not None for q in getattr(p, "geoms", [p])]
        return MultiPolygon(polys) if polys else None
    if not isinstance(coords, list) or not coords:
        repair.skip(index, f"{kind} without coordinates")
        return None
    polygons = [coords] if kind == "Polygon" else coords
    built = []
    for k, rings in enumerate(polygons):
        where = index if kind == "Polygon" else f"{index} (part {k})"
        if not isinstance(rings, list) or not rings:
            repair.skip(where, f"{kind} with an empty polygon")
            continue
        poly = repair.polygon(rings[0], rings[1:], index=where)
        if poly is not None:
            built.append(poly)
    if not built:
        return None
    return built[0] if kind == "Polygon" else MultiPolygon(built)


def _classification(props: Mapping[str, Any]) -> tuple[str, Color | None]:
    cls = props.get("classification")
    label, color = None, None
    if isinstance(cls, dict):
        label = cls.get("name") or None
        color = parse_color(cls.get("color", cls.get("colorRGB")))
    elif isinstance(cls, str) and cls.strip():
        label = cls
    if label is None and isinstance(props.get("name"), str) and props["name"].strip():
        label = props["name"]
    if color is None:
        color = parse_color(props.get("color"))
    return (str(label).strip() if label else UNCLASSIFIED), color


def to_geojson(annotations: AnnotationSet, *, colors: Mapping[str, Color] | None = None) -> dict[str, Any]:
    """A QuPath-importable FeatureCollection; ``colors`` (label -> rgb) overrides each annotation's own."""
    colors = colors or {}
    features = []
    for a in annotations:
        classification: dict[str, Any] = {"name": a.label}
        color = colors.get(a.label, a.color)
        if color is not None:
            classification["color"] = [int(c) for c in color]
        properties: dict[str, Any] = {"objectType": "annotation", "classification": classification}
        if a.name:
            properties["name"] = a.name
        features.append({"type": "Feature", "geometry": mapping(a.geometry), "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def write_geojson(
    annotations: AnnotationSet,
    path: str | Path,
    *,
    colors: Mapping[str, Color] | None = None,
) -> Path:
    """Write a FeatureCollection atomically, one feature per line (compact, yet diffable)."""
    collection = to_geojson(annotations, colors=colors)
    lines = [json.dumps(f, separators=(",", ":")) for f in collection["features"]]
    body = ",\n".join(lines)
    atomic_write_text(path, '{"type":"FeatureCollection","features":[\n' + body + "\n]}\n")
    log.debug("wrote %d features to %s", len(lines), path)
    return Path(path)


def _preview(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
