"""Multi-lens distortion (DRU-Net paper, arXiv 2406.14287, Algorithm 1) and a centred single lens.

n lenses, each with a random centre, radius R and strength s: an output pixel at distance r < R from a lens
samples ``centre + offset * (1 - s * max(1 - r / R, 0))``; s > 0 magnifies (barrel), s < 0 pinches
(pincushion). The paper found strengths of 0.2-0.4 helped and larger ones hurt. Lenses are drawn in
physical units inside the target field of view, so the context gets the same lenses at 1/ratio size.

``OpticalLens`` is the "optical distortion" family: one lens centred on the view. Unlike albumentations'
polynomial camera model it is zero beyond R, so it stays bounded over the 4x wider context.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from hookseg.augment import functional as F
from hookseg.augment.deform import DistortionSchema, PairedDistortion

Lens = tuple[float, float, float, float]  # x, y, radius, strength (target px from the view centre)


def _pair(name: str, value: Any, lo: float, hi: float) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) != 2 or not lo <= value[0] <= value[1] <= hi:
        msg = (
            f"`{name}` must be a [min, max] pair with {lo} <= min <= max <= {hi}. Received: {name}={value!r}"
        )
        raise ValueError(msg)
    return float(value[0]), float(value[1])


class MultiLensDistortion(PairedDistortion):
    """Several local barrel/pincushion lenses; image bilinear, mask nearest, one map for both.

    Args:
        num_lenses: [min, max] number of lenses (inclusive).
        radius: [min, max] lens radius as a fraction of the target side.
        strength: [min, max] magnitude of s, in [0, 1).
        both_signs: draw the sign of s at random (barrel or pincushion) instead of always barrel.
    """

    class InitSchema(DistortionSchema):
        num_lenses: tuple[int, int]
        radius: tuple[float, float]
        strength: tuple[float, float]
        both_signs: bool

    def __init__(
        self,
        num_lenses: tuple[int, int] = (2, 5),
        radius: tuple[float, float] = (0.1, 0.25),
        strength: tuple[float, float] = (0.2, 0.4),
        both_signs: bool = True,
        interpolation: int = cv2.INTER_LINEAR,
        mask_interpolation: int = cv2.INTER_NEAREST,
        fill_mask: float = 255,
        p: float = 0.5,
    ) -> None:
        super().__init__(interpolation, mask_interpolation, fill_mask, p)
        lo, hi = _pair("num_lenses", num_lenses, 0, 64)
        self.num_lenses = (int(lo), int(hi))
        self.radius = _pair("radius", radius, 0.0, 1.0)
        self.strength = _pair("strength", strength, 0.0, 0.99)
        self.both_signs = both_signs

    def sample_physical(self, size: tuple[int, int], extent: float) -> list[Lens]:
        height, width = size
        lenses = []
        for _ in range(self.py_random.randint(*self.num_lenses)):
            radius = self.py_random.uniform(*self.radius) * max(size)
            # Centre anywhere that keeps the lens inside the target (the paper's image_size - radius).
            free_x, free_y = max(width / 2 - radius, 0.0), max(height / 2 - radius, 0.0)
            x = self.py_random.uniform(-free_x, free_x)
            y = self.py_random.uniform(-free_y, free_y)
            strength = self.py_random.uniform(*self.strength)
            if self.both_signs and self.py_random.random() < 0.5:
                strength = -strength
            lenses.append((x, y, radius, strength))
        return lenses

    def add_displacement(self, dx: np.ndarray, dy: np.ndarray, params: Any, scale: float) -> None:
        F.add_lens_displacement(dx, dy, params, scale)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return (
            "num_lenses",
            "radius",
            "strength",
            "both_signs",
            "interpolation",
            "mask_interpolation",
            "fill_mask",
        )


class OpticalLens(PairedDistortion):
    """One lens on the view centre: barrel or pincushion over the whole target field of view.

    Args:
        radius: [min, max] lens radius as a fraction of the target side (0.71 reaches the corners).
        strength: [min, max] signed strength s in (-1, 1).
    """

    class InitSchema(DistortionSchema):
        radius: tuple[float, float]
        strength: tuple[float, float]

    def __init__(
        self,
        radius: tuple[float, float] = (0.6, 0.8),
        strength: tuple[float, float] = (-0.15, 0.15),
        interpolation: int = cv2.INTER_LINEAR,
        mask_interpolation: int = cv2.INTER_NEAREST,
        fill_mask: float = 255,
        p: float = 0.5,
    ) -> None:
        super().__init__(interpolation, mask_interpolation, fill_mask, p)
        self.radius = _pair("radius", radius, 0.0, 2.0)
        self.strength = _pair("strength", strength, -0.99, 0.99)

    def sample_physical(self, size: tuple[int, int], extent: float) -> list[Lens]:
        radius = self.py_random.uniform(*self.radius) * max(size)
        return [(0.0, 0.0, radius, self.py_random.uniform(*self.strength))]

    def add_displacement(self, dx: np.ndarray, dy: np.ndarray, params: Any, scale: float) -> None:
        F.add_lens_displacement(dx, dy, params, scale)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("radius", "strength", "interpolation", "mask_interpolation", "fill_mask")
