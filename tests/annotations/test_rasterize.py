"""rasterize(): the pixel-centre rule, holes, nesting, windows and downsampling."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from hookseg.annotations import Annotation, ClassMap, rasterize
from hookseg.errors import AnnotationError


@pytest.fixture(scope="module")
def class_map() -> ClassMap:
    return ClassMap.default()


def _star(rng, center, n=40, r=(3.0, 60.0)):
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = rng.uniform(*r, n)
    return Polygon(np.c_[center[0] + radii * np.cos(angles), center[1] + radii * np.sin(angles)])


@pytest.mark.parametrize("downsample", [0.5, 1.0, 1.7, 4.0])
def test_centre_rule_matches_shapely(class_map, downsample):
    rng = np.random.default_rng(int(downsample * 10))
    agree = total = 0
    for _ in range(8):
        geom = _star(rng, (5000.0, 7000.0))
        if not geom.is_valid:
            continue
        origin = (4900 + rng.uniform(-5, 5), 6900 + rng.uniform(-5, 5))
        size = (int(220 / downsample), int(210 / downsample))
        mask = rasterize(
            [Annotation(geom, "tumour")], class_map, origin=origin, size=size, downsample=downsample
        )
        rows, cols = np.mgrid[0 : size[1], 0 : size[0]]
        cx, cy = origin[0] + (cols + 0.5) * downsample, origin[1] + (rows + 0.5) * downsample
        inside = shapely.contains_xy(geom, cx, cy)
        differ = (mask == 1) != inside
        # Any disagreement must be a boundary pixel: its square straddles the polygon's edge.
        if differ.any():
            r, c = np.nonzero(differ)
            pixels = shapely.box(
                origin[0] + c * downsample,
                origin[1] + r * downsample,
                origin[0] + (c + 1) * downsample,
                origin[1] + (r + 1) * downsample,
            )
            assert shapely.intersects(pixels, geom.boundary).all()
        assert set(np.unique(mask)) <= {1, 255}
        agree += (~differ).sum()
        total += differ.size
    assert agree / total >= 0.995


def test_holes_and_nesting(class_map):
    stroma = Polygon([(0, 0), (100, 0), (100, 100), (0, 100)], [[(60, 60), (80, 60), (80, 80), (60, 80)]])
    dcis = box(10, 10, 30, 30)
    exclude = box(20, 20, 25, 25)
    tumour_in_hole = box(65, 65, 70, 70)
    annotations = [
        Annotation(g, lab)
        for g, lab in [(exclude, "exclude"), (dcis, "DCIS"), (stroma, "stroma"), (tumour_in_hole, "tumor")]
    ]
    mask = rasterize(annotations, class_map, origin=(0, 0), size=(110, 110))
    assert mask[50, 50] == 0  # stroma -> background
    assert mask[15, 15] == 2  # DCIS inside stroma keeps its label
    assert (mask[20:25, 20:25] == 255).all()  # smaller exclude patch wins inside DCIS
    assert mask[75, 75] == 255  # the hole is unannotated
    assert (mask[65:70, 65:70] == 1).all()  # an island in the hole
    assert (mask[:, 100:] == 255).all()
    assert (mask[10:30, 10:30] != 0).all()
    counts = np.bincount(mask.ravel(), minlength=256)
    assert counts[2] == 400 - 25
    assert counts[1] == 25
    assert counts[0] == 100 * 100 - 400 - 400


def test_window_and_downsample(class_map):
    geom = MultiPolygon([box(1000, 2000, 1064, 2032), box(1100, 2000, 1108, 2008)])
    mask = rasterize([Annotation(geom, "tumour")], class_map, origin=(992, 1992), size=(40, 30), downsample=4)
    expected = np.full((30, 40), 255, np.uint8)
    expected[2:10, 2:18] = 1
    expected[2:4, 27:29] = 1
    np.testing.assert_array_equal(mask, expected)


def test_far_away_and_empty(class_map):
    annotation = Annotation(box(0, 0, 10, 10), "tumour")
    assert (rasterize([annotation], class_map, origin=(500, 500), size=(8, 8)) == 255).all()
    assert (rasterize([], class_map, size=(3, 2)) == 255).all()
    assert rasterize([], class_map, size=(3, 2)).shape == (2, 3)


def test_big_polygon_clipped_to_small_window(class_map):
    big = Polygon(
        np.c_[5e4 + 4e4 * np.cos(np.linspace(0, 6.28, 5000)), 5e4 + 4e4 * np.sin(np.linspace(0, 6.28, 5000))]
    )
    mask = rasterize([Annotation(big, "stroma")], class_map, origin=(89990, 49990), size=(20, 20))
    col = np.flatnonzero(mask[10] == 0)
    assert 0 < col.size < 20
    assert shapely.contains_xy(big, 89990 + col[-1] + 0.5, 50000.5)
    assert not shapely.contains_xy(big, 89990 + col[-1] + 1.5, 50000.5)


def test_unknown_label_is_an_error(class_map):
    with pytest.raises(AnnotationError, match="'cartilage'"):
        rasterize([Annotation(box(0, 0, 5, 5), "cartilage", source="s.geojson")], class_map, size=(8, 8))
    with pytest.raises(ValueError, match="size"):
        rasterize([], class_map, size=(0, 4))
