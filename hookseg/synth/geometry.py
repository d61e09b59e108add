"""Structure outlines (irregular ellipses) and filling them into label maps with cv2, at sub-pixel precision.

Every structure of the layout (tumour bed, DCIS duct, normal duct, acinus, vessel, ...) is an ellipse whose
radius wobbles with a few low harmonics; insetting both radii by a thickness gives its concentric layers
(myoepithelial rim, epithelium, lumen) with nearly uniform thickness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

SHIFT = 4  # cv2 fixed-point bits: 1/16 pixel


@dataclass(frozen=True)
class Structure:
    """One structure of the layout, in micrometres (x right, y down)."""

    kind: str
    x: float
    y: float
    rx: float
    ry: float
    angle: float = 0.0
    harmonics: tuple[tuple[int, float, float], ...] = ()  # (k, amplitude, phase)
    layers: dict[str, float] = field(default_factory=dict)  # e.g. {"rim": 4.0, "epi": 14.0}

    @property
    def radius(self) -> float:
        return max(self.rx, self.ry) * (1 + sum(abs(a) for _, a, _ in self.harmonics))

    def bbox(self, margin: float = 0.0) -> tuple[float, float, float, float]:
        r = self.radius + margin
        return self.x - r, self.y - r, self.x + r, self.y + r

    def outline(self, inset: float = 0.0, n: int | None = None) -> np.ndarray:
        """(n, 2) points of the outline moved ``inset`` micrometres inwards."""
        return outline_points(self, inset, n)

    def point_at(self, theta: np.ndarray, inset: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x, y and outline tangent direction (radians) at polar angles ``theta``, ``inset`` inwards."""
        m = _modulation(self.harmonics, theta)
        ax = np.maximum(self.rx * m - inset, 0.5)
        ay = np.maximum(self.ry * m - inset, 0.5)
        lx, ly = ax * np.cos(theta), ay * np.sin(theta)
        c, s = math.cos(self.angle), math.sin(self.angle)
        tx, ty = -ax * np.sin(theta), ay * np.cos(theta)
        tangent = np.arctan2(tx * s + ty * c, tx * c - ty * s)
        return self.x + lx * c - ly * s, self.y + lx * s + ly * c, tangent


def random_harmonics(rng: np.random.Generator, amplitude: float, kmax: int = 5) -> tuple:
    """Low-order wobble of a radius: amplitude shrinks with the order so outlines stay smooth."""
    return tuple(
        (k, float(amplitude * rng.uniform(0.3, 1.0) / (k - 1)), float(rng.uniform(0, 2 * math.pi)))
        for k in range(2, kmax + 1)
    )


def _modulation(harmonics: tuple, theta: np.ndarray) -> np.ndarray:
    m = np.ones_like(theta)
    for k, amp, phase in harmonics:
        m = m + amp * np.cos(k * theta + phase)
    return m


def outline_points(s: Structure, inset: float = 0.0, n: int | None = None) -> np.ndarray:
    if n is None:
        n = int(np.clip(2 * math.pi * s.radius / 3.0, 24, 720))
    theta = np.linspace(0, 2 * math.pi, n, endpoint=False)
    x, y, _ = s.point_at(theta, inset)
    return np.stack([x, y], axis=1)


def fill(
    canvas: np.ndarray, points_um: np.ndarray, value: int, *, grid_mpp: float = 1.0,
    origin: tuple[float, float] = (0.0, 0.0),
) -> None:
    """Fill a polygon (micrometres) into ``canvas`` whose pixel (r, c) covers origin + [c, c+1) x [r, r+1)."""
    px = (points_um - np.asarray(origin)) / grid_mpp - 0.5  # cv2 puts pixel centres on integers
    pts = np.round(px * (1 << SHIFT)).astype(np.int32)
    cv2.fillPoly(canvas, [pts], int(value), lineType=cv2.LINE_8, shift=SHIFT)


def fill_structure(
    canvas: np.ndarray, s: Structure, value: int, inset: float = 0.0, *, grid_mpp: float = 1.0,
) -> None:
    fill(canvas, s.outline(inset), value, grid_mpp=grid_mpp)


def disk(radius_px: float) -> np.ndarray:
    r = max(1, round(radius_px))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
