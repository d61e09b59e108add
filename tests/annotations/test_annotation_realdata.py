"""The real DSA annotation file of a TCGA breast slide: read, club, convert, rasterise."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pytest

from hookseg.annotations import AnnotationWarning, ClassMap, rasterize, read_annotations, write_annotations


@pytest.fixture(scope="module")
def dsa(sample_dsa_json):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        annotations = read_annotations(sample_dsa_json)
    return annotations, [w for w in caught if issubclass(w.category, AnnotationWarning)]


def test_dsa_reads_98_polylines(dsa, sample_dsa_json):
    annotations, caught = dsa
    assert len(annotations) == 98
    assert annotations.label_counts() == {
        "mostly_tumor": 38,
        "roi": 20,
        "mostly_lymphocytic_infiltrate": 5,
        "mostly_stroma": 35,
    }
    assert annotations.bounds == (44350.0, 43750.0, 46396.0, 46308.0)
    assert all(a.geometry.is_valid and a.area > 0 for a in annotations)
    assert all(a.source == str(sample_dsa_json) for a in annotations)
    # The file has self-touching rings; they are repaired and reported once, naming the file.
    assert len(caught) == 1
    assert str(sample_dsa_json) in str(caught[0].message)
    assert "repaired 17" in str(caught[0].message)


def test_dsa_clubbing(dsa):
    annotations, _ = dsa
    class_map = ClassMap.default()
    clubbed = Counter(class_map.club_name(a.label) for a in annotations)
    assert clubbed == {"tumour": 38, "background": 35, "ignore": 20, "other": 5}


def test_dsa_converts_and_rasterises(dsa, tmp_path):
    annotations, _ = dsa
    class_map = ClassMap.default()
    back = read_annotations(write_annotations(annotations, tmp_path / "dsa.geojson", class_map=class_map))
    assert [a.label for a in back] == [a.label for a in annotations]
    assert all(a.geometry.equals_exact(b.geometry, 1e-6) for a, b in zip(annotations, back, strict=True))
    x0, y0, x1, y1 = annotations.bounds
    mask = rasterize(
        annotations, class_map, origin=(x0, y0), size=(int(x1 - x0) // 4, int(y1 - y0) // 4), downsample=4
    )
    counts = np.bincount(mask.ravel(), minlength=256)
    assert counts[0] > 0 and counts[1] > 0 and counts[2] > 0 and counts[255] > 0
    assert counts[3:255].sum() == 0
    # Spot check: the centre of the largest tumour polygon's interior reads as tumour.
    tumour = max((a for a in annotations if a.label == "mostly_tumor"), key=lambda a: a.area)
    point = tumour.geometry.representative_point()
    r, c = int((point.y - y0) // 4), int((point.x - x0) // 4)
    assert mask[r, c] in (1, 255)  # a smaller overlapping annotation may win
