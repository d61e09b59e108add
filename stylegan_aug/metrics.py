"""How good a transfer is: structure kept (SSIM output vs source), colours moved (sliced Wasserstein, Lab).

Both are NumPy/skimage, independent of the Keras SSIM used as the training loss, so the loss is checked
against a second implementation. Colour distance is the sliced 1-Wasserstein distance between the pixel
distributions of two patch sets in CIE Lab (units of Delta E 1976): the mean over random unit directions of
the 1-D Wasserstein distance of the projected pixels. A transfer works when output -> target is well below
source -> target; a second, independent target sample gives the floor (target -> target).
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
from skimage.metrics import structural_similarity

log = logging.getLogger(__name__)

LUMA = np.array([0.299, 0.587, 0.114], np.float64)


def ssim_luminance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image SSIM (Eq. 2, Gaussian sigma 1.5) of the luma of two uint8 RGB batches (N, H, W, 3)."""
    if a.shape != b.shape or a.ndim != 4:
        msg = f"ssim_luminance needs two (N, H, W, 3) batches of one shape. Received: {a.shape} and {b.shape}"
        raise ValueError(msg)
    ya = a.astype(np.float64) @ LUMA / 255.0
    yb = b.astype(np.float64) @ LUMA / 255.0
    return np.array([
        structural_similarity(x, y, data_range=1.0, gaussian_weights=True, sigma=1.5,
                              use_sample_covariance=False)
        for x, y in zip(ya, yb, strict=True)
    ])


def lab_pixels(images: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` pixels (n, 3) drawn with replacement from uint8 RGB ``images``, in CIE Lab."""
    flat = images.reshape(-1, 3)
    picks = flat[rng.integers(len(flat), size=n)]
    lab = cv2.cvtColor(picks.reshape(1, -1, 3).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    return lab.reshape(-1, 3).astype(np.float64)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, rng: np.random.Generator,
                       projections: int = 128) -> float:
    """Sliced 1-Wasserstein distance between point sets (n, d) and (n, d) of equal size."""
    if a.shape != b.shape:
        msg = f"sliced_wasserstein needs equal-size point sets. Received: {a.shape} and {b.shape}"
        raise ValueError(msg)
    directions = rng.standard_normal((a.shape[1], projections))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    pa = np.sort(a @ directions, axis=0)
    pb = np.sort(b @ directions, axis=0)
    return float(np.mean(np.abs(pa - pb)))


def colour_distance(images_a: np.ndarray, images_b: np.ndarray, *, seed: int = 0, pixels: int = 50000,
                    projections: int = 128) -> float:
    """Sliced Wasserstein distance in Lab between the pixels of two uint8 RGB patch sets."""
    rng = np.random.default_rng(seed)
    return sliced_wasserstein(lab_pixels(images_a, pixels, rng), lab_pixels(images_b, pixels, rng), rng,
                              projections)


def transfer_report(source: np.ndarray, output: np.ndarray, target: np.ndarray,
                    target_reference: np.ndarray | None = None, *, seed: int = 0) -> dict[str, float]:
    """SSIM(output, source) and colour distances source/output -> target (+ the target -> target floor)."""
    scores = ssim_luminance(source, output)
    report = {
        "ssim_mean": float(scores.mean()),
        "ssim_p05": float(np.percentile(scores, 5)),
        "color_source_target": colour_distance(source, target, seed=seed),
        "color_output_target": colour_distance(output, target, seed=seed),
    }
    if target_reference is not None:
        report["color_target_target"] = colour_distance(target_reference, target, seed=seed)
    return report
