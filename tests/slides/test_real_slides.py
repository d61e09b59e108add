"""The reader on real containers: SVS JPEG, SVS JPEG-2000 without mpp, OME-TIFF, PNG."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hookseg.cli import main
from hookseg.errors import SlideError
from hookseg.slides import open_slide


def test_svs_jpeg_metadata_and_read(sample_svs_jpeg):
    with open_slide(sample_svs_jpeg) as slide:
        assert slide.backend == "openslide"
        assert slide.vendor == "aperio"
        assert slide.dimensions == (2220, 2967)
        assert slide.mpp == pytest.approx(0.499)
        region = slide.read((500, 700), (300, 200), 2.0)
    assert region.shape == (200, 300, 3)
    assert region.dtype == np.uint8


def test_svs_without_mpp_needs_it_supplied(sample_svs_jp2k_no_mpp):
    with pytest.raises(SlideError, match=r"--mpp") as err:
        open_slide(sample_svs_jp2k_no_mpp)
    assert "manifest" in str(err.value)
    assert str(sample_svs_jp2k_no_mpp) in str(err.value)
    with open_slide(sample_svs_jp2k_no_mpp, mpp=0.25) as slide:
        assert [lv.mpp for lv in slide.levels] == pytest.approx([0.25, 0.5])  # 2.0005 snapped to 2
        # A 0.5-mpp read is served by level 1: it equals reading level 1 directly (up to resampling of the
        # 2.0005 downsample) rather than area-averaging level 0.
        region = slide.read((0, 0), (400, 300), 0.5)
    assert region.shape == (300, 400, 3)
    assert 50 < region.mean() < 254.5  # mostly glass, some tissue


def test_ome_tiff_goes_to_tifffile_with_physical_size(sample_ome_tiff):
    with open_slide(sample_ome_tiff) as slide:
        assert slide.backend == "tifffile"
        assert slide.vendor == "ome-tiff"
        assert slide.dimensions == (1101, 1101)
        assert slide.mpp == pytest.approx(0.2271, abs=1e-4)
        full = slide.read((0, 0), (1101, 1101), slide.mpp)
        half = slide.read((0, 0), (550, 550), slide.mpp * 2)
    import cv2

    expected = cv2.resize(full[:1100, :1100], (550, 550), interpolation=cv2.INTER_AREA)
    assert np.abs(half.astype(int) - expected).max() <= 1


def test_png_is_one_level_slide_with_given_mpp(sample_ihc_png):
    with pytest.raises(SlideError, match="mpp"):
        open_slide(sample_ihc_png)
    with open_slide(sample_ihc_png, mpp=0.5) as slide:
        assert slide.backend == "image"
        assert slide.dimensions == (512, 512)


@pytest.mark.parametrize(
    ("fixture", "extra", "backend"),
    [
        ("sample_svs_jpeg", [], "openslide"),
        ("sample_svs_jp2k_no_mpp", ["--mpp", "0.25"], "openslide"),
        ("sample_ome_tiff", [], "tifffile"),
    ],
)
def test_info_json_on_every_real_slide(fixture, extra, backend, request, capsys):
    path = request.getfixturevalue(fixture)
    assert main(["info", "--json", *extra, str(path)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["backend"] == backend
    assert info["mpp"] > 0
    assert len(info["levels"]) >= 1
    assert info["bounds"]["width"] == info["dimensions"][0]


def test_info_reports_missing_mpp_in_one_line(sample_svs_jp2k_no_mpp, capsys):
    assert main(["info", str(sample_svs_jp2k_no_mpp)]) == 1  # data error: a slide without mpp
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--mpp" in err
