"""Paired target + context augmentation: physical alignment, labels, determinism, shared colour."""

from __future__ import annotations

import pickle

import albumentations as A
import numpy as np
import pytest

from hookseg.augment import PairedAugment, PairedGeometry, load_config, parse_config
from hookseg.augment import functional as F
from hookseg.augment import geometry as G

RATIO = 4
SIZE = 128
OFFSET = (24.0, -16.0)  # marker, target px from the centre (x, y)


@pytest.fixture(scope="module")
def config():
    return load_config()


def _disc(size: int, center_offset: tuple[float, float], radius: float) -> np.ndarray:
    cx, cy = F.view_center((size, size))
    yy, xx = np.mgrid[:size, :size]
    return (xx - cx - center_offset[0]) ** 2 + (yy - cy - center_offset[1]) ** 2 <= radius**2


def _views() -> tuple[np.ndarray, ...]:
    """Marker at OFFSET in the target and at OFFSET / ratio in the context, in image and labels."""
    out = []
    for scale in (1.0, RATIO):
        disc = _disc(SIZE, (OFFSET[0] / scale, OFFSET[1] / scale), 8.0 / scale)
        image = np.full((SIZE, SIZE, 3), 235, np.uint8)
        image[disc] = 20
        labels = np.zeros((SIZE, SIZE), np.uint8)
        labels[disc] = 1
        out += [image, labels]
    return tuple(out)


def _physical_centroid(mask: np.ndarray, scale: float) -> np.ndarray:
    assert mask.sum() > 0, "marker vanished"
    yy, xx = np.nonzero(mask)
    cx, cy = F.view_center(mask.shape)
    return np.array([xx.mean() - cx, yy.mean() - cy]) * scale


SPATIAL = [["basic"], ["xy_jitter"], ["deform"], ["basic", "deform", "xy_jitter"]]
# Table 8's phases (params.yaml holds the schedule) plus the deformations, which that schedule leaves out.
PHASES = {
    "base": ["basic"],
    "p1": ["basic", "color_noise"],
    "p2": ["basic", "deform", "heavy_color", "noise"],
    "p3": ["targeted_hsv", "basic", "deform", "heavy_color", "noise"],
    "p4": ["gan", "targeted_hsv", "basic", "deform", "heavy_color", "noise"],
    "p5": ["gan", "xy_jitter", "basic", "noise"],
}


@pytest.mark.parametrize("presets", SPATIAL, ids=lambda p: "+".join(p))
def test_markers_stay_aligned_across_views(config, presets):
    target, target_labels, context, context_labels = _views()
    aug = PairedAugment(presets, config, ratio=RATIO, force=True)
    moved = 0
    for seed in range(12):
        t, tl, c, cl = aug(target, target_labels, context, context_labels, rng=np.random.default_rng(seed))
        label_t = _physical_centroid(tl == 1, 1.0)
        label_c = _physical_centroid(cl == 1, RATIO)
        # Both views agree in physical units to within 1.5 context pixels ...
        assert np.abs(label_t - label_c).max() <= 1.5 * RATIO, (seed, label_t, label_c)
        # ... and in each view the image marker sits on the label marker.
        assert np.abs(_physical_centroid(t[..., 0] < 128, 1.0) - label_t).max() <= 1.0
        assert np.abs(_physical_centroid(c[..., 0] < 128, RATIO) - label_c).max() <= 1.0 * RATIO
        moved += np.abs(label_t - np.array(OFFSET)).max() > 2
    assert moved >= 6, "the spatial presets should move the marker in most draws"


def test_wrong_context_scaling_would_be_caught(config):
    """The alignment check is sensitive: a context shifted like the target (ratio 1) misaligns."""
    target, target_labels, context, context_labels = _views()
    aug = PairedAugment(["xy_jitter"], config, ratio=1.0, force=True)
    errors = []
    for seed in range(6):
        _, tl, _, cl = aug(target, target_labels, context, context_labels, rng=np.random.default_rng(seed))
        errors.append(np.abs(_physical_centroid(tl == 1, 1.0) - _physical_centroid(cl == 1, RATIO)).max())
    assert max(errors) > 1.5 * RATIO


