"""Domain patch sampling from a manifest: domains, tissue, sizes, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from hookseg.cohort import read_manifest
from hookseg.errors import ManifestError
from stylegan_aug.data import DomainSpec, domain_records, random_dihedral, sample_patches, to_uint8, to_unit


def test_domain_spec_parsing():
    assert DomainSpec.parse("DS1") == DomainSpec("source", ("DS1",))
    assert DomainSpec.parse("scanner=B,C") == DomainSpec("scanner", ("B", "C"))
    assert DomainSpec.parse("scanner=B").name == "scanner=B"
    for bad in ("colour=red", "scanner=", ""):
        with pytest.raises(ValueError, match="domain"):
            DomainSpec.parse(bad)


def test_domain_records_and_a_missing_domain(two_domain_manifest):
    manifest = read_manifest(two_domain_manifest)
    assert [r.slide_id for r in domain_records(manifest, DomainSpec.parse("scanner=B"), ["train"])] == ["DS3"]
    with pytest.raises(ManifestError, match=r"DS9.*\['DS1', 'DS3'\]"):
        domain_records(manifest, DomainSpec.parse("DS9"), ["train"])
    with pytest.raises(ManifestError, match="splits"):
        domain_records(manifest, DomainSpec.parse("DS1"), ["test"])


def test_patches_are_inside_tissue_and_reproducible(two_domain_manifest):
    records = domain_records(read_manifest(two_domain_manifest), DomainSpec.parse("DS1"), ["train"])
    a = sample_patches(records, 12, 32, (2.0, 4.0), np.random.default_rng(0), min_tissue=0.8)
    b = sample_patches(records, 12, 32, (2.0, 4.0), np.random.default_rng(0), min_tissue=0.8)
    assert a.shape == (12, 32, 32, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    glass = (a.min(axis=-1) > 235).mean(axis=(1, 2))  # the fixture's glass is ~245 grey
    assert glass.max() < 0.5, glass
    assert len({p.tobytes() for p in a}) == 12


def test_value_range_round_trip_and_dihedral():
    images = np.random.default_rng(0).integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    unit = to_unit(images)
    assert unit.min() >= -1 and unit.max() <= 1
    np.testing.assert_array_equal(to_uint8(unit), images)
    turned = random_dihedral(images, np.random.default_rng(1))
    assert turned.shape == images.shape
    assert sorted(p.sum() for p in turned) == sorted(p.sum() for p in images)  # same pixels, moved
