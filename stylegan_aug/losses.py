"""GAN losses in ``keras.ops``: non-saturating adversarial, R1, and the paper's SSIM structure loss (Eq. 2).

SSIM is computed on luminance only: the generator must keep the tissue's light-dark structure (nuclei,
membranes, stroma) but is free to change hue and saturation, which is the stain/scanner change itself.
SSIM follows Wang et al. (2004) and Eq. 2: Gaussian-weighted local means, variances and covariance
(11 x 11 window, sigma 1.5), C1 = (0.01 L)^2, C2 = (0.03 L)^2, averaged over the valid window positions,
which is what ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
use_sample_covariance=False)`` returns.
"""

from __future__ import annotations

import logging

import keras
import numpy as np
from keras import ops

log = logging.getLogger(__name__)

# ITU-R BT.601 luma weights.
LUMA = (0.299, 0.587, 0.114)


def gaussian_taps(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    """Normalised 1-D Gaussian of ``size`` taps (odd)."""
    if size < 1 or size % 2 == 0 or sigma <= 0:
        msg = f"SSIM needs an odd filter size and sigma > 0. Received: size={size}, sigma={sigma}"
        raise ValueError(msg)
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    taps = np.exp(-(x**2) / (2 * sigma**2))
    return (taps / taps.sum()).astype(np.float32)


def luminance(images, value_range: tuple[float, float] = (-1.0, 1.0)):
    """(B, H, W, 3) RGB in ``value_range`` -> (B, H, W, 1) luma in [0, 1]."""
    lo, hi = value_range
    rgb = (ops.cast(images, "float32") - lo) / (hi - lo)
    weights = ops.convert_to_tensor(np.array(LUMA, np.float32).reshape(1, 1, 1, 3))
    return ops.sum(rgb * weights, axis=-1, keepdims=True)


def _blur(x, taps):
    """Separable Gaussian, 'valid' positions only, per channel."""
    channels = int(x.shape[-1])
    size = int(taps.shape[0])
    column = ops.convert_to_tensor(np.tile(taps.reshape(size, 1, 1, 1), (1, 1, channels, 1)))
    row = ops.convert_to_tensor(np.tile(taps.reshape(1, size, 1, 1), (1, 1, channels, 1)))
    x = ops.depthwise_conv(x, column, strides=1, padding="valid")
    return ops.depthwise_conv(x, row, strides=1, padding="valid")


def ssim(x, y, max_val: float = 1.0, filter_size: int = 11, filter_sigma: float = 1.5,
         k1: float = 0.01, k2: float = 0.03):
    """Mean SSIM per image (B,) of (B, H, W, C) images with values in [0, max_val] (Eq. 2)."""
    x = ops.cast(x, "float32")
    y = ops.cast(y, "float32")
    if x.shape[1] is not None and min(x.shape[1], x.shape[2]) < filter_size:
        msg = f"SSIM needs images of at least {filter_size} px. Received: shape={tuple(x.shape)}"
        raise ValueError(msg)
    taps = gaussian_taps(filter_size, filter_sigma)
    c1 = (k1 * max_val) ** 2
    c2 = (k2 * max_val) ** 2
    mu_x, mu_y = _blur(x, taps), _blur(y, taps)
    var_x = _blur(x * x, taps) - mu_x * mu_x
    var_y = _blur(y * y, taps) - mu_y * mu_y
    cov = _blur(x * y, taps) - mu_x * mu_y
    luminance_term = (2 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1)
    structure_term = (2 * cov + c2) / (var_x + var_y + c2)
    return ops.mean(luminance_term * structure_term, axis=(1, 2, 3))


def ssim_loss(source, output, weight: float = 1.0, value_range: tuple[float, float] = (-1.0, 1.0)):
    """``weight * mean(1 - SSIM(luma(source), luma(output)))``: the structure term of the generator loss."""
    return weight * ops.mean(1.0 - ssim(luminance(source, value_range), luminance(output, value_range)))


def generator_adversarial_loss(fake_logits):
    """Non-saturating loss: -log sigmoid(D(G(x)))."""
    return ops.mean(ops.softplus(-ops.cast(fake_logits, "float32")))


def discriminator_adversarial_loss(real_logits, fake_logits):
    """Logistic loss: -log sigmoid(D(real)) - log(1 - sigmoid(D(fake)))."""
    real = ops.cast(real_logits, "float32")
    fake = ops.cast(fake_logits, "float32")
    return ops.mean(ops.softplus(-real)) + ops.mean(ops.softplus(fake))


def r1_penalty(real_gradients, gamma: float):
    """R1 (Mescheder et al. 2018): gamma / 2 * E[|grad_x D(x)|^2] on real images only.

    Takes the gradients because computing them is backend specific (see ``stylegan_aug.step_tf``).
    """
    grads = ops.cast(real_gradients, "float32")
    return 0.5 * gamma * ops.mean(ops.sum(ops.square(grads), axis=(1, 2, 3)))


@keras.saving.register_keras_serializable(package="hookseg")
class SSIMLoss(keras.losses.Loss):
    """``1 - SSIM`` on luminance between ``y_true`` (source) and ``y_pred`` (styled), both in [-1, 1]."""

    def __init__(self, name: str = "ssim_loss", **kwargs) -> None:
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return 1.0 - ssim(luminance(y_true), luminance(y_pred))
