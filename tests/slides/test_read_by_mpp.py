"""Reads by physical resolution: exact size, exact placement, level choice, bounds, both TIFF backends."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hookseg.slides import open_slide, write_pyramid
from hookseg.slides.array_reader import ArrayReader
from hookseg.slides.mpp import choose_level, mpp_from_resolution


def smooth_image(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Low-frequency colour content: JPEG keeps it within a few grey levels."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (height // 32 + 2, width // 32 + 2, 3), dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


@pytest.fixture(scope="module")
def pyramid(tmp_path_factory):
    image = smooth_image(2600, 2100)
    path = tmp_path_factory.mktemp("slides") / "pyramid.tif"
    write_pyramid(path, (2600, 2100), lambda x, y, w, h: image[y : y + h, x : x + w], mpp=0.25, quality=95)
    return path, image


def test_written_pyramid_reads_back_through_openslide(pyramid):
    path, image = pyramid
    with open_slide(path) as slide:
        assert slide.backend == "openslide"
        assert slide.mpp == pytest.approx(0.25)
        assert slide.dimensions == (2600, 2100)
        assert [lv.downsample for lv in slide.levels][:3] == pytest.approx([1, 2, 4], rel=1e-3)
        level0 = slide.read((0, 0), (2600, 2100), 0.25)
    assert np.abs(level0.astype(int) - image).mean() < 2.0


def test_openslide_and_tifffile_backends_agree(pyramid):
    path, _ = pyramid
    with open_slide(path) as a, open_slide(path, backend="tifffile") as b:
        assert a.backend != b.backend
        assert [lv.mpp for lv in a.levels] == pytest.approx([lv.mpp for lv in b.levels])
        for mpp in (0.25, 0.5, 1.3):
            ra = a.read((123, 457), (200, 150), mpp)
            rb = b.read((123, 457), (200, 150), mpp)
            assert np.abs(ra.astype(int) - rb).max() <= 1, mpp
        # Level 3 of this odd-sized pyramid has OpenSlide downsample 7.99, so OpenSlide interpolates sub-pixel
        # there; the pixels still agree on average, i.e. nothing is shifted.
        for mpp in (2.0, 2.7):
            diff = np.abs(
                a.read((123, 457), (200, 150), mpp).astype(int) - b.read((123, 457), (200, 150), mpp)
            )
            assert diff.mean() < 0.6, mpp


def test_integer_downsample_equals_area_resize():
    image = smooth_image(512, 512, seed=3)
    slide = ArrayReader(image, mpp=0.5)
    out = slide.read((64, 32), (100, 120), 2.0)
    expected = cv2.resize(image[32 : 32 + 480, 64 : 64 + 400], (100, 120), interpolation=cv2.INTER_AREA)
    assert out.shape == (120, 100, 3)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("mpp", [0.5, 0.8, 1.0, 2.0, 3.7])
def test_marker_lands_at_its_physical_place(mpp):
    image = np.full((1000, 1000, 3), 255, np.uint8)
    image[520:540, 410:430] = 0  # marker centred at level-0 (420, 530)
    slide = ArrayReader(image, mpp=0.5)
    size = (120, 100)
    center = (400.0, 500.0)
    out = slide.read_at_center(center, size, mpp)
    assert out.shape == (100, 120, 3)
    dark = out[..., 0] < 128
    rows, cols = np.nonzero(dark)
    scale = mpp / 0.5
    expected_col = (420 - center[0]) / scale + size[0] / 2
    expected_row = (530 - center[1]) / scale + size[1] / 2
    weights = 255 - out[..., 0].astype(float)
    col = (weights.sum(0) * (np.arange(size[0]) + 0.5)).sum() / weights.sum()
    row = (weights.sum(1) * (np.arange(size[1]) + 0.5)).sum() / weights.sum()
    assert rows.size > 0
    assert col == pytest.approx(expected_col, abs=0.35)
    assert row == pytest.approx(expected_row, abs=0.35)


def test_outside_the_image_is_white():
    slide = ArrayReader(np.zeros((100, 100, 3), np.uint8), mpp=1.0)
    out = slide.read((-50, -50), (100, 100), 1.0)
    assert (out[:50, :] == 255).all()
    assert (out[:, :50] == 255).all()
    assert (out[50:, 50:] == 0).all()


def test_bounds_are_honoured():
    class BoundedReader(ArrayReader):
        @property
        def properties(self):
            return {"openslide.bounds-x": "20", "openslide.bounds-y": "10",
                    "openslide.bounds-width": "50", "openslide.bounds-height": "40"}

    slide = BoundedReader(np.zeros((100, 100, 3), np.uint8), mpp=1.0)
    assert (slide.bounds.x, slide.bounds.y, slide.bounds.width, slide.bounds.height) == (20, 10, 50, 40)
    out = slide.read((0, 0), (100, 100), 1.0)
    inside = np.zeros((100, 100), bool)
    inside[10:50, 20:70] = True
    assert (out[inside] == 0).all()
    assert (out[~inside] == 255).all()
    thumb, thumb_mpp = slide.thumbnail(25)
    assert thumb.shape[:2] == (20, 25)
    assert thumb_mpp == pytest.approx(2.0)
    assert (thumb == 0).all()


def test_choose_level_picks_finest_not_coarser():
    mpps = [0.25, 0.5, 1.0, 2.0, 4.0]
    assert choose_level(mpps, 0.25) == 0
    assert choose_level(mpps, 0.4) == 0
    assert choose_level(mpps, 0.5) == 1
    assert choose_level(mpps, 1.9) == 2
    assert choose_level(mpps, 2.0) == 3
    assert choose_level(mpps, 100.0) == 4
    assert choose_level(mpps, 0.1) == 0
    assert choose_level([0.25, 0.50012], 0.5) == 1  # real SVS downsample of 2.0005


def test_mpp_from_resolution_units_and_plausibility():
    assert mpp_from_resolution(40000, "CENTIMETER") == pytest.approx(0.25)
    assert mpp_from_resolution(101600, "inch") == pytest.approx(0.25)
    assert mpp_from_resolution(72, "inch") is None  # a screen DPI, not a scan
    assert mpp_from_resolution(None, "inch") is None
    assert mpp_from_resolution(40000, "none") is None


def test_every_pyramid_level_matches_level_zero(tmp_path):
    """Each reduced level equals level 0 reduced, to the last row (odd sizes, several tile rows)."""
    import tifffile

    labels = (np.arange(1000)[:, None] // 7 + np.arange(1500)[None, :] // 11).astype(np.uint8) % 5
    path = write_pyramid(
        tmp_path / "labels.tif",
        (1500, 1000),
        lambda x, y, w, h: labels[y : y + h, x : x + w, None],
        mpp=1.0,
        channels=1,
        labels=True,
        compression="zlib",
        min_level_size=100,
    )
    pages = tifffile.TiffFile(path).pages
    assert len(pages) >= 4
    for level, page in enumerate(pages):
        np.testing.assert_array_equal(
            page.asarray(), labels[:: 2**level, :: 2**level], err_msg=f"level {level}"
        )
