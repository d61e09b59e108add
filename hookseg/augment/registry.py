"""The transform names a config may use: name -> (module, class, stage), imported lazily.

The stage fixes where a transform runs in a paired sample, whatever order the presets list it in:

1. ``style``: the StyleGAN slot, on the untouched patch (shared by both views).
2. ``deform``: non-rigid fields in physical units (same physical field on both views).
3. ``affine``: flip / rotate / rescale / crop / shear / shift: functions returning 3x3 physical matrices,
   multiplied into one warp by ``dual_fov.PairedGeometry`` (as ``geometry.AffineStep``s).
4. ``artefact``: bad regions drawn on both views and written into both label maps (``artefacts.py``).
5. ``stain``: targeted HSV, which finds stains by hue, so it runs before any colour change.
6. ``color``: stain appearance and scanner response, one draw shared by both views.
7. ``acquisition``: blur, noise and emboss, drawn independently per view (sensor noise is not shared).
"""

from __future__ import annotations

import importlib
from typing import Any

from hookseg.augment.geometry import AffineStep

STAGES = ("style", "deform", "affine", "artefact", "stain", "color", "acquisition")
SPATIAL_STAGES = ("deform", "affine")

_GEOM = "hookseg.augment.geometry"
_A = "albumentations"

TRANSFORMS: dict[str, tuple[str, str, str]] = {
    "gan": ("hookseg.augment.stain", "StyleBankSlot", "style"),
    "elastic": ("hookseg.augment.deform", "ElasticGrid", "deform"),
    "grid": ("hookseg.augment.deform", "SeparableGrid", "deform"),
    "optical": ("hookseg.augment.lens", "OpticalLens", "deform"),
    "multi_lens": ("hookseg.augment.lens", "MultiLensDistortion", "deform"),
    "crop": (_GEOM, "crop", "affine"),
    "hflip": (_GEOM, "hflip", "affine"),
    "vflip": (_GEOM, "vflip", "affine"),
    "rotate90": (_GEOM, "rotate90", "affine"),
    "rotate": (_GEOM, "rotate", "affine"),
    "rescale": (_GEOM, "rescale", "affine"),
    "shear": (_GEOM, "shear", "affine"),
    "shift": (_GEOM, "shift", "affine"),
    "bad_regions": ("hookseg.augment.artefacts", "BadRegions", "artefact"),
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


def transform_class(name: str) -> Any:
    """The class (the draw function for the affine stage) behind ``name``; an unknown name lists all."""
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
    """Build one transform (for the affine stage an ``AffineStep``); bad arguments: a one-line ValueError.

    albumentations only *warns* about unknown arguments (``var_limit`` on 2.x ``GaussNoise`` is silently
    ignored), so its transforms are built with ``strict=True``.
    """
    cls = transform_class(name)
    try:
        if stage_of(name) == "affine":
            return AffineStep(name, p, cls, dict(params))
        return cls(**params, p=p, strict=True)
    except (TypeError, ValueError) as err:
        raise ValueError(_one_line(err)) from err
