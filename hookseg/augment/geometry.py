"""Rigid geometry of a paired sample: flip, rotate, rescale, crop, shear and shift as 3x3 physical matrices.

Each function draws its parameters from the caller's ``random.Random`` and returns a forward map on physical
offsets from the view centre, measured in target pixels. An ``AffineStep`` is one config item (a function,
its arguments and ``p``); ``dual_fov.PairedGeometry`` multiplies the steps that fire and evaluates the
product on both views, so rotation, flip, shear and scale act about each view's centre and a translation
moves the ``ratio`` times coarser context by 1 / ratio as many pixels.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

Size = tuple[int, int]  # the target view (h, w)


def _range(name: str, value: Sequence[float], lo: float, hi: float) -> tuple[float, float]:
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


def _rotation(degrees: float) -> np.ndarray:
    # Image axes: x right, y down; a positive angle turns the content clockwise on screen.
    t = math.radians(degrees)
    return np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])


def hflip(rnd: random.Random, size: Size) -> np.ndarray:
    return _matrix(np.diag([-1.0, 1.0]))


def vflip(rnd: random.Random, size: Size) -> np.ndarray:
    return _matrix(np.diag([1.0, -1.0]))


def rotate90(rnd: random.Random, size: Size) -> np.ndarray:
    """A multiple of 90 degrees (k = 0..3 uniform): exact, no fill, no interpolation."""
    return _matrix(np.rint(_rotation(90.0 * rnd.randrange(4))))


def rotate(rnd: random.Random, size: Size, limit: Sequence[float] = (-20.0, 20.0)) -> np.ndarray:
    """Any angle in ``limit`` degrees about the centre; the corners come from the border fill."""
    return _matrix(_rotation(rnd.uniform(*_range("limit", limit, -180.0, 180.0))))


def rescale(rnd: random.Random, size: Size, scale: Sequence[float] = (0.85, 1.2)) -> np.ndarray:
    """Zoom about the centre by a factor drawn log-uniformly in ``scale`` (> 1 magnifies)."""
    lo, hi = _range("scale", scale, 0.1, 10.0)
    return _matrix(np.eye(2) * math.exp(rnd.uniform(math.log(lo), math.log(hi))))


def crop(rnd: random.Random, size: Size, area: Sequence[float] = (0.6, 1.0)) -> np.ndarray:
    """Random-resized crop: a window of ``area`` fraction of the target, anywhere inside it, at full size.

    The window centre becomes the new centre of *both* views, so the context follows it physically.
    """
    z = 1.0 / math.sqrt(rnd.uniform(*_range("area", area, 0.01, 1.0)))
    free = (1.0 - 1.0 / z) / 2.0  # how far the window centre may move, as a fraction of the side
    cx = rnd.uniform(-free, free) * size[1]
    cy = rnd.uniform(-free, free) * size[0]
    return _matrix(np.eye(2) * z, (-z * cx, -z * cy))


def shear(rnd: random.Random, size: Size, limit: Sequence[float] = (-10.0, 10.0)) -> np.ndarray:
    """Shear along x and along y, each angle drawn in ``limit`` degrees."""
    lo, hi = _range("limit", limit, -45.0, 45.0)
    sx = math.tan(math.radians(rnd.uniform(lo, hi)))
    sy = math.tan(math.radians(rnd.uniform(lo, hi)))
    return _matrix(np.array([[1.0, sx], [sy, 1.0]]))


def shift(rnd: random.Random, size: Size, limit: float = 0.0625) -> np.ndarray:
    """Translate by up to ``limit`` of the target side along each axis (also the XY-jitter preset).

    The total translation is snapped to whole context pixels (``snap_translation``), so a ``limit`` below
    half a context pixel does nothing.
    """
    if not 0.0 <= float(limit) <= 1.0:
        msg = f"`limit` must be a fraction of the side in [0, 1]. Received: limit={limit!r}"
        raise ValueError(msg)
    return _matrix(None, (rnd.uniform(-limit, limit) * size[1], rnd.uniform(-limit, limit) * size[0]))


class AffineStep:
    """One affine config item: with probability ``p``, ``draw(rnd, size, **args)`` gives its matrix.

    The arguments are checked at construction by one throw-away draw, so a bad config fails at load. A plain
    class, not a dataclass: albumentations' InitSchema ``model_dump`` would turn a dataclass into a dict.
    """

    def __init__(
        self, name: str, p: float, draw: Callable[..., np.ndarray], args: Mapping[str, Any] | None = None
    ) -> None:
        if not 0.0 <= p <= 1.0:
            msg = f"p must be in [0, 1]. Received: p={p!r}"
            raise ValueError(msg)
        self.name, self.p, self.draw, self.args = name, p, draw, dict(args or {})
        draw(random.Random(0), (64, 64), **self.args)

    def __repr__(self) -> str:
        return f"AffineStep({self.name!r}, p={self.p}, {self.args})"

    def sample(self, rnd: random.Random, size: Size) -> np.ndarray | None:
        """The draw for ``p`` always happens, so the stream stays aligned whether or not the step fires."""
        if rnd.random() >= self.p:
            return None
        return self.draw(rnd, size, **self.args)


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
