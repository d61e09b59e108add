from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hookseg.errors import ConfigError
from hookseg.slides import TissueParams, open_slide, tissue_mask
from hookseg.slides.array_reader import ArrayReader
from hookseg.slides.tissue import DEFAULT_CONFIG


def test_tissue_disc_is_found_and_glass_is_not():
    yy, xx = np.mgrid[:2000, :2000]
    disc = (yy - 1000) ** 2 + (xx - 900) ** 2 < 600**2
    image = np.full((2000, 2000, 3), 240, np.uint8)
    rng = np.random.default_rng(0)
    image[disc] = np.array([180, 110, 160]) + rng.integers(-20, 20, (int(disc.sum()), 3))
    result = tissue_mask(ArrayReader(image, mpp=1.0), replace(TissueParams.load(), mpp=8.0))
    assert result.mpp == 8.0
    expected = disc[4::8, 4::8]
    iou = (result.mask & expected).sum() / (result.mask | expected).sum()
    assert iou > 0.95


def test_real_slide_has_tissue_and_glass(sample_svs_jpeg):
    with open_slide(sample_svs_jpeg) as slide:
        result = tissue_mask(slide)
    assert 0.15 < result.fraction < 0.85


def test_params_from_yaml_validate(tmp_path):
    assert TissueParams.from_yaml().mpp > 0
    bad = tmp_path / "slides.yaml"
    bad.write_text("tissue:\n  mpp: fast\n")
    with pytest.raises(ConfigError, match=r"tissue\.mpp.*Received: 'fast'"):
        TissueParams.from_yaml(bad)
    bad.write_text("tissue:\n  mpp: 8\n  colour: red\n")
    with pytest.raises(ConfigError, match="unknown key"):
        TissueParams.from_yaml(bad)
    bad.write_text("tissue:\n  mpp: 8\n")  # no value comes from code: every key is required
    with pytest.raises(ConfigError, match=r"tissue\.min_saturation: required key is missing"):
        TissueParams.from_yaml(bad)
    bad.write_text(DEFAULT_CONFIG.read_text() + "extra: 1\n")
    with pytest.raises(ConfigError, match=r"one top-level key 'tissue'. Received: \['extra', 'tissue'\]"):
        TissueParams.from_yaml(bad)


def test_default_params_are_the_file_read_once():
    assert TissueParams.load() == TissueParams.from_yaml(DEFAULT_CONFIG)
    assert TissueParams.load() is TissueParams.load(DEFAULT_CONFIG)  # cached per path


def test_pale_stroma_stays_tissue_when_glass_is_scarce():
    image = np.full((800, 900, 3), 245, np.uint8)  # glass strip at the bottom
    image[:600, :300] = (230, 180, 200)  # pale stroma, saturation ~0.22
    image[:600, 300:600] = (90, 40, 120)
    image[:600, 600:] = (200, 120, 60)
    result = tissue_mask(ArrayReader(image, mpp=1.0), replace(TissueParams.load(), mpp=8.0))
    assert result.mask[:70, :35].all()  # the pale band
    assert not result.mask[80:].any()  # the glass


def test_closing_equals_skimage_closing_by_a_disk():
    """OpenCV closing equals skimage's pixel for pixel, borders included (random masks, smooth, speckled)."""
    from scipy import ndimage
    from skimage import morphology

    from hookseg.slides.tissue import closing

    rng = np.random.default_rng(3)
    for i in range(60):
        mask = rng.random(tuple(rng.integers(5, 160, 2))) < rng.uniform(0.05, 0.9)
        if i % 2:
            mask = ndimage.gaussian_filter(mask.astype(float), rng.uniform(0.5, 3)) > 0.5
        radius = int(rng.integers(1, 7))
        expected = morphology.closing(mask, morphology.disk(radius))
        np.testing.assert_array_equal(closing(mask, radius), expected)
