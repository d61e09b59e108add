"""The transform names a config may use: name -> (module, class, stage), imported lazily.

The stage fixes where a transform runs in a paired sample, whatever order the presets list it in:

1. ``style``: the StyleGAN slot, on the untouched patch (shared by both views).
2. ``deform``: non-rigid fields in physical units (same physical field on both views).
3. ``affine``: flip / rotate / rescale / crop / shear / shift, one matrix in physical units.
4. ``stain``: targeted HSV, which finds stains by hue, so it runs before any colour change.
5. ``color``: stain appearance and scanner response, one draw shared by both views.
6. ``acquisition``: blur, noise and emboss, drawn independently per view (sensor noise is not shared).
"""

from __future__ import annotations

import importlib
from typing import Any

STAGES = ("style", "deform", "affine", "stain", "color", "acquisition")
SPATIAL_STAGES = ("deform", "affine")

_GEOM = "hookseg.augment.geometry"
_A = "albumentations"

TRANSFORMS: dict[str, tuple[str, str, str]] = {
    "gan": ("hookseg.augment.stain", "StyleBankSlot", "style"),
    "elastic": ("hookseg.augment.deform", "ElasticGrid", "deform"),
    "grid": ("hookseg.augment.deform", "SeparableGrid", "deform"),
    "optical": ("hookseg.augment.lens", "OpticalLens", "deform"),
    "multi_lens": ("hookseg.augment.lens", "MultiLensDistortion", "deform"),
    "crop": (_GEOM, "Crop", "affine"),
    "hflip": (_GEOM, "HorizontalFlip", "affine"),
    "vflip": (_GEOM, "VerticalFlip", "affine"),
    "rotate90": (_GEOM, "Rotate90", "affine"),
    "rotate": (_GEOM, "Rotate", "affine"),
    "rescale": (_GEOM, "Rescale", "affine"),
    "shear": (_GEOM, "Shear", "affine"),
    "shift": (_GEOM, "Shift", "affine"),
    "targeted_hsv": ("hookseg.augment.stain", "TargetedHSV", "stain"),
    "hed_jitter": ("hookseg.augment.stain", "HEDJitter", "color"),
    "color_jitter": (_A, "ColorJitter", "color"),
    "hsv": (_A, "HueSaturationValue", "color"),
    "fancy_pca": (_A, "FancyPCA", "color"),
    "clahe": (_A, "CLAHE", "color"),
    "gamma": (_A, "RandomGamma", "color"),
    "brightness_contrast": (_A, "RandomBrightnessContrast", "color"),
    "gaussian_blur": (_A, "GaussianBlur", "acquisition"),
    "glass_blur": (_A, "GlassBlur", "acquisition"),
    "motion_blur": (_A, "MotionBlur", "acquisition"),
    "gaussian_noise": (_A, "GaussNoise", "acquisition"),
    "emboss": (_A, "Emboss", "acquisition"),
}


def stage_of(name: str) -> str:
    return TRANSFORMS[name][2]


def transform_class(name: str) -> type:
    """The class behind ``name``; an unknown name lists the valid ones."""
    if name not in TRANSFORMS:
        msg = f"unknown transform. Received: name={name!r}. Expected one of: {sorted(TRANSFORMS)}"
        raise KeyError(msg)
    module, attr, _ = TRANSFORMS[name]
    return getattr(importlib.import_module(module), attr)


def _one_line(err: Exception) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("For further information")]
    return "; ".join(lines)


def instantiate(name: str, p: float, params: dict[str, Any]) -> Any:
    """Build one transform; bad or unknown arguments raise ValueError in one line.

    albumentations only *warns* about unknown arguments (``var_limit`` on 2.x ``GaussNoise`` is silently
    ignored), so its transforms are built with ``strict=True``.
    """
    cls = transform_class(name)
    kwargs = dict(params, p=p)
    if not cls.__module__.startswith(_GEOM):
        kwargs["strict"] = True
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise ValueError(_one_line(err)) from err
