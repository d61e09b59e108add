"""Paired augmentation of a dual field-of-view sample: target + context, each with its label map.

The context has the same centre as the target and ``ratio`` times its microns per pixel. Decisions:

* Geometry is drawn once in physical units (target px from the centre) and evaluated on each view:
  flips, rotations, shear and scale act about each view's centre; a translation of d target px moves the
  context by d / ratio px. The total translation is snapped to whole context pixels (multiples of
  ``ratio`` target px), so the context is never resampled for a sub-pixel shift.
* Non-rigid fields (elastic, grid, optical, multi-lens) are physical too: the context sees the same lenses
  and field at 1/ratio scale. They act before the rigid part (tissue deforms, then the "camera" moves).
* Images: bilinear, border from config (reflect_101 by default). Labels: nearest, outside = ignore (255).
* Colour (style, targeted HSV, colour, scanner) is one draw for both views: a slide has one stain.
  Blur, noise and emboss are drawn per view: sensor noise is not shared between two scans.
* Determinism: each call draws one seed from the caller's ``np.random.Generator`` and drives every
  transform from a single ``random.Random`` + ``np.random.Generator`` made from it.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from hookseg.augment import functional as F
from hookseg.augment.config import AugmentConfig, load_config
from hookseg.augment.deform import PairedDistortion
from hookseg.augment.geometry import compose, snap_translation
from hookseg.augment.presets import Pipeline, build_pipeline
from hookseg.augment.stain import StyleBank

log = logging.getLogger(__name__)

_BORDERS = {
    "reflect_101": cv2.BORDER_REFLECT_101,
    "reflect": cv2.BORDER_REFLECT,
    "replicate": cv2.BORDER_REPLICATE,
    "constant": cv2.BORDER_CONSTANT,
}


def _deform_maps(
    shape: tuple[int, ...], fields: list[tuple[PairedDistortion, Any]], scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Identity plus the sum of the active fields' displacements (a sum of fields is again a field)."""
    map_x, map_y = F.identity_maps(shape[0], shape[1])
    dx, dy = np.zeros_like(map_x), np.zeros_like(map_y)
    for distortion, params in fields:
        distortion.add_displacement(dx, dy, params, scale)
    return map_x + dx, map_y + dy


Arrays = tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None, np.ndarray | None]


def _check_view(name: str, image: np.ndarray, mask: np.ndarray | None) -> None:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        msg = f"`{name}` must be an H x W x 3 uint8 RGB array. Received: {image.shape}, dtype={image.dtype}"
        raise ValueError(msg)
    if mask is not None and mask.dtype != np.uint8:
        msg = f"`{name}_mask` must be a uint8 label map (255 = ignore). Received: dtype={mask.dtype}"
        raise ValueError(msg)
    if mask is not None and mask.shape != image.shape[:2]:
        msg = (
            f"`{name}_mask` must be H x W like `{name}`. Received: {mask.shape} for an image of {image.shape}"
        )
        raise ValueError(msg)


