"""Losses: SSIM (Eq. 2) against skimage, the structure loss, adversarial losses and R1."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import pytest
from keras import ops
from skimage.metrics import structural_similarity

from stylegan_aug.losses import (
    SSIMLoss,
    discriminator_adversarial_loss,
    generator_adversarial_loss,
    luminance,
    r1_penalty,
    ssim,
    ssim_loss,
)
from stylegan_aug.metrics import colour_distance, ssim_luminance


def _pair(seed: int, shape=(3, 40, 36, 3)):
    rng = np.random.default_rng(seed)
    a = rng.random(shape)
    b = np.clip(a + rng.normal(0, 0.15, shape) + 0.05, 0, 1)
    return a.astype(np.float32), b.astype(np.float32)


def test_ssim_matches_skimage_gaussian_ssim():
    a, b = _pair(0, (3, 40, 36, 1))
    mine = ops.convert_to_numpy(ssim(a, b))
    reference = [structural_similarity(a[i, ..., 0].astype(np.float64), b[i, ..., 0].astype(np.float64),
                                       data_range=1.0, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False) for i in range(3)]
    np.testing.assert_allclose(mine, reference, atol=1e-5)
    assert 0.2 < min(reference) < 0.99  # a non-trivial comparison


def test_ssim_loss_is_weighted_one_minus_luma_ssim():
    a, b = _pair(1)
    src, out = a * 2 - 1, b * 2 - 1  # generator range
    luma_a = a @ np.array([0.299, 0.587, 0.114], np.float32)
    luma_b = b @ np.array([0.299, 0.587, 0.114], np.float32)
    np.testing.assert_allclose(ops.convert_to_numpy(luminance(src))[..., 0], luma_a, atol=1e-5)
    reference = np.mean([
        1 - structural_similarity(x.astype(np.float64), y.astype(np.float64), data_range=1.0,
                                  gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
        for x, y in zip(luma_a, luma_b, strict=True)
    ])
    assert float(ssim_loss(src, out, weight=3.0)) == pytest.approx(3 * reference, abs=1e-4)
    assert float(ssim_loss(src, src, weight=3.0)) == pytest.approx(0.0, abs=1e-5)
    assert float(ops.mean(SSIMLoss()(src, out))) == pytest.approx(reference, abs=1e-4)
    # Luminance only: a pure colour change that keeps luma costs nothing.
    grey = np.repeat(ops.convert_to_numpy(luminance(src)) * 2 - 1, 3, axis=-1)
    assert not np.allclose(grey, src)
    assert float(ssim_loss(src, grey)) == pytest.approx(0.0, abs=1e-4)


def test_metrics_ssim_agrees_with_the_training_loss():
    a, b = _pair(2)
    ua, ub = (a * 255).round().astype(np.uint8), (b * 255).round().astype(np.uint8)
    loss = float(ssim_loss(ua / 127.5 - 1, ub / 127.5 - 1))
    assert 1 - ssim_luminance(ua, ub).mean() == pytest.approx(loss, abs=1e-4)


def test_adversarial_losses_and_r1():
    real, fake = np.array([[2.0], [0.0]]), np.array([[-1.0], [0.5]])
    expected_d = np.mean(np.log1p(np.exp(-real))) + np.mean(np.log1p(np.exp(fake)))
    assert float(discriminator_adversarial_loss(real, fake)) == pytest.approx(expected_d, rel=1e-5)
    expected_g = np.mean(np.log1p(np.exp(-fake)))
    assert float(generator_adversarial_loss(fake)) == pytest.approx(expected_g, rel=1e-5)
    grads = np.ones((2, 4, 4, 3), np.float32) * np.array([1.0, 2.0]).reshape(2, 1, 1, 1)
    # per sample |g|^2 = 48 and 192 -> mean 120 -> gamma / 2 * 120
    assert float(r1_penalty(grads, gamma=0.5)) == pytest.approx(0.25 * 120, rel=1e-5)


def test_colour_distance_sees_a_colour_shift_only():
    rng = np.random.default_rng(3)
    base = rng.integers(60, 200, (16, 16, 16, 3), dtype=np.uint8)
    shifted = np.clip(base.astype(int) + [40, -20, 0], 0, 255).astype(np.uint8)
    same = base[rng.permutation(16)]
    assert colour_distance(base, same, pixels=4000) < 1.0
    assert colour_distance(base, shifted, pixels=4000) > 10 * colour_distance(base, same, pixels=4000)
