"""The in-memory form every annotation format reads into and writes from.

Coordinates are slide level-0 pixels, x right and y down, with pixel (i, j) covering [i, i+1) x [j, j+1): a
polygon traced along pixel edges has exactly the pixel count as its area. Readers differ only in how they
get to this form, so conversions and rasterising never depend on where an annotation came from.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import overload

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from hookseg.errors import AnnotationError

log = logging.getLogger(__name__)

Color = tuple[int, int, int]
Bounds = tuple[float, float, float, float]


class AnnotationWarning(UserWarning):
    """An annotation file was read, but some of its geometry had to be repaired or skipped."""


@dataclasses.dataclass(frozen=True)
class Annotation:
    """One labelled region: a (Multi)Polygon with holes and the label its annotator gave it."""

    geometry: Polygon | MultiPolygon
    label: str
    source: str | None = None
    color: Color | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.geometry, Polygon | MultiPolygon):
            msg = (
                f"Annotation geometry must be a shapely Polygon or MultiPolygon. "
                f"Received: geometry={type(self.geometry).__name__}"
            )
            raise AnnotationError(msg, path=self.source)
        if not isinstance(self.label, str) or not self.label:
            msg = f"Annotation label must be a non-empty string. Received: label={self.label!r}"
            raise AnnotationError(msg, path=self.source)

    @property
    def area(self) -> float:
        return float(self.geometry.area)

    def with_geometry(self, geometry: Polygon | MultiPolygon) -> Annotation:
        return dataclasses.replace(self, geometry=geometry)


class AnnotationSet(Sequence[Annotation]):
    """An immutable, ordered collection of annotations (typically one file's worth)."""

    def __init__(self, annotations: Iterable[Annotation] = ()) -> None:
        self._items: tuple[Annotation, ...] = tuple(annotations)
        for i, item in enumerate(self._items):
            if not isinstance(item, Annotation):
                msg = f"AnnotationSet items must be Annotation. Received: item {i} of {type(item).__name__}"
                raise TypeError(msg)

    @overload
    def __getitem__(self, index: int) -> Annotation: ...
    @overload
    def __getitem__(self, index: slice) -> AnnotationSet: ...
    def __getitem__(self, index: int | slice) -> Annotation | AnnotationSet:
        if isinstance(index, slice):
            return AnnotationSet(self._items[index])
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Annotation]:
        return iter(self._items)

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}: {v}" for k, v in self.label_counts().items())
        return f"AnnotationSet({len(self)} annotations; {counts})"

    def __add__(self, other: AnnotationSet) -> AnnotationSet:
        return AnnotationSet((*self._items, *other))

    def labels(self) -> list[str]:
        """Distinct labels in first-seen order."""
        return list(dict.fromkeys(a.label for a in self._items))

    def label_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for a in self._items:
            counts[a.label] = counts.get(a.label, 0) + 1
        return counts

    def geometries(self) -> np.ndarray:
        """The geometries as a shapely object array, for vectorised queries."""
        return np.array([a.geometry for a in self._items], dtype=object)

    @property
    def bounds(self) -> Bounds | None:
        """(min_x, min_y, max_x, max_y) over all annotations; None when the set is empty."""
        if not self._items:
            return None
        b = shapely.bounds(self.geometries())
        return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))

    def map_geometry(self, func: Callable[[np.ndarray], np.ndarray]) -> AnnotationSet:
        """Apply a vectorised coordinate transform (N, 2) -> (N, 2) to every annotation."""
        geoms = shapely.transform(self.geometries(), func) if self._items else []
        return AnnotationSet(a.with_geometry(g) for a, g in zip(self._items, geoms, strict=True))

    def translated(self, dx: float, dy: float) -> AnnotationSet:
        offset = np.array([dx, dy], dtype=np.float64)
        return self.map_geometry(lambda xy: xy + offset)

    def scaled(self, factor: float) -> AnnotationSet:
        """Multiply every coordinate by ``factor`` about the origin (0, 0), e.g. to go between levels."""
        if not factor > 0:
            msg = f"Scale factor must be positive. Received: factor={factor!r}"
            raise ValueError(msg)
        return self.map_geometry(lambda xy: xy * factor)

    def relabelled(self, func: Callable[[Annotation], Annotation]) -> AnnotationSet:
        """A new set with ``func`` applied to each annotation (e.g. clubbing fine labels into classes)."""
        return AnnotationSet(func(a) for a in self._items)


