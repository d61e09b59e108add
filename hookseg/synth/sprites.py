"""Nucleus sprites: every nucleus of a slide is a copy of one of a few hundred precomputed small images.

Drawing 100k nuclei one by one from scratch would dominate the render time; stamping precomputed sprites
(variants x rotations x sizes per kind, at the slide's own mpp) keeps the per-nucleus cost to one slice
operation. Each sprite has two channels: haematoxylin density and the nucleus mask (which carries the
nuclear DAB of positive cells, or the eosin of red blood cells).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import cv2
import numpy as np


class Kind(IntEnum):
    FIBROBLAST = 0
    LUMINAL = 1
    MYO = 2
    ATYPICAL = 3
    LYMPHOCYTE = 4
    ENDOTHELIAL = 5
    ADIPOCYTE = 6
    DEBRIS = 7
    GHOST = 8
    RBC = 9


@dataclass(frozen=True)
class NucleusShape:
    """Semi-axes (um), outline irregularity, darkness, chromatin contrast, vesicular rim, nucleolus chance."""

    a: float
    b: float
    irregular: float
    dark: float
    chromatin: float
    rim: float = 0.0
    nucleoli: float = 0.0
    sizes: tuple[float, ...] = (0.9, 1.1)
    biconcave: bool = False


SHAPES: dict[Kind, NucleusShape] = {
    Kind.FIBROBLAST: NucleusShape(5.5, 1.2, 0.06, 0.7, 0.15),
    Kind.LUMINAL: NucleusShape(3.2, 2.6, 0.04, 0.5, 0.25, rim=0.15),
    Kind.MYO: NucleusShape(4.5, 1.5, 0.05, 0.7, 0.15),
    # Atypical cells: the same population fills DCIS and invasive nests (the context problem).
    Kind.ATYPICAL: NucleusShape(4.6, 3.7, 0.16, 0.45, 0.45, rim=0.55, nucleoli=0.7,
                                sizes=(0.8, 0.95, 1.12, 1.35)),
    Kind.LYMPHOCYTE: NucleusShape(2.5, 2.3, 0.05, 0.9, 0.1),
    Kind.ENDOTHELIAL: NucleusShape(4.8, 1.2, 0.05, 0.9, 0.1),
    Kind.ADIPOCYTE: NucleusShape(4.0, 1.1, 0.04, 0.8, 0.1),
    Kind.DEBRIS: NucleusShape(1.3, 0.9, 0.35, 1.4, 0.1, sizes=(0.6, 1.0, 1.5)),
    Kind.GHOST: NucleusShape(4.2, 3.6, 0.12, 0.22, 0.3),
    Kind.RBC: NucleusShape(3.6, 3.4, 0.03, 0.08, 0.05, biconcave=True),
}
VARIANTS = 6
ROTATIONS = 8


@dataclass
class Sprite:
    data: np.ndarray  # (h, w, 2) float32: haematoxylin density, mask
    dy: int  # offset of data's top-left from the centre pixel
    dx: int


class SpriteAtlas:
    """All sprites of one slide at its mpp; ``index(kind, variant, angle, size)`` picks one."""

    def __init__(self, rng: np.random.Generator, mpp: float) -> None:
        self.mpp = mpp
        self.sprites: list[Sprite] = []
        self.base: dict[Kind, int] = {}
        for kind, shape in SHAPES.items():
            self.base[kind] = len(self.sprites)
            for _ in range(VARIANTS):
                harmonics = [(k, shape.irregular * rng.uniform(0.2, 1.0) / (k - 1),
                              rng.uniform(0, 2 * math.pi)) for k in range(2, 6)]
                for r in range(ROTATIONS):
                    for z in shape.sizes:
                        self.sprites.append(_render(rng, shape, harmonics, r * math.pi / ROTATIONS, z, mpp))
        self.max_extent = max(max(s.data.shape[:2]) for s in self.sprites)

    def index(self, kind: np.ndarray, variant: np.ndarray, angle: np.ndarray, size: np.ndarray) -> np.ndarray:
        """Flat sprite index per cell (vectorised)."""
        n_sizes = np.array([len(SHAPES[Kind(k)].sizes) for k in range(len(Kind))])
        base = np.array([self.base[Kind(k)] for k in range(len(Kind))])
        rot = np.round(np.mod(angle, math.pi) / (math.pi / ROTATIONS)).astype(int) % ROTATIONS
        z = size % n_sizes[kind]
        return base[kind] + (variant * ROTATIONS + rot) * n_sizes[kind] + z


def _render(rng: np.random.Generator, shape: NucleusShape, harmonics: list, angle: float, scale: float,
            mpp: float) -> Sprite:
    a, b = shape.a * scale, shape.b * scale
    half = math.ceil((a * (1 + 2 * shape.irregular) + 1.0) / mpp)
    coords = (np.arange(-half, half + 1) * mpp).astype(np.float32)
    y, x = np.meshgrid(coords, coords, indexing="ij")
    c, s = math.cos(angle), math.sin(angle)
    u, v = (x * c + y * s) / a, (-x * s + y * c) / b
    rn, phi = np.hypot(u, v), np.arctan2(v, u)
    edge = np.ones_like(rn)
    for k, amp, phase in harmonics:
        edge += amp * np.cos(k * phi + phase)
    inside = (edge - rn) * min(a, b)  # um inside the outline (negative outside)
    soft = max(0.35, mpp * 0.8)
    mask = np.clip(inside / soft + 0.5, 0, 1)
    grain = rng.standard_normal(mask.shape).astype(np.float32)
    grain = cv2.GaussianBlur(grain, (0, 0), max(0.4, 0.45 / mpp))
    grain /= max(float(grain.std()), 1e-6)
    density = 1.0 + shape.chromatin * grain
    if shape.rim:
        density += shape.rim * np.exp(-((inside / max(0.5, 2 * mpp)) ** 2))
        density -= 0.25 * shape.rim * (inside > 1.2)  # vesicular: pale centre, dark membrane
    if shape.biconcave:
        density = 1.0 - 0.5 * np.exp(-(rn / 0.55) ** 2)
    if shape.nucleoli and rng.random() < shape.nucleoli:
        for _ in range(int(rng.integers(1, 3))):
            cx, cy = rng.uniform(-0.4, 0.4, 2) * (a, b)
            density += 1.2 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 0.5**2))
    data = np.stack([np.maximum(density, 0) * shape.dark * mask, mask], axis=-1).astype(np.float32)
    rows, cols = np.nonzero(mask > 0.02)
    if rows.size == 0:
        rows, cols = np.array([half]), np.array([half])
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    return Sprite(np.ascontiguousarray(data[r0:r1, c0:c1]), int(r0 - half), int(c0 - half))
