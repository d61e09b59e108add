"""Multi-lens and the other physical deformations: formula, cross-view consistency, albumentations API."""

from __future__ import annotations

import albumentations as A
import numpy as np
import pytest

from hookseg.augment import MultiLensDistortion, OpticalLens
from hookseg.augment import functional as F
from hookseg.augment.deform import ElasticGrid, SeparableGrid


def test_lens_matches_the_paper_formula():
    """Output pixel at offset o (r < R) samples centre + o * (1 - s * (1 - r / R))."""
    dx = np.zeros((65, 65), np.float32)
    dy = np.zeros_like(dx)
    radius, strength = 20.0, 0.4
    F.add_lens_displacement(dx, dy, [(0.0, 0.0, radius, strength)], 1.0)
    center = 32
    for off in (4, 10, 16):
        expected = off * (1 - strength * (1 - off / radius)) - off
        assert dx[center, center + off] == pytest.approx(expected, abs=1e-4)
        assert dy[center - off, center] == pytest.approx(-expected, abs=1e-4)
    assert dx[center, center + 25] == 0 and dy[center + 25, center] == 0  # outside R: untouched


@pytest.mark.parametrize(
    "transform",
    [
        MultiLensDistortion(num_lenses=(3, 3), radius=(0.2, 0.3), strength=(0.3, 0.4), p=1),
        OpticalLens(p=1),
        ElasticGrid(alpha=6.0, spacing=0.125, p=1),
        SeparableGrid(spacing=0.2, distort_limit=0.3, p=1),
    ],
    ids=lambda t: type(t).__name__,
)
def test_context_sees_the_same_physical_field(transform):
    """Where the context overlaps the target, context displacement x ratio == target displacement."""
    ratio, size = 4, 65  # odd sizes: every context pixel lands on a whole target pixel
    transform.set_random_seed(0)
    params = transform.sample_physical((size, size), extent=size / 2 * ratio * 1.5)
    fields = {}
    for scale in (1.0, ratio):
        dx, dy = np.zeros((size, size), np.float32), np.zeros((size, size), np.float32)
        transform.add_displacement(dx, dy, params, scale)
        fields[scale] = (dx, dy)
    assert np.abs(fields[1.0][0]).max() > 0.5, "the field should move something"
    center = (size - 1) // 2
    q = np.arange(size)
    target_pos = center + (q - center) * ratio
    inside = (target_pos >= 0) & (target_pos < size)
    qi, ti = q[inside], target_pos[inside]
    for axis in (0, 1):
        context = fields[ratio][axis][np.ix_(qi, qi)] * ratio
        target = fields[1.0][axis][np.ix_(ti, ti)]
        np.testing.assert_allclose(context, target, atol=1e-3)


def test_standalone_in_compose_keeps_labels_and_reproduces():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
    mask = rng.integers(0, 3, (12, 12), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
    lens = MultiLensDistortion(num_lenses=(3, 4), radius=(0.2, 0.3), strength=(0.3, 0.4), p=1)
    first = A.Compose([lens], seed=3)(image=image, mask=mask)
    again = A.Compose([lens], seed=3)(image=image, mask=mask)
    np.testing.assert_array_equal(first["image"], again["image"])
    np.testing.assert_array_equal(first["mask"], again["mask"])
    assert not np.array_equal(first["image"], image)
    assert set(np.unique(first["mask"])) <= {0, 1, 2}  # nearest: no blended label values
    # image and mask share one map: a pixel keeps its label where the image kept its value
    same = (first["image"] == image).all(axis=2)
    assert (first["mask"][same] == mask[same]).mean() > 0.95


def test_init_schema_validates_and_strict_rejects_unknown_arguments():
    assert MultiLensDistortion().get_transform_init_args_names()[0] == "num_lenses"
    with pytest.raises(ValueError, match="not valid"):
        MultiLensDistortion(lenses=3, strict=True)
    with pytest.raises(ValueError, match="strength"):
        MultiLensDistortion(strength=(0.5, 1.5))
    with pytest.raises(ValueError, match="distort_limit"):
        SeparableGrid(distort_limit=0.7)


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (
            MultiLensDistortion,
            {"num_lenses": (1, 1), "radius": (0.3, 0.4), "both_signs": False, "fill_mask": 7},
        ),
        (OpticalLens, {"radius": (0.2, 0.3), "strength": (0.1, 0.2), "mask_interpolation": 1}),
        (ElasticGrid, {"alpha": 3.0, "spacing": 0.3, "interpolation": 2}),
        (SeparableGrid, {"spacing": 0.3, "distort_limit": 0.1}),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_every_argument_survives_validation(cls, kwargs):
    """albumentations' metaclass passes on only InitSchema fields; a field left out falls back silently."""
    transform = cls(**kwargs)
    for name, value in kwargs.items():
        assert getattr(transform, name) == value, name
    assert set(kwargs) <= set(transform.get_transform_init_args_names())
