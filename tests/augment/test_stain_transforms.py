"""Targeted HSV (paper Table 6) on a real DAB image, HED jitter, and the StyleGAN slot."""

from __future__ import annotations

import albumentations as A
import cv2
import numpy as np
import pytest
from skimage.color import rgb2hed

from hookseg.augment import HEDJitter, PairedAugment, StyleBankSlot, TargetedHSV
from hookseg.augment import functional as F
from hookseg.augment.stain import TABLE6


@pytest.fixture(scope="module")
def ihc(sample_ihc_png) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(sample_ihc_png), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _near_white(img: np.ndarray) -> np.ndarray:
    """Bright and unsaturated: glass, lumen and unstained stroma (defined here, not by the transform)."""
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    return (hsv[..., 2] >= 190) & (hsv[..., 1] <= 20)


@pytest.mark.realdata
def test_targeted_hsv_changes_stains_only(ihc):
    transform = TargetedHSV(p=1.0)
    brown, blue = (m > 0 for m in transform.stain_masks(ihc))
    assert 0.3 < brown.mean() < 0.8 and 0.01 < blue.mean() < 0.2  # DAB membranes, haematoxylin nuclei
    background = _near_white(ihc)
    assert background.mean() > 0.1
    dab_before = rgb2hed(ihc)[..., 2]
    for seed in range(4):
        out = A.Compose([transform], seed=seed)(image=ihc)["image"]
        np.testing.assert_array_equal(out[background], ihc[background])  # bit-identical glass
        np.testing.assert_array_equal(out[~(brown | blue)], ihc[~(brown | blue)])
        changed = (out != ihc).any(axis=2)
        assert changed[brown].mean() > 0.5
        dab_after = rgb2hed(out)[..., 2]
        assert np.abs(dab_after - dab_before)[brown].mean() > 0.005  # DAB density moved in the stain
        assert np.abs(dab_after - dab_before)[background].max() == 0


def test_targeted_hsv_draws_within_table6():
    transform = TargetedHSV(p=1.0)
    transform.set_random_seed(0)
    draws = [transform.get_params() for _ in range(300)]
    for stain in ("brown", "blue"):
        sat = [d[f"{stain}_shift"][0] for d in draws]
        val = [d[f"{stain}_shift"][1] for d in draws]
        lo_s, hi_s = TABLE6[stain]["saturation"]
        lo_v, hi_v = TABLE6[stain]["value"]
        assert lo_s <= min(sat) < lo_s + 10 and hi_s - 10 < max(sat) <= hi_s
        assert lo_v <= min(val) < lo_v + 10 and hi_v - 10 < max(val) <= hi_v


@pytest.mark.realdata
def test_hed_jitter_moves_dab_and_round_trips(ihc):
    np.testing.assert_allclose(F.hed_jitter(ihc, (1, 1, 1), (0, 0, 0)), ihc, atol=1)
    brown = TargetedHSV().stain_masks(ihc)[0] > 0
    out = HEDJitter(p=1).apply(ihc, scale=(1.0, 1.0, 1.4), offset=(0.0, 0.0, 0.0))
    before, after = rgb2hed(ihc)[..., 2][brown], rgb2hed(out)[..., 2][brown]
    assert after.mean() > before.mean() * 1.2


def test_style_slot_is_a_noop_until_a_bank_is_attached():
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    aug = PairedAugment(["gan"], ratio=4, force=True)
    t, _, c, _ = aug(image, None, image.copy(), None, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(t, image)
    seeds = []

    def bank(img: np.ndarray, style_seed: int) -> np.ndarray:
        seeds.append(style_seed)
        return 255 - img

    assert aug.attach_style_bank(bank) == 1
    t, _, c, _ = aug(image, None, image.copy(), None, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(t, 255 - image)
    assert len(seeds) == 2 and seeds[0] == seeds[1]  # one style for both fields of view
    assert isinstance(aug.pipeline.style_slots()[0], StyleBankSlot)


def test_every_argument_survives_validation():
    kwargs = {"background_min": 190, "blue_hue": (200.0, 250.0), "brown_value": (-10.0, 10.0)}
    transform = TargetedHSV(**kwargs)
    assert all(getattr(transform, k) == v for k, v in kwargs.items())
    jitter = HEDJitter(alpha=0.3, beta=0.2)
    assert (jitter.alpha, jitter.beta) == (0.3, 0.2)
