"""Scanner profiles: what the same glass slide looks like through different scanners.

A profile is a colour calibration (3x3 matrix on linear transmittance), a white point, a tone curve
(gamma), the optics' blur, sensor noise, the native resolution and the JPEG quality of its tiles. Training
scanners A, B, C stand for the paper's Morphle, Optrascan and Philips; M ("Motic-like") is the held-out
scanner of the new domain, with a greenish cast, soft optics and strong compression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hookseg.errors import ConfigError


@dataclass(frozen=True)
class ScannerProfile:
    name: str
    like: str
    mpp: float
    color_matrix: tuple[tuple[float, float, float], ...]
    white_point: tuple[float, float, float]  # 0..1 per RGB channel: the glass colour
    gamma: float  # exponent on linear transmittance; < 1 lifts mid-tones
    blur_um: float  # Gaussian sigma of the optics, micrometres
    noise: float  # sensor noise, grey levels (std)
    jpeg_quality: int

    def camera(self, transmittance: np.ndarray) -> np.ndarray:
        """Linear RGB transmittance (..., 3) in 0..1 -> the uint8 RGB this scanner records."""
        matrix = np.asarray(self.color_matrix, dtype=np.float64)
        rgb = np.clip(transmittance @ matrix.T, 0, 1)
        rgb = rgb ** self.gamma * np.asarray(self.white_point)
        return np.clip(np.round(255 * rgb), 0, 255).astype(np.uint8)

    def blur_px(self, mpp: float) -> float:
        return self.blur_um / mpp


SCANNERS: dict[str, ScannerProfile] = {
    "A": ScannerProfile(
        "A", "Morphle", 0.5,
        ((0.96, 0.06, 0.00), (0.03, 0.94, 0.05), (0.00, 0.07, 0.95)),
        (0.97, 0.95, 0.91), 0.92, 0.45, 2.2, 85,
    ),
    "B": ScannerProfile(
        "B", "Optrascan", 0.5,
        ((1.04, -0.02, -0.02), (-0.03, 1.06, -0.03), (-0.02, -0.04, 1.06)),
        (0.95, 0.96, 0.98), 1.12, 0.35, 1.6, 90,
    ),
    "C": ScannerProfile(
        "C", "Philips", 0.25,
        ((0.92, 0.05, 0.03), (0.05, 0.90, 0.05), (0.02, 0.06, 0.92)),
        (0.94, 0.95, 0.97), 1.0, 0.22, 1.2, 80,
    ),
    "M": ScannerProfile(
        "M", "Motic", 0.5,
        ((0.90, 0.10, 0.00), (0.02, 1.00, 0.02), (0.04, 0.10, 0.86)),
        (0.93, 0.98, 0.90), 0.85, 0.6, 3.0, 70,
    ),
}
TRAINING_SCANNERS = ("A", "B", "C")
NEW_DOMAIN_SCANNER = "M"


def get_scanner(name: str) -> ScannerProfile:
    try:
        return SCANNERS[name]
    except KeyError:
        msg = f"Unknown scanner profile. Received: scanner={name!r}. Expected one of {sorted(SCANNERS)}"
        raise ConfigError(msg) from None


def noise_tiles(rng: np.random.Generator, size: int, std: float,
                channels: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Sensor noise as two uint8 tiles (positive and negative parts), ready for saturating add/subtract."""
    noise = np.round(rng.standard_normal((size, size, channels), dtype=np.float32) * std).clip(-127, 127)
    noise = noise.astype(np.int16)
    return np.maximum(noise, 0).astype(np.uint8), np.maximum(-noise, 0).astype(np.uint8)
