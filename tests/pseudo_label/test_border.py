"""The ignore band at class borders: pixels near a change of the model's class are ignored, any tiling."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import shapely

from hookseg.annotations import Annotation, AnnotationSet, write_annotations
from hookseg.cohort.manifest import SlideRecord
from hookseg.sampling import open_labels, read_labels, write_label_raster
from pseudo_label import labeller
from pseudo_label.border import border_band, radius_px, tile_band
from tests.factories import banded_slide


def test_band_covers_pixels_within_the_radius_of_another_class():
    classes = np.zeros((20, 40), np.uint8)
    classes[:, 20:] = 1
    band = border_band(classes, 3)
    assert band[:, 17:23].all()  # 3 px either side of the change
    assert not band[:, :17].any() and not band[:, 23:].any()
    assert not border_band(np.ones((5, 5), np.uint8), 3).any()  # one class: no border
    assert not border_band(classes, 0).any()


def test_band_radius_follows_microns_and_mpp():
    assert radius_px(8, 2.0) == 4
    assert radius_px(8, 0.5) == 16
    assert radius_px(0, 2.0) == 0


def test_tile_band_reads_a_margin_so_tiles_agree_with_the_whole():
    rng = np.random.default_rng(0)
    probs = np.zeros((64, 96, 3), np.uint8)
    classes = rng.integers(0, 3, (8, 12)).repeat(8, 0).repeat(8, 1)
    np.put_along_axis(probs, classes[..., None], 255, axis=-1)
    whole = border_band(classes, 3)
    tiled = np.zeros_like(whole)
    for y in range(0, 64, 16):
        for x in range(0, 96, 32):
            tiled[y : y + 16, x : x + 32] = tile_band(probs, x, y, 32, 16, 3)
    np.testing.assert_array_equal(tiled, whole)


@pytest.fixture(scope="module")
def straddled_slide(tmp_path_factory):
    """A banded slide whose annotation straddles the background/tumour border (raster x = 128)."""
    folder = tmp_path_factory.mktemp("border")
    slide, _ = banded_slide(folder, "s", size=(768, 512), mpp=1.0)
    square = shapely.box(240, 100, 280, 140)  # slide px: raster [120, 140) x [50, 70)
    path = write_annotations(AnnotationSet([Annotation(square, "tumour")]), folder / "s.geojson")
    return SlideRecord("s", slide, "ER", "A", "DS1", "train", "P1", path)


def _label(model, meta, record, out, monkeypatch, tile_size: int, border_um: float) -> np.ndarray:
    tiled = functools.partial(write_label_raster, tile_size=tile_size)
    monkeypatch.setattr(labeller, "write_label_raster", tiled)
    labeller.label_slide(model, meta, record, 0.5, out, border_um=border_um)
    with open_labels(out) as raster:
        return read_labels(raster, (0, 0), raster.dimensions, raster.mpp)


def test_border_band_is_independent_of_tile_size_and_removes_pixels_at_class_changes(
    colour_model, straddled_slide, tmp_path, monkeypatch,
):
    model, meta, _ = colour_model
    small = _label(model, meta, straddled_slide, tmp_path / "small.tiff", monkeypatch, 80, 8.0)
    large = _label(model, meta, straddled_slide, tmp_path / "large.tiff", monkeypatch, 256, 8.0)
    plain = _label(model, meta, straddled_slide, tmp_path / "plain.tiff", monkeypatch, 80, 0.0)
    np.testing.assert_array_equal(small, large)
    radius = radius_px(8.0, meta.fov.mpp)
    rows = slice(100, 200)  # below the annotation, above the glass
    # Bands change class at raster x = 128 and 256: the band ignores `radius` px either side, not more.
    for edge in (128, 256):
        assert (small[rows, edge - radius + 1 : edge + radius - 1] == 255).all()
        assert (plain[rows, edge - radius + 1 : edge + radius - 1] != 255).all()
        assert (small[rows, edge - 3 * radius] != 255).all()
        assert (small[rows, edge + 3 * radius] != 255).all()
    assert (small == 255).sum() > (plain == 255).sum()
    # Manual annotations win over the band: the straddling square stays tumour.
    assert (small[50:70, 120:140] == 1).all()
