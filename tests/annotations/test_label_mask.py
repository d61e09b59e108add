"""Label masks: codes CSV, origin from the file name, pixel-exact vectorising (real BCSS mask included)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from hookseg.annotations import AnnotationWarning, ClassMap, rasterize, read_annotations
from hookseg.annotations.label_mask import origin_from_name, read_codes, read_mask_array, vectorize
from hookseg.annotations.model import Annotation
from hookseg.errors import AnnotationError

BCSS_ORIGIN = (59206, 33505)


@pytest.fixture(scope="module")
def bcss(sample_bcss_mask, sample_bcss_codes):
    return read_annotations(sample_bcss_mask, codes=sample_bcss_codes)


def _rasterize_one(geometry, shape, origin=(0, 0)):
    class_map = ClassMap.default()
    mask = rasterize([Annotation(geometry, "tumour")], class_map, origin=origin, size=(shape[1], shape[0]))
    return mask == 1


def test_bcss_mask_round_trips(bcss, sample_bcss_mask):
    mask = read_mask_array(sample_bcss_mask)
    assert bcss.labels() == [
        "mostly_tumor",
        "mostly_stroma",
        "mostly_lymphocytic_infiltrate",
        "exclude",
        "normal_acinus_or_duct",
        "blood_vessel",
    ]
    codes = [1, 2, 3, 7, 13, 18]
    height, width = mask.shape
    assert bcss.bounds[0] >= BCSS_ORIGIN[0] and bcss.bounds[1] >= BCSS_ORIGIN[1]
    assert bcss.bounds[2] <= BCSS_ORIGIN[0] + width and bcss.bounds[3] <= BCSS_ORIGIN[1] + height
    for annotation, code in zip(bcss, codes, strict=True):
        truth = mask == code
        assert annotation.area == truth.sum()  # pixel-edge polygons: area == pixel count
        got = _rasterize_one(annotation.geometry, mask.shape, BCSS_ORIGIN)
        iou = (got & truth).sum() / (got | truth).sum()
        assert iou >= 0.98, (annotation.label, iou)
    assert bcss[0].color == (255, 0, 0)


def test_bcss_clubs(bcss):
    class_map = ClassMap.default()
    assert [class_map.club_name(a.label) for a in bcss] == [
        "tumour",
        "background",
        "other",
        "ignore",
        "other",
        "other",
    ]


def test_random_masks_vectorise_exactly():
    rng = np.random.default_rng(5)
    for trial in range(6):
        noise = rng.random((60, 70)) < (0.3 + 0.08 * trial)
        noise[20:40, 20:50] = True
        noise[25:35, 25:35] = False  # a hole ...
        noise[29:31, 29:31] = True  # ... with an island
        geometry = vectorize(noise, origin=(3, 4))
        assert geometry.is_valid
        assert geometry.area == noise.sum()
        padded = np.zeros((64, 73), bool)
        padded[4:, 3:] = noise
        np.testing.assert_array_equal(_rasterize_one(geometry, padded.shape), padded)


def test_origin_and_codes(tmp_path):
    mask = np.zeros((8, 10), np.uint8)
    mask[2:5, 3:7] = 4
    mask[6:8, 0:2] = 9
    Image.fromarray(mask).save(tmp_path / "slide_xmin100_ymin200.png")
    (tmp_path / "my_GTcodes.csv").write_text('group,GT_code,color\nfold,4,"rgb(1,2,3)"\npen,9,\n')
    got = read_annotations(tmp_path / "slide_xmin100_ymin200.png")  # codes found beside the mask
    assert [a.label for a in got] == ["fold", "pen"]
    assert got[0].geometry.bounds == (103, 202, 107, 205)
    assert got[0].color == (1, 2, 3)
    moved = read_annotations(tmp_path / "slide_xmin100_ymin200.png", origin=(0, 0))
    assert moved[0].geometry.bounds == (3, 2, 7, 5)
    assert origin_from_name("TCGA-A2_left-59206_top-33505_mag-BASE_mask.png") == BCSS_ORIGIN


def test_mask_errors(tmp_path):
    mask = np.zeros((4, 4), np.uint8)
    mask[1:3, 1:3] = 5
    Image.fromarray(mask).save(tmp_path / "m.png")
    with pytest.raises(AnnotationError, match=r"GTcodes\.csv"):
        read_annotations(tmp_path / "m.png")
    codes = tmp_path / "codes.csv"
    codes.write_text("group,GT_code\nfold,4\n")
    with pytest.raises(AnnotationError, match=r"mask values \[5\]"):
        read_annotations(tmp_path / "m.png", codes=codes, origin=(0, 0))
    with pytest.warns(AnnotationWarning, match="assuming"):
        codes.write_text("label,code\nfold,5\n")
        assert len(read_annotations(tmp_path / "m.png", codes=codes)) == 1
    codes.write_text("name,colour\nfold,red\n")
    with pytest.raises(AnnotationError, match="code column"):
        read_codes(codes)
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "rgb.png")
    codes.write_text("label,code\nfold,5\n")
    with pytest.raises(AnnotationError, match="single-channel"):
        read_annotations(tmp_path / "rgb.png", codes=codes, origin=(0, 0))