class PairedAugment:
    """Augment (target, target_mask, context, context_mask) consistently; call with ``rng=``.

    Args:
        presets: preset names from the config (a phase's list, e.g. ``["basic", "color_noise"]``).
        config: an ``AugmentConfig``, a YAML path, or None for the repository's ``configs/augment.yaml``.
        ratio: context mpp / target mpp (4 in the paper); 1 when there is no context.
        seed: seeds the generator used when a call passes no ``rng``.
        force: apply every transform with probability 1 (galleries and tests).
    """

    def __init__(
        self,
        presets: Sequence[str],
        config: AugmentConfig | str | Path | None = None,
        *,
        ratio: float = 1.0,
        seed: int | None = None,
        force: bool = False,
    ) -> None:
        if isinstance(presets, str):
            presets = [presets]
        if not isinstance(ratio, int | float) or not math.isfinite(ratio) or ratio <= 0:
            msg = f"`ratio` must be a positive number (context mpp / target mpp). Received: ratio={ratio!r}"
            raise ValueError(msg)
        self.config = config if isinstance(config, AugmentConfig) else load_config(config)
        self.presets = tuple(presets)
        self.ratio = float(ratio)
        self.force = force
        self.pipeline: Pipeline = build_pipeline(self.presets, self.config, force=force)
        self._rng = np.random.default_rng(seed)
        self._image_border = _BORDERS[self.config.image_border]
        self._image_fill = tuple(float(v) for v in self.config.image_fill)
        self._mask_fill = float(self.config.ignore_index)

    @classmethod
    def for_phase(
        cls, phase: str, config: AugmentConfig | str | Path | None = None, **kwargs: object
    ) -> PairedAugment:
        cfg = config if isinstance(config, AugmentConfig) else load_config(config)
        return cls(cfg.phase(phase), cfg, **kwargs)  # type: ignore[arg-type]

    def attach_style_bank(self, bank: StyleBank | None) -> int:
        return self.pipeline.attach_style_bank(bank)

    def __repr__(self) -> str:
        names = list(self.pipeline.names)
        return f"PairedAugment(presets={list(self.presets)}, ratio={self.ratio}, transforms={names})"

    def __call__(
        self,
        target: np.ndarray,
        target_mask: np.ndarray | None = None,
        context: np.ndarray | None = None,
        context_mask: np.ndarray | None = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> Arrays:
        """Return the four arrays augmented (same shapes and dtypes); None or empty context passes through."""
        _check_view("target", target, target_mask)
        has_context = context is not None and context.size > 0
        if has_context:
            _check_view("context", context, context_mask)
        seed = int((self._rng if rng is None else rng).integers(2**62))
        py_random = random.Random(seed)
        self.pipeline.set_random_state(np.random.default_rng(seed), py_random)

        views = [(target, target_mask, 1.0)]
        if has_context:
            views.append((context, context_mask, self.ratio))
        views = self._spatial(views, py_random)
        target, target_mask = views[0]
        if not has_context:
            return self._photometric(target, None)[0], target_mask, context, context_mask
        context, context_mask = views[1]
        target, context = self._photometric(target, context)
        return target, target_mask, context, context_mask

    # --- stages -----------------------------------------------------------------------------------------

    def _spatial(
        self, views: list[tuple[np.ndarray, np.ndarray | None, float]], py_random: random.Random
    ) -> list[tuple[np.ndarray, np.ndarray | None]]:
        size = views[0][0].shape[:2]
        matrix = compose([c.sample(py_random, size) for c in self.pipeline.affine])
        if matrix is not None:
            matrix = snap_translation(matrix, self.ratio)
        extent = max(math.hypot(*img.shape[:2]) / 2 * scale for img, _, scale in views)
        fields = [
            (d, d.sample_physical(size, extent)) for d in self.pipeline.deform if py_random.random() < d.p
        ]
        out = []
        for image, mask, scale in views:
            if fields:
                maps = _deform_maps(image.shape[:2], fields, scale)
                image, mask = self._resample(image, mask, F.remap, maps, fields[0][0].interpolation)
            if matrix is not None:
                pixel = (F.affine_to_pixels(matrix, image.shape[:2], scale),)
                image, mask = self._resample(image, mask, F.warp_affine, pixel, cv2.INTER_LINEAR)
            out.append((image, mask))
        return out

    def _resample(
        self,
        image: np.ndarray,
        mask: np.ndarray | None,
        warp: Callable[..., np.ndarray],
        args: tuple[np.ndarray, ...],
        interpolation: int,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Image with the configured border; labels nearest, with the ignore index where nothing maps."""
        image = warp(
            image,
            *args,
            interpolation=interpolation,
            border_mode=self._image_border,
            border_value=self._image_fill,
        )
        if mask is not None:
            mask = warp(
                mask,
                *args,
                interpolation=cv2.INTER_NEAREST,
                border_mode=cv2.BORDER_CONSTANT,
                border_value=self._mask_fill,
            )
        return image, mask

    def _photometric(
        self, target: np.ndarray, context: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        shared, acquisition = self.pipeline.shared, self.pipeline.acquisition
        if shared is not None:
            if context is None:
                target = shared(image=target)["image"]
            else:
                result = shared(image=target, context=context)
                target, context = result["image"], result["context"]
        if acquisition is not None:
            target = acquisition(image=target)["image"]
            if context is not None:
                context = acquisition(image=context)["image"]
        return target, context
