"""Rigid geometry of a paired sample: flip, rotate, rescale, crop, shear and shift as 3x3 physical matrices.

Each component draws its parameters from the caller's ``random.Random`` and returns a forward map on
physical offsets from the view centre, measured in target pixels (or ``None`` when it does not fire).
``dual_fov`` multiplies them in list order and evaluates the product on both views with
``functional.affine_to_pixels``: rotation, flip, shear and scale act about each view's centre and the
translation is divided by ``ratio`` on the context, so both views stay centre-aligned in physical units.

Why not ``A.Affine`` with ``additional_targets``: albumentations applies the same *pixel* shift to every
target, which moves the 4x coarser context four times too far.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        msg = f"p must be in [0, 1]. Received: p={p!r}"
        raise ValueError(msg)


def _check_range(name: str, value: Sequence[float], lo: float, hi: float) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        msg = f"`{name}` must be a [min, max] pair. Received: {name}={value!r}"
        raise ValueError(msg)
    a, b = float(value[0]), float(value[1])
    if not lo <= a <= b <= hi:
        msg = f"`{name}` must satisfy {lo} <= min <= max <= {hi}. Received: {name}={list(value)!r}"
        raise ValueError(msg)
    return a, b


def _matrix(linear: np.ndarray | None = None, shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    m = np.eye(3)
    if linear is not None:
        m[:2, :2] = linear
    m[:2, 2] = shift
    return m


class AffineComponent:
    """Base: ``p`` and ``sample`` -> a 3x3 forward matrix or None. Subclasses are frozen dataclasses."""

    p: float

    def __post_init__(self) -> None:
        _check_p(self.p)

    def sample(self, rnd: random.Random, size: tuple[int, int]) -> np.ndarray | None:
        """``size`` is the target (h, w); the draw for ``p`` always happens, so streams stay aligned."""
        if rnd.random() >= self.p:
            return None
        return self._draw(rnd, size)

    def _draw(self, rnd: random.Random, size: tuple[int, int]) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class HorizontalFlip(AffineComponent):
    p: float = 0.5

    def _draw(self, rnd: random.Random, size: tuple[int, int]) -> np.ndarray:
        return _matrix(np.diag([-1.0, 1.0]))


@dataclass(frozen=True)
class VerticalFlip(AffineComponent):
    p: float = 0.5

    def _draw(self, rnd: random.Random, size: tuple[int, int]) -> np.ndarray:
        return _matrix(np.diag([1.0, -1.0]))


def _rotation(degrees: float) -> np.ndarray:
    # Image axes: x right, y down; a positive angle turns the content clockwise on screen.
    t = math.radians(degrees)
    return np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])


@dataclass(frozen=True)
class Rotate90(AffineComponent):
    """A multiple of 90 degrees (k = 0..3 uniform): exact, no fill, no interpolation."""

    p: float = 1.0

    def _draw(self, rnd: random.Random, size: tuple[int, int]) -> np.ndarray:
        k = rnd.randrange(4)
        return _matrix(np.rint(_rotation(90.0 * k)))


@dataclass(frozen=True)
class Rotate(AffineComponent):
    """Any angle in ``limit`` degrees about the centre; the corners come from the border fill."""

    p: float = 0.3
    limit: tuple[float, float] = (-20.0, 20.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "limit", _check_range("limit", self.limit, -180.0, 180.0))

    def _draw(self, rnd: random.Random, size: tuple[int, int]) -> np.ndarray:
        return _matrix(_rotation(rnd.uniform(*self.limit)))


@dataclass(frozen=True)
class Rescale(AffineComponent):
    """Zoom about the centre by a factor drawn log-uniformly in ``scale`` (> 1 magnifies)."""

    p: float = 0.5
    scale: tuple[float, float] = (0.85, 1.2)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "scale", _check_range("scale", self.scale, 0.1, 10.0))

    def _draw(self, rnd: random.Random, size: tuple[int, int]) -> np.ndarray:
        z = math.exp(rnd.uniform(math.log(self.scale[0]), math.log(self.scale[1])))
        return _matrix(np.eye(2) * z)


@dataclass(frozen=True)
class Crop(AffineComponent):
    """Random-resized crop: a window of ``area`` fraction of the target, anywhere inside it, at full size.

    The window centre becomes the new centre of *both* views, so the context follows it physically.
    """

    p: float = 0.3
    area: tuple[float, float] = (0.6, 1.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "area", _check_range("area", self.area, 0.01, 1.0))

    def _draw(self, rnd: random.Random, size: tuple[int, int]) -> np.ndarray:
        z = 1.0 / math.sqrt(rnd.uniform(*self.area))
        free = (1.0 - 1.0 / z) / 2.0  # how far the window centre may move, as a fraction of the side
        cx = rnd.uniform(-free, free) * size[1]
        cy = rnd.uniform(-free, free) * size[0]
        return _matrix(np.eye(2) * z, (-z * cx, -z * cy))


@dataclass(frozen=True)
class Shear(AffineComponent):
    """Shear along x and along y, each angle drawn in ``limit`` degrees."""

    p: float = 0.2
    limit: tuple[float, float] = (-10.0, 10.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "limit", _check_range("limit", self.limit, -45.0, 45.0))

    def _draw(self, rnd: random.Random, size: tuple[int, int]) -> np.ndarray:
        sx = math.tan(math.radians(rnd.uniform(*self.limit)))
        sy = math.tan(math.radians(rnd.uniform(*self.limit)))
        return _matrix(np.array([[1.0, sx], [sy, 1.0]]))


@dataclass(frozen=True)
class Shift(AffineComponent):
    """Translate by up to ``limit`` of the target side along each axis (also the XY-jitter preset).

    ``dual_fov`` snaps the total translation to whole context pixels, so the context is never resampled
    by a sub-pixel shift; a ``limit`` below half a context pixel therefore does nothing.
    """

    p: float = 0.3
    limit: float = 0.0625

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= float(self.limit) <= 1.0:
            msg = f"`limit` must be a fraction of the side in [0, 1]. Received: limit={self.limit!r}"
            raise ValueError(msg)

    def _draw(self, rnd: random.Random, size: tuple[int, int]) -> np.ndarray:
        dx = rnd.uniform(-self.limit, self.limit) * size[1]
        dy = rnd.uniform(-self.limit, self.limit) * size[0]
        return _matrix(None, (dx, dy))


def compose(matrices: Sequence[np.ndarray | None]) -> np.ndarray | None:
    """Product of the forward matrices in application order (the first listed acts first)."""
    total = None
    for m in matrices:
        if m is not None:
            total = m if total is None else m @ total
    return total


def snap_translation(matrix: np.ndarray, ratio: float) -> np.ndarray:
    """Round the translation to whole context pixels (multiples of ``ratio`` target px)."""
    out = matrix.copy()
    out[:2, 2] = np.round(out[:2, 2] / ratio) * ratio
    return out
