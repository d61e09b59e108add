"""The demo cohort generator on a tiny cohort: files, ground truth, annotations, determinism, resume."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from hookseg.annotations import ClassMap, rasterize, read_annotations
from hookseg.annotations.label_mask import read_codes
from hookseg.cohort import read_manifest
from hookseg.errors import ConfigError
from hookseg.slides import open_slide
from hookseg.synth import FINE_LABELS, generate_cohort, generate_slide, plan_cohort
from hookseg.synth.scanner import SCANNERS

SIZE = 1024  # pixels at 0.5 mpp: 512 um slides (0.25-mpp scanners write 2048 px)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate_cohort(out, slides=4, new_domain=2, unlabelled=2, size=SIZE, seed=3, workers=2)
    return out


@pytest.fixture(scope="module")
def club() -> np.ndarray:
    class_map = ClassMap.default()
    return np.array([class_map.club(name) for name in FINE_LABELS], np.uint8)


def _gt(record) -> np.ndarray:
    return tifffile.imread(record.ground_truth, key=0)


def test_manifest_validates_and_keeps_new_domain_apart(cohort: Path) -> None:
    manifest = read_manifest(cohort / "manifest.csv")
    assert len(manifest) == 8
    new = manifest.split("new_domain")
    assert len(new) == 2
    assert {(r.stain, r.scanner, r.source) for r in new} == {("HE", "M", "DS7")}
    training = manifest.split("train", "val", "test")
    assert {r.split for r in training} == {"train", "val", "test"}
    assert all(r.stain != "HE" and r.scanner != "M" and r.source != "DS7" for r in training)
    patients_new = {r.patient_id for r in new}
    assert patients_new.isdisjoint(r.patient_id for r in training)
    listed = [r for r in manifest if r.annotations is not None]
    assert all(r.annotations.is_file() for r in listed)
    unlisted = [r for r in manifest if r.annotations is None]
    assert unlisted and all(r.split == "train" and r.ground_truth.is_file() for r in unlisted)


def test_unlabelled_pool_covers_what_the_annotated_slides_do_not() -> None:
    specs = plan_cohort(15, 8, n_unlabelled=12, size_px=512)
    annotated = [s for s in specs if s.split in ("train", "val") and s.annotated]
    pool_train = [s for s in specs if not s.annotated]
    assert annotated and pool_train and all(s.split == "train" for s in pool_train)
    assert all(s.stain != "Ki67" and s.scanner != "C" for s in annotated)
    assert all(s.stain == "Ki67" or s.scanner == "C" for s in pool_train)
    assert {s.stain for s in pool_train} >= {"Ki67"} and {s.scanner for s in pool_train} >= {"C"}
    test = [s for s in specs if s.split == "test"]
    assert len(test) >= 8 and {s.stain == "Ki67" or s.scanner == "C" for s in test} == {True, False}
    assert len([s for s in specs if s.split == "new_domain"]) == 8
    split_of: dict[str, set[str]] = {}
    for s in specs:
        split_of.setdefault(s.patient_id, set()).add(s.split)
    assert all(len(v) == 1 for v in split_of.values())
    assert len({s.slide_id for s in specs}) == len(specs)


def test_slides_open_with_openslide_at_native_mpp(cohort: Path) -> None:
    for record in read_manifest(cohort / "manifest.csv"):
        expected_mpp = SCANNERS[record.scanner].mpp
        assert record.mpp == pytest.approx(expected_mpp)
        with open_slide(record.path) as slide:
            assert slide.backend == "openslide"
            assert slide.mpp == pytest.approx(expected_mpp, rel=1e-4)
            side = round(SIZE * 0.5 / expected_mpp)
            assert slide.dimensions == (side, side)
            assert len(slide.levels) >= 2
            region = slide.read((0, 0), (64, 64), 2.0)
            assert region.shape == (64, 64, 3)
        with open_slide(record.ground_truth) as gt:
            assert gt.mpp == pytest.approx(1.0, rel=1e-4)
            assert gt.dimensions[0] * gt.mpp == pytest.approx(side * expected_mpp)


def test_every_fine_label_and_every_class(cohort: Path, club: np.ndarray) -> None:
    seen: set[int] = set()
    for record in read_manifest(cohort / "manifest.csv"):
        gt = _gt(record)
        assert gt.max() < len(FINE_LABELS)
        seen |= set(np.unique(gt).tolist())
        if record.split != "new_domain":
            assert set(np.unique(club[gt]).tolist()) == {0, 1, 2}, record.slide_id
    assert {FINE_LABELS[c] for c in seen} == set(FINE_LABELS)


def test_annotations_are_partial_and_agree_with_ground_truth(cohort: Path, club: np.ndarray) -> None:
    class_map = ClassMap.default()
    for record in read_manifest(cohort / "manifest.csv"):
        if record.annotations is None:  # the unlabelled pool's training slides
            continue
        annotations = read_annotations(record.annotations)
        regions = {a.name for a in annotations}
        assert 2 <= len(regions) <= 3
        assert set(annotations.labels()) <= set(FINE_LABELS)
        gt = _gt(record)
        size = (gt.shape[1], gt.shape[0])
        labels = rasterize(annotations, class_map, size=size, downsample=1.0 / record.mpp)
        inside = labels != class_map.ignore_id
        assert 0.01 < inside.mean() < 0.8  # a few small regions, not the slide
        assert (labels[inside] == club[gt][inside]).mean() >= 0.99


def test_code_table_matches_labels(cohort: Path) -> None:
    codes = read_codes(cohort / "codes.csv")
    assert {code: name for code, (name, _) in codes.items()} == dict(enumerate(FINE_LABELS))
    class_map = ClassMap.default()
    assert all(class_map.is_known(name) for name in FINE_LABELS)


def test_same_seed_same_pixels_and_other_seed_differs(tmp_path: Path) -> None:
    spec = plan_cohort(1, 0, size_px=512, seed=5)[0]
    other = plan_cohort(1, 0, size_px=512, seed=6)[0]
    generate_slide(spec, tmp_path / "a")
    generate_slide(spec, tmp_path / "b")
    generate_slide(other, tmp_path / "c")
    pixels = [tifffile.imread(tmp_path / d / "slides" / f"{s.slide_id}.tiff", key=0)
              for d, s in (("a", spec), ("b", spec), ("c", other))]
    assert np.array_equal(pixels[0], pixels[1])
    assert pixels[0].shape == pixels[2].shape
    assert np.abs(pixels[0].astype(int) - pixels[2].astype(int)).mean() > 5
    gts = [tifffile.imread(tmp_path / d / "ground_truth" / f"{spec.slide_id}.tiff", key=0)
           for d in ("a", "b")]
    assert np.array_equal(gts[0], gts[1])


def test_rerun_skips_finished_slides(cohort: Path) -> None:
    slide = next((cohort / "slides").iterdir())
    before = slide.stat().st_mtime_ns
    generate_cohort(cohort, slides=4, new_domain=2, unlabelled=2, size=SIZE, seed=3, workers=2)
    summary = json.loads((cohort / "cohort.json").read_text())
    assert summary["generated"] == 0
    assert slide.stat().st_mtime_ns == before


def test_plan_is_patient_level_with_panels() -> None:
    specs = plan_cohort(24, 6)
    assert len(specs) == 30
    split_of: dict[str, set[str]] = {}
    for s in specs:
        split_of.setdefault(s.patient_id, set()).add(s.split)
    assert all(len(v) == 1 for v in split_of.values())
    panels = [p for p in split_of if sum(s.patient_id == p for s in specs) > 1]
    assert panels  # some patients have several stains
    for patient in panels:
        same = [s for s in specs if s.patient_id == patient]
        assert len({s.layout_seed for s in same}) == 1 and len({s.stain for s in same}) == len(same)
    training = [s for s in specs if s.split != "new_domain"]
    assert {s.stain for s in training} == {"ER", "PR", "HER2", "Ki67"}
    assert {s.scanner for s in training} == {"A", "B", "C"}
    assert {s.source for s in training} == {f"DS{i}" for i in range(1, 7)}
    for source in {s.source for s in training}:  # one scanner per data source, as in the paper
        assert len({s.scanner for s in training if s.source == source}) == 1


def test_bad_options_are_config_errors(tmp_path: Path) -> None:
    from hookseg.cli import demo_cohort

    parser = argparse.ArgumentParser()
    demo_cohort.register(parser.add_subparsers())
    args = parser.parse_args(["demo-cohort", str(tmp_path), "--stains", "ER,CD8"])
    with pytest.raises(ConfigError, match="CD8"):
        args.func(args)
    with pytest.raises(ConfigError, match="scanners"):
        plan_cohort(2, 0, scanners=("M",))
    with pytest.raises(ConfigError, match="unlabelled pool"):
        plan_cohort(4, 0, n_unlabelled=2, stains=("Ki67",))


def test_contact_sheet(cohort: Path) -> None:
    from hookseg.synth import contact_sheet

    path = contact_sheet(cohort / "manifest.csv", cohort / "sheet.png", tile=96)
    from PIL import Image

    with Image.open(path) as image:
        width, height = image.size
    assert width == 5 * 96 and height > 9 * 96
