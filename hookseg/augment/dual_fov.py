"""albumentations transforms for a dual field-of-view sample: target + context, each with its label map.

The context has the same centre as the target and ``ratio`` times its microns per pixel. Both transforms
take the targets ``image``, ``mask`` (the target view) and ``context``, ``context_mask``:

* ``PairedGeometry`` (a ``DualTransform``) draws one spatial transform in physical units (target px from
  the centre) and evaluates it per view. Flips, rotations, shear and scale act about each view's centre; a
  translation of d target px moves the context by d / ratio px, and the total translation is snapped to
  whole context pixels, so the context is never resampled for a sub-pixel shift. Non-rigid fields (elastic,
  grid, optical, multi-lens) act first (tissue deforms, then the "camera" moves); the context sees the same
  field at 1 / ratio scale. Images: bilinear with the configured border; labels: nearest, outside = ignore.
* ``PerView`` runs its transforms once per view with separate draws: sensor noise is not shared.

Why not ``A.Affine`` and albumentations' distortions with ``additional_targets``: albumentations applies the
same *pixel* parameters to every target, so a 16-px target shift would move the 4x coarser context by 16 px.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import albumentations as A
import cv2
import numpy as np
from albumentations.core.transforms_interface import (
    BaseTransformInitSchema,
    DualTransform,
    ImageOnlyTransform,
)
from albumentations.core.type_definitions import Targets
from pydantic import Field

from hookseg.augment import functional as F
from hookseg.augment.deform import PairedDistortion
from hookseg.augment.geometry import AffineStep, compose, snap_translation

# Per view: (deform maps or None, their interpolation, 2x3 pixel matrix or None).
ViewWarp = tuple[tuple[np.ndarray, np.ndarray] | None, int, np.ndarray | None]


class PairedGeometry(DualTransform):
    """One physically consistent warp of both fields of view and their labels.

    Args:
        affine: the affine config items, applied in list order and multiplied into one matrix.
        deform: non-rigid ``PairedDistortion``s; the active ones are summed into one displacement field.
        ratio: context mpp / target mpp.
        border_mode, fill: image border (OpenCV ``BORDER_*``) and its value for ``BORDER_CONSTANT``.
        fill_mask: the label written where the warp pulls in pixels from outside the view (ignore).
    """

    _targets = (Targets.IMAGE, Targets.MASK)

    class InitSchema(BaseTransformInitSchema):
        affine: list[Any]
        deform: list[Any]
        ratio: float = Field(gt=0)
        border_mode: int
        fill: tuple[float, ...]
        fill_mask: float

    def __init__(
        self,
        affine: Sequence[AffineStep] = (),
        deform: Sequence[PairedDistortion] = (),
        ratio: float = 1.0,
        border_mode: int = cv2.BORDER_REFLECT_101,
        fill: tuple[float, ...] = (255.0, 255.0, 255.0),
        fill_mask: float = 255,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.affine = list(affine)
        self.deform = list(deform)
        self.ratio = ratio
        self.border_mode = border_mode
        self.fill = tuple(fill)
        self.fill_mask = fill_mask

    @property
    def targets(self) -> dict[str, Callable[..., Any]]:
        return {
            "image": self.apply,
            "mask": self.apply_to_mask,
            "context": self.apply_to_context,
            "context_mask": self.apply_to_context_mask,
        }

    def set_random_state(self, random_generator: np.random.Generator, py_random: random.Random) -> None:
        """The distortions draw from the same stream as the affine steps."""
        super().set_random_state(random_generator, py_random)
        for distortion in getattr(self, "deform", ()):  # BasicTransform.__init__ seeds before they exist
            distortion.set_random_state(random_generator, py_random)

    def set_random_seed(self, seed: int | None) -> None:
        super().set_random_seed(seed)
        self.set_random_state(self.random_generator, self.py_random)

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        size = params["shape"][:2]
        shapes = {"image": size}
        if data.get("context") is not None:
            shapes["context"] = data["context"].shape[:2]
        scales = {"image": 1.0, "context": self.ratio}
        matrix = compose([step.sample(self.py_random, size) for step in self.affine])
        if matrix is not None:
            matrix = snap_translation(matrix, self.ratio)
        extent = max(math.hypot(*shape) / 2 * scales[view] for view, shape in shapes.items())
        fields = [(d, d.sample_physical(size, extent)) for d in self.deform if self.py_random.random() < d.p]
        warps = {}
        for view, shape in shapes.items():
            maps = _deform_maps(shape, fields, scales[view]) if fields else None
            pixel = None if matrix is None else F.affine_to_pixels(matrix, shape, scales[view])
            warps[view] = (maps, fields[0][0].interpolation if fields else cv2.INTER_LINEAR, pixel)
        return {"warps": warps}

    def apply(self, img: np.ndarray, warps: dict[str, ViewWarp], **params: Any) -> np.ndarray:
        return self._warp(img, warps["image"], label=False)

    def apply_to_mask(self, mask: np.ndarray, warps: dict[str, ViewWarp], **params: Any) -> np.ndarray:
        return self._warp(mask, warps["image"], label=True)

    def apply_to_context(self, img: np.ndarray, warps: dict[str, ViewWarp], **params: Any) -> np.ndarray:
        return self._warp(img, warps["context"], label=False)

    def apply_to_context_mask(
        self, mask: np.ndarray, warps: dict[str, ViewWarp], **params: Any
    ) -> np.ndarray:
        return self._warp(mask, warps["context"], label=True)

    def _warp(self, arr: np.ndarray, warp: ViewWarp, *, label: bool) -> np.ndarray:
        """Images with the configured border; labels nearest, with the ignore index where nothing maps."""
        maps, interpolation, pixel = warp
        border = {"border_mode": self.border_mode, "border_value": self.fill}
        if label:
            border = {"border_mode": cv2.BORDER_CONSTANT, "border_value": float(self.fill_mask)}
        if maps is not None:
            arr = F.remap(arr, *maps, interpolation=cv2.INTER_NEAREST if label else interpolation, **border)
        if pixel is not None:
            bilinear = cv2.INTER_NEAREST if label else cv2.INTER_LINEAR
            arr = F.warp_affine(arr, pixel, interpolation=bilinear, **border)
        return arr

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("affine", "deform", "ratio", "border_mode", "fill", "fill_mask")


def _deform_maps(
    shape: tuple[int, int], fields: list[tuple[PairedDistortion, Any]], scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Identity plus the sum of the active fields' displacements (a sum of fields is again a field)."""
    map_x, map_y = F.identity_maps(shape[0], shape[1])
    dx, dy = np.zeros_like(map_x), np.zeros_like(map_y)
    for distortion, physical in fields:
        distortion.add_displacement(dx, dy, physical, scale)
    return map_x + dx, map_y + dy


class PerView(ImageOnlyTransform):
    """Run ``transforms`` on the target and again, with a new draw, on the context."""

    class InitSchema(BaseTransformInitSchema):
        transforms: list[Any]

    def __init__(self, transforms: Sequence[Any], p: float = 1.0) -> None:
        super().__init__(p=p)
        self.transforms = list(transforms)
        self.compose = A.Compose(self.transforms, p=1.0)

    @property
    def targets(self) -> dict[str, Callable[..., Any]]:
        return {"image": self.apply, "context": self.apply}

    def set_random_state(self, random_generator: np.random.Generator, py_random: random.Random) -> None:
        super().set_random_state(random_generator, py_random)
        if hasattr(self, "compose"):  # BasicTransform.__init__ seeds before it exists
            self.compose.set_random_state(random_generator, py_random)

    def set_random_seed(self, seed: int | None) -> None:
        super().set_random_seed(seed)
        self.set_random_state(self.random_generator, self.py_random)

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return self.compose(image=img)["image"]

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("transforms",)
