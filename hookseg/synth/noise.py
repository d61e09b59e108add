"""Noise fields and tileable textures: every random surface in a slide is one of these, precomputed once.

Per-pixel randomness is the expensive part of rendering, so textures are tiles made once (FFT-filtered
noise, periodic so they tile without seams) and read by world coordinate: the same level-0 pixel always gets
the same texture value, whichever strip renders it, and strips join without seams.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian-filtered white noise of unit standard deviation (sigma in pixels of ``shape``)."""
    field = rng.standard_normal(shape).astype(np.float32)
    if sigma > 0.3:
        field = cv2.GaussianBlur(field, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    std = float(field.std())
    return field / std if std > 0 else field


def coarse_field(rng: np.random.Generator, shape: tuple[int, int], sigma: float, step: int) -> np.ndarray:
    """A smooth field at full ``shape`` computed on a grid ``step`` times coarser and upsampled bilinearly."""
    h, w = shape
    small = (max(2, math.ceil(h / step) + 1), max(2, math.ceil(w / step) + 1))
    field = smooth_field(rng, small, sigma / step)
    big = cv2.resize(field, (small[1] * step, small[0] * step), interpolation=cv2.INTER_LINEAR)
    return big[:h, :w]


def periodic_noise(
    rng: np.random.Generator,
    size: int,
    sigma: float,
    *,
    stretch: float = 1.0,
    angle: float = 0.0,
) -> np.ndarray:
    """Tileable unit-std noise filtered by an oriented Gaussian (``stretch`` > 1: fibres along ``angle``)."""
    freq = np.fft.fftfreq(size).astype(np.float32)
    fy, fx = np.meshgrid(freq, freq, indexing="ij")
    c, s = math.cos(angle), math.sin(angle)
    along = fx * c + fy * s
    across = -fx * s + fy * c
    sig_along, sig_across = sigma * stretch, sigma / math.sqrt(stretch)
    gain = np.exp(-2 * math.pi**2 * ((along * sig_along) ** 2 + (across * sig_across) ** 2))
    spectrum = np.fft.fft2(rng.standard_normal((size, size)).astype(np.float32)) * gain
    field = np.fft.ifft2(spectrum).real.astype(np.float32)
    std = float(field.std())
    return field / std if std > 0 else field


def fibre_texture(rng: np.random.Generator, size: int, width_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Wavy collagen-like fibres whose direction drifts smoothly; also the local direction (radians)."""
    n_dirs = 6
    angles = np.arange(n_dirs) * math.pi / n_dirs
    layers = np.stack([periodic_noise(rng, size, width_px, stretch=4.5, angle=a) for a in angles])
    weights = np.stack([periodic_noise(rng, size, size / 10) for _ in angles])
    weights = np.exp(1.6 * weights)
    weights /= weights.sum(axis=0, keepdims=True)
    texture = (layers * weights).sum(axis=0)
    texture /= max(float(texture.std()), 1e-6)
    direction = angles[np.argmax(weights, axis=0)].astype(np.float32)
    return np.tanh(texture).astype(np.float32), direction


def cell_network(rng: np.random.Generator, size: int, spacing_px: float, line_px: float) -> np.ndarray:
    """Tileable polygonal network (Voronoi edges, 0..1): adipocyte membranes."""
    n = max(4, round((size / spacing_px) ** 2))
    points = rng.uniform(0, size, (n, 2))
    # Periodic copies so the Voronoi cells wrap around the tile's edges.
    shifts = np.array([(dx, dy) for dx in (-size, 0, size) for dy in (-size, 0, size)], dtype=float)
    canvas = 3 * size
    seeds = np.full((canvas, canvas), 255, np.uint8)
    for shift in shifts:
        xy = np.round(points + shift + size).astype(int)
        seeds[xy[:, 1], xy[:, 0]] = 0
    _, labels = cv2.distanceTransformWithLabels(seeds, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    edges = np.zeros((canvas, canvas), np.float32)
    edges[:, :-1] += labels[:, :-1] != labels[:, 1:]
    edges[:-1, :] += labels[:-1, :] != labels[1:, :]
    network = cv2.GaussianBlur(np.minimum(edges, 1), (0, 0), max(0.5, line_px / 2))
    network = network[size : 2 * size, size : 2 * size]  # the middle copy: periodic by construction
    return np.clip(network / max(float(network.max()), 1e-6), 0, 1).astype(np.float32)


class TileBank:
    """Periodic tiles stored with a wrapped margin so any window up to ``max_window`` is a zero-copy view."""

    def __init__(self, size: int, max_window: tuple[int, int]) -> None:
        self.size = size
        self.max_w, self.max_h = max_window
        self._tiles: dict[str, np.ndarray] = {}

    def add(self, name: str, tile: np.ndarray) -> None:
        if tile.shape[:2] != (self.size, self.size):
            msg = f"Texture {name!r} must be {self.size}x{self.size}. Received: shape={tile.shape}"
            raise ValueError(msg)
        reps_y = math.ceil((self.size + self.max_h) / self.size)
        reps_x = math.ceil((self.size + self.max_w) / self.size)
        reps = (reps_y, reps_x) + (1,) * (tile.ndim - 2)
        big = np.tile(tile, reps)[: self.size + self.max_h, : self.size + self.max_w]
        self._tiles[name] = np.ascontiguousarray(big)

    def window(self, name: str, x: int, y: int, w: int, h: int) -> np.ndarray:
        """The tile's values at world pixels [x, x+w) x [y, y+h) (a view; do not write to it)."""
        if w > self.max_w or h > self.max_h:
            msg = f"Texture window {w}x{h} exceeds the bank's maximum {self.max_w}x{self.max_h}"
            raise ValueError(msg)
        ox, oy = x % self.size, y % self.size
        return self._tiles[name][oy : oy + h, ox : ox + w]

    def __contains__(self, name: str) -> bool:
        return name in self._tiles