@pytest.mark.parametrize("phase", sorted(PHASES))
def test_labels_stay_in_classes_or_ignore(config, phase):
    rng = np.random.default_rng(1)
    target = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
    labels = rng.integers(0, 3, (6, 6), dtype=np.uint8).repeat(16, 0).repeat(16, 1)
    aug = PairedAugment(PHASES[phase], config, ratio=RATIO, force=True)
    for seed in range(3):
        t, tl, c, cl = aug(target, labels, target.copy(), labels.copy(), rng=np.random.default_rng(seed))
        for label in (tl, cl):
            assert label.dtype == np.uint8 and label.shape == labels.shape
            assert set(np.unique(label)) <= {0, 1, 2, 255}
        assert t.shape == c.shape == target.shape and t.dtype == c.dtype == np.uint8


def test_deterministic_given_the_rng(config):
    target, target_labels, context, context_labels = _views()
    aug = PairedAugment(PHASES["p4"], config, ratio=RATIO, force=True)
    first = aug(target, target_labels, context, context_labels, rng=np.random.default_rng(7))
    again = aug(target, target_labels, context, context_labels, rng=np.random.default_rng(7))
    other = aug(target, target_labels, context, context_labels, rng=np.random.default_rng(8))
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_colour_is_shared_and_noise_is_not(config):
    rng = np.random.default_rng(3)
    image = rng.integers(40, 220, (64, 64, 3), dtype=np.uint8)
    shared = PairedAugment(["heavy_color", "targeted_hsv"], config, ratio=RATIO, force=True)
    t, _, c, _ = shared(image, None, image.copy(), None, rng=np.random.default_rng(0))
    assert not np.array_equal(t, image)
    np.testing.assert_array_equal(t, c)  # one stain draw for both fields of view
    noisy = parse_config(
        {"presets": {"n": [{"name": "gaussian_noise", "p": 1.0, "std_range": [0.05, 0.1]}]}}, source="inline"
    )
    t, _, c, _ = PairedAugment(["n"], noisy, ratio=RATIO)(
        image, None, image.copy(), None, rng=np.random.default_rng(0)
    )
    assert not np.array_equal(t, c)  # sensor noise drawn per view


def test_missing_or_empty_context_passes_through(config):
    target, target_labels, _, _ = _views()
    aug = PairedAugment(["basic"], config, ratio=RATIO, force=True)
    t, tl, c, cl = aug(target, target_labels, rng=np.random.default_rng(0))
    assert c is None and cl is None and t.shape == target.shape and tl.shape == target_labels.shape
    empty, empty_labels = np.zeros((0, 0, 3), np.uint8), np.zeros((0, 0), np.uint8)
    out = aug(target, target_labels, empty, empty_labels, rng=np.random.default_rng(0))
    assert out[2] is empty and out[3] is empty_labels


def test_bad_inputs_are_rejected(config):
    aug = PairedAugment(["basic"], config, ratio=RATIO)
    with pytest.raises(ValueError, match="uint8"):
        aug(np.zeros((8, 8, 3), np.float32), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="target_mask"):
        aug(np.zeros((8, 8, 3), np.uint8), np.zeros((4, 4), np.uint8), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="uint8 label map"):
        aug(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.int32), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="ratio"):
        PairedAugment(["basic"], config, ratio=0)


def test_pickles_for_loader_workers(config):
    """PyDataset(use_multiprocessing=True) pickles the augmenter into each worker."""
    target, target_labels, context, context_labels = _views()
    aug = PairedAugment(PHASES["p4"], config, ratio=RATIO, force=True)
    clone = pickle.loads(pickle.dumps(aug))
    a = aug(target, target_labels, context, context_labels, rng=np.random.default_rng(5))
    b = clone(target, target_labels, context, context_labels, rng=np.random.default_rng(5))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_paired_geometry_is_one_albumentations_transform():
    """Standalone in a Compose, with context and context_mask as targets: physical shift, nearest labels."""
    target, target_labels, context, context_labels = _views()
    geometry = PairedGeometry(affine=[G.AffineStep("shift", 1.0, G.shift, {"limit": 0.125})], ratio=RATIO)
    out = A.Compose([geometry], is_check_shapes=False, seed=3)(
        image=target, mask=target_labels, context=context, context_mask=context_labels
    )
    label_t = _physical_centroid(out["mask"] == 1, 1.0)
    assert np.abs(label_t - np.array(OFFSET)).max() > 2, "the shift should move the marker"
    assert np.abs(label_t - _physical_centroid(out["context_mask"] == 1, RATIO)).max() <= 1.5 * RATIO
    assert set(np.unique(out["mask"])) <= {0, 1, 255} and 255 in out["mask"]  # outside the view: ignore
    again = A.Compose([geometry], is_check_shapes=False, seed=3)(image=target, context=context)
    np.testing.assert_array_equal(again["context"], out["context"])
