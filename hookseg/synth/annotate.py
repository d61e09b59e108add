"""Partial annotations as the paper's pathologists made them: 2-3 small regions per slide, each annotated
completely with fine-label polygons.

Regions are chosen to differ (one on invasive tumour, one on other tissue such as DCIS, ducts, lobules or a
bad region, one on normal stroma or fat) and not to overlap. Inside a region every layout pixel belongs to
exactly one polygon, traced along pixel edges from the ground truth itself, so rasterising the GeoJSON back
reproduces the ground truth there.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from shapely.geometry import Polygon

from hookseg.annotations import Annotation, AnnotationSet
from hookseg.annotations.label_mask import vectorize
from hookseg.synth.labels import FINE_COLORS, FINE_LABELS
from hookseg.synth.layout import Layout

_OTHER_KINDS = ("dcis", "lobule", "duct", "lymph", "necrosis")


def choose_regions(rng: np.random.Generator, layout: Layout, count: int = 3) -> list[Polygon]:
    """Up to ``count`` non-overlapping, rectangular-ish regions (micrometres) on differing tissue."""
    width, height = layout.size_um
    side = min(width, height)
    targets: list[tuple[float, float]] = []
    beds = layout.of_kind("tumour_bed")
    if beds:
        bed = beds[int(rng.integers(len(beds)))]
        targets.append((bed.x, bed.y))
    others = [s for s in layout.structures if s.kind in _OTHER_KINDS]
    bad = np.argwhere(layout.artefact[::16, ::16] > 0)
    if others and (bad.size == 0 or rng.random() < 0.7):
        s = others[int(rng.integers(len(others)))]
        targets.append((s.x, s.y))
    elif bad.size:
        r, c = bad[int(rng.integers(len(bad)))]
        targets.append(((c * 16 + 8) * layout.grid_mpp, (r * 16 + 8) * layout.grid_mpp))
    tissue = np.argwhere(layout.tissue[::16, ::16] > 0)
    for _ in range(4):  # normal tissue: a few random candidates, the region keeps the first that fits
        if tissue.size:
            r, c = tissue[int(rng.integers(len(tissue)))]
            targets.append(((c * 16 + 8) * layout.grid_mpp, (r * 16 + 8) * layout.grid_mpp))
    regions: list[Polygon] = []
    for x, y in targets:
        if len(regions) >= count:
            break
        for _ in range(6):
            w = float(np.clip(rng.uniform(0.13, 0.22) * side, 100.0, 900.0))
            h = float(np.clip(w * rng.uniform(0.7, 1.4), 80.0, 1000.0))
            cx = float(np.clip(x + rng.normal(0, 0.15 * w), w / 2, width - w / 2))
            cy = float(np.clip(y + rng.normal(0, 0.15 * h), h / 2, height - h / 2))
            region = _rectangular_ish(rng, cx, cy, w, h)
            if not any(region.buffer(0.04 * side).intersects(r) for r in regions):
                regions.append(region)
                break
    return regions


def _rectangular_ish(rng: np.random.Generator, cx: float, cy: float, w: float, h: float) -> Polygon:
    """A hand-drawn rectangle: corners and edge midpoints moved a little, slightly rotated."""
    unit = np.array([(-1, -1), (0, -1.0), (1, -1), (1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0)], float) / 2
    pts = unit * (w, h) + rng.normal(0, 0.03, unit.shape) * (w, h)
    t = rng.normal(0, 0.06)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return Polygon(pts @ rot.T + (cx, cy))


def region_annotations(layout: Layout, regions: list[Polygon], slide_mpp: float) -> AnnotationSet:
    """Fine-label polygons (level-0 pixels of a slide at ``slide_mpp``) covering every region completely."""
    fine = layout.fine()
    g = layout.grid_mpp
    scale = g / slide_mpp
    h, w = fine.shape
    annotations = []
    for number, region in enumerate(regions, start=1):
        x0, y0, x1, y1 = region.bounds
        c0, r0 = max(0, math.floor(x0 / g)), max(0, math.floor(y0 / g))
        c1, r1 = min(w, math.ceil(x1 / g) + 1), min(h, math.ceil(y1 / g) + 1)
        mask = np.zeros((r1 - r0, c1 - c0), np.uint8)
        pts = np.asarray(region.exterior.coords) / g - (c0 + 0.5, r0 + 0.5)
        cv2.fillPoly(mask, [np.round(pts * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
        inside = mask.astype(bool)
        crop = fine[r0:r1, c0:c1]
        for code in np.unique(crop[inside]):
            geometry = vectorize(inside & (crop == code), origin=(c0, r0))
            if geometry is None:
                continue
            if scale != 1:
                geometry = _scaled(geometry, scale)
            label = FINE_LABELS[int(code)]
            annotations.append(Annotation(geometry, label, color=FINE_COLORS[label], name=f"region {number}"))
    return AnnotationSet(annotations)


def _scaled(geometry, factor: float):
    import shapely

    return shapely.transform(geometry, lambda xy: xy * factor)
