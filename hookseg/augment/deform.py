"""Non-rigid deformations defined in physical units, so the target and the context deform alike.

``PairedDistortion`` is an albumentations ``BaseDistortion``: alone (one image + mask) it returns
``map_x/map_y`` like ``OpticalDistortion`` and remaps the mask with nearest interpolation. ``dual_fov``
instead calls ``sample_physical`` once and ``add_displacement`` per view with ``scale`` = target px per
view px, so a displacement of d target px becomes d / ratio context px at the same physical place.

Why not albumentations' ``ElasticTransform``/``GridDistortion``: their fields are drawn per pixel grid, so
the coarser context cannot get the same physical field (and ``ElasticTransform`` costs ~17 ms at 512 px).
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
from albumentations.augmentations.geometric.distortion import BaseDistortion
from albumentations.core.transforms_interface import BaseTransformInitSchema
from pydantic import Field

from hookseg.augment import functional as F

_INTERPOLATIONS = {cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_AREA, cv2.INTER_LANCZOS4}


class DistortionSchema(BaseTransformInitSchema):
    """Shared fields. Derives from BaseTransformInitSchema: BaseDistortion.InitSchema would demand six
    fields these classes do not take (STYLE.md section 9)."""

    interpolation: int
    mask_interpolation: int
    fill_mask: float


def _check_interpolations(interpolation: int, mask_interpolation: int) -> None:
    for name, value in (("interpolation", interpolation), ("mask_interpolation", mask_interpolation)):
        if value not in _INTERPOLATIONS:
            msg = f"`{name}` must be an OpenCV INTER_* flag. Received: {name}={value!r}"
            raise ValueError(msg)


class PairedDistortion(BaseDistortion):
    """Base: physical parameters drawn once (``sample_physical``), displacements evaluated per view."""

    def __init__(self, interpolation: int, mask_interpolation: int, fill_mask: float, p: float) -> None:
        _check_interpolations(interpolation, mask_interpolation)
        super().__init__(
            interpolation=interpolation,
            mask_interpolation=mask_interpolation,
            keypoint_remapping_method="mask",
            p=p,
            border_mode=cv2.BORDER_REFLECT_101,
            fill=0,
            fill_mask=fill_mask,
        )

    def sample_physical(self, size: tuple[int, int], extent: float) -> Any:
        """Draw parameters for a target of ``size`` (h, w), covering ``extent`` target px from the centre."""
        raise NotImplementedError

    def add_displacement(self, dx: np.ndarray, dy: np.ndarray, params: Any, scale: float) -> None:
        """Add this deformation's source-minus-output offsets (view px) to ``dx, dy`` in place."""
        raise NotImplementedError

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        physical = self.sample_physical((height, width), extent=math.hypot(height, width) / 2)
        map_x, map_y = F.identity_maps(height, width)
        dx = np.zeros_like(map_x)
        dy = np.zeros_like(map_y)
        self.add_displacement(dx, dy, physical, 1.0)
        return {"map_x": map_x + dx, "map_y": map_y + dy}


class ElasticGrid(PairedDistortion):
    """Elastic deformation: random offsets on a coarse grid, bicubic in between (the U-Net paper's recipe).

    Args:
        alpha: largest offset of a grid knot, in target px (keep below ~0.4 x the knot spacing: no folds).
        spacing: knot spacing as a fraction of the target side.
    """

    class InitSchema(DistortionSchema):
        alpha: float = Field(ge=0)
        spacing: float = Field(gt=0, le=1)

    def __init__(
        self,
        alpha: float = 8.0,
        spacing: float = 0.125,
        interpolation: int = cv2.INTER_LINEAR,
        mask_interpolation: int = cv2.INTER_NEAREST,
        fill_mask: float = 255,
        p: float = 0.5,
    ) -> None:
        super().__init__(interpolation, mask_interpolation, fill_mask, p)
        self.alpha = alpha
        self.spacing = spacing

    def sample_physical(self, size: tuple[int, int], extent: float) -> tuple[np.ndarray, float]:
        step = self.spacing * max(size)
        half = math.ceil(extent / step) + 2
        field = self.random_generator.uniform(-self.alpha, self.alpha, (2 * half + 1, 2 * half + 1, 2))
        return field.astype(np.float32), step

    def add_displacement(self, dx: np.ndarray, dy: np.ndarray, params: Any, scale: float) -> None:
        field, step = params
        F.add_field_displacement(dx, dy, field, step, scale)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("alpha", "spacing", "interpolation", "mask_interpolation", "fill_mask")


class SeparableGrid(PairedDistortion):
    """Grid distortion: columns and rows stretched piecewise linearly between knots ``spacing`` apart.

    Args:
        spacing: knot spacing as a fraction of the target side.
        distort_limit: largest knot offset as a fraction of the spacing (< 0.5 keeps the order of pixels).
    """

    class InitSchema(DistortionSchema):
        spacing: float = Field(gt=0, le=1)
        distort_limit: float = Field(ge=0, lt=0.5)

    def __init__(
        self,
        spacing: float = 0.2,
        distort_limit: float = 0.2,
        interpolation: int = cv2.INTER_LINEAR,
        mask_interpolation: int = cv2.INTER_NEAREST,
        fill_mask: float = 255,
        p: float = 0.5,
    ) -> None:
        super().__init__(interpolation, mask_interpolation, fill_mask, p)
        self.spacing = spacing
        self.distort_limit = distort_limit

    def sample_physical(self, size: tuple[int, int], extent: float) -> tuple[np.ndarray, ...]:
        step = self.spacing * max(size)
        half = math.ceil(extent / step) + 1
        knots = np.arange(-half, half + 1, dtype=np.float64) * step
        limit = self.distort_limit * step
        x_values = self.random_generator.uniform(-limit, limit, knots.size)
        y_values = self.random_generator.uniform(-limit, limit, knots.size)
        return knots, x_values, y_values

    def add_displacement(self, dx: np.ndarray, dy: np.ndarray, params: Any, scale: float) -> None:
        F.add_separable_displacement(dx, dy, *params, scale)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("spacing", "distort_limit", "interpolation", "mask_interpolation", "fill_mask")