class GeometryRepair:
    """Make one file's geometries usable and tell the user, once per file, what was changed.

    Invalid polygons (self-intersections) are repaired with ``shapely.make_valid``, keeping only polygonal
    parts; empty or degenerate ones are skipped. Warnings are collected and emitted by ``report()`` as one
    line per kind, naming the file and the feature indices, so a file with hundreds of issues stays readable.
    """

    def __init__(self, source: str | None) -> None:
        self.source = source
        self.repaired: list[tuple[int | str, str]] = []
        self.skipped: list[tuple[int | str, str]] = []

    def skip(self, index: int | str, reason: str) -> None:
        if index not in {i for i, _ in self.skipped}:  # one entry per feature
            self.skipped.append((index, reason))

    def ring(self, coords: object, index: int | str) -> np.ndarray | None:
        """(N, 2) float coordinates of a ring, or None (recorded) when it has fewer than 3 distinct points."""
        try:
            xy = np.asarray(coords, dtype=np.float64)
        except (TypeError, ValueError):
            self.skip(index, "coordinates are not numbers")
            return None
        if xy.ndim != 2 or xy.shape[1] < 2:
            self.skip(index, f"expected a list of [x, y] points, got an array of shape {xy.shape}")
            return None
        xy = xy[:, :2]
        if not np.isfinite(xy).all():
            self.skip(index, "coordinates contain NaN or infinity")
            return None
        if len(np.unique(xy, axis=0)) < 3:
            self.skip(index, f"fewer than 3 distinct points ({len(xy)} given)")
            return None
        return xy

    def polygon(self, exterior: object, holes: Sequence[object] = (), *, index: int | str) -> Polygon | None:
        shell = self.ring(exterior, index)
        if shell is None:
            return None
        kept = [
            h
            for h in (self.ring(hole, f"{index} (hole {j})") for j, hole in enumerate(holes))
            if h is not None
        ]
        return Polygon(shell, kept)

    def clean(self, geometry: shapely.Geometry | None, index: int | str) -> Polygon | MultiPolygon | None:
        """The polygonal, valid part of ``geometry``; None (recorded) when nothing with area is left."""
        if geometry is None or geometry.is_empty:
            self.skip(index, "empty geometry")  # no-op when a bad ring already said why
            return None
        repaired = None
        if not geometry.is_valid:
            repaired = shapely.is_valid_reason(geometry)
            geometry = shapely.make_valid(geometry)
        geometry = _polygonal(geometry)
        if geometry is None or geometry.is_empty or geometry.area <= 0:
            self.skip(index, "no area (degenerate or collinear points)")
            return None
        if repaired is not None:
            self.repaired.append((index, repaired))
        return geometry

    def report(self) -> None:
        where = self.source or "<in memory>"
        if self.repaired:
            indices = _short_list([i for i, _ in self.repaired])
            msg = (
                f"{where}: repaired {len(self.repaired)} invalid polygon(s) with shapely.make_valid, "
                f"keeping polygonal parts (feature index {indices}; first: {self.repaired[0][1]})"
            )
            warnings.warn(msg, AnnotationWarning, stacklevel=3)
        if self.skipped:
            indices = _short_list([i for i, _ in self.skipped])
            msg = (
                f"{where}: skipped {len(self.skipped)} geometr(y/ies) with no usable area "
                f"(feature index {indices}; first: {self.skipped[0][1]})"
            )
            warnings.warn(msg, AnnotationWarning, stacklevel=3)


def _polygonal(geometry: shapely.Geometry) -> Polygon | MultiPolygon | None:
    """Keep only the Polygon parts (make_valid may add lines and points where a polygon collapsed)."""
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    parts = [
        p for p in shapely.get_parts(geometry) if isinstance(p, Polygon | MultiPolygon) and not p.is_empty
    ]
    polygons = [q for p in parts for q in shapely.get_parts(p)]
    if not polygons:
        return None
    return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)


def _short_list(items: Sequence[object], limit: int = 10) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f", ... {len(items) - limit} more" if len(items) > limit else "")
