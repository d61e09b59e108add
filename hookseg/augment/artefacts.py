"""Bad regions drawn onto a training sample, labelled as the class bad regions club into.

Why: annotators rarely outline folds, bubbles or out-of-focus areas (the demo's ten annotated training
slides hold one of each), so a model learns them from almost nothing and calls them background, while on
held-out slides they are about half of the "other" class. Drawing them is the remedy of quality-control
stress tests for pathology models (Schömig-Markiefka et al., Mod Pathol 2021: synthetic focus blur,
bubbles, folds): the sample's own tissue is defocused, doubled or put under a bubble, and the label map
says so.

One draw per sample, placed in physical units: the region is drawn on the target and, ``ratio`` times
smaller, on the context around the same centre, so both fields of view agree. Sizes are fractions of the
target side, like the geometry's. Kinds:

* ``blur``: an ellipse of the tissue defocused (Gaussian blur, soft edge);
* ``fold``: a band where the section lies twice (optical density raised, as a doubled section absorbs more);
* ``bubble``: a disc seen through mild defocus, ringed by a dark refraction rim.

Labels: blur and fold mark only tissue pixels inside the region (glass under a blur is still glass);
a bubble marks its whole disc. Pixels the annotator left unlabelled (ignore) inside the region are labelled
too: the augmentation knows what it drew.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import cv2
import numpy as np
from albumentations.core.transforms_interface import BaseTransformInitSchema, DualTransform
from pydantic import Field

KINDS = ("blur", "fold", "bubble")
GLASS_LEVEL = 238  # smoothed mean RGB at or above this is glass (or lumen); pale stroma sits at 220-235


class BadRegions(DualTransform):
    """Draw one bad region (a kind from ``kinds``) on both views and label it ``label``.

    Args:
        kinds: the kinds to draw from, uniformly.
        label: the class id bad regions club into (configs/classes.yaml: "other").
        size: region radius as a fraction of the target side, drawn uniformly from this range.
        blur_sigma: defocus sigma in target pixels (the context gets sigma / ratio).
        fold_density: extra optical density in a fold, as a multiple of the tissue's own.
        ratio: context mpp / target mpp.
    """

    class InitSchema(BaseTransformInitSchema):
        kinds: list[str]
        label: int = Field(ge=0, le=254)
        size: tuple[float, float]
        blur_sigma: tuple[float, float]
        fold_density: tuple[float, float]
        ratio: float = Field(gt=0)

    def __init__(
        self,
        kinds: Sequence[str] = KINDS,
        label: int = 2,
        size: tuple[float, float] = (0.15, 0.4),
        blur_sigma: tuple[float, float] = (2.0, 5.0),
        fold_density: tuple[float, float] = (0.6, 1.2),
        ratio: float = 1.0,
        p: float = 0.5,
    ) -> None:
        super().__init__(p=p)
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown or not kinds:
            msg = f"bad_regions.kinds: expected some of {list(KINDS)}. Received: {list(kinds)}"
            raise ValueError(msg)
        self.kinds = list(kinds)
        self.label = label
        self.size = tuple(size)
        self.blur_sigma = tuple(blur_sigma)
        self.fold_density = tuple(fold_density)
        self.ratio = ratio

    @property
    def targets(self) -> dict[str, Callable[..., Any]]:
        return {"image": self.apply, "mask": self.apply_to_mask,
                "context": self.apply_to_context, "context_mask": self.apply_to_context_mask}

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        """The region in target pixels about the target's centre, and the effect strengths."""
        rnd = self.py_random
        side = min(params["shape"][:2])
        radius = rnd.uniform(*self.size) * side
        region = {
            "kind": rnd.choice(self.kinds),
            "offset": (rnd.uniform(-0.3, 0.3) * side, rnd.uniform(-0.3, 0.3) * side),  # (x, y) from centre
            "radius": radius,
            "aspect": rnd.uniform(0.5, 1.0),
            "angle": rnd.uniform(0.0, 180.0),
            "band": rnd.uniform(0.25, 0.5) * radius,  # a fold's half-width
            "sigma": rnd.uniform(*self.blur_sigma),
            "density": rnd.uniform(*self.fold_density),
        }
        views = {"image": (data["image"], 1.0)}
        if data.get("context") is not None:
            views["context"] = (data["context"], self.ratio)
        masks = {view: _region_mask(img.shape[:2], region, scale) for view, (img, scale) in views.items()}
        # tissue is judged before drawing (a fold darkens glass-white a little); a bubble needs none
        tissue = {view: None if region["kind"] == "bubble" else _tissue(img, scale)
                  for view, (img, scale) in views.items()}
        return {"region": region, "masks": masks, "tissue": tissue}

    def apply(self, img: np.ndarray, region: dict[str, Any], masks: dict[str, np.ndarray],
              **params: Any) -> np.ndarray:
        return _draw(img, region, masks["image"], 1.0)

    def apply_to_context(self, img: np.ndarray, region: dict[str, Any], masks: dict[str, np.ndarray],
                         **params: Any) -> np.ndarray:
        return _draw(img, region, masks["context"], self.ratio)

    def apply_to_mask(self, mask: np.ndarray, region: dict[str, Any], masks: dict[str, np.ndarray],
                      tissue: dict[str, np.ndarray | None], **params: Any) -> np.ndarray:
        return self._label(mask, region, masks["image"], tissue["image"])

    def apply_to_context_mask(self, mask: np.ndarray, region: dict[str, Any], masks: dict[str, np.ndarray],
                              tissue: dict[str, np.ndarray | None], **params: Any) -> np.ndarray:
        return self._label(mask, region, masks["context"], tissue["context"])

    def _label(self, mask: np.ndarray, region: dict[str, Any], soft: np.ndarray,
               tissue: np.ndarray | None) -> np.ndarray:
        inside = soft > 0.5
        if tissue is not None:  # blur and fold: tissue only
            inside &= tissue
        out = mask.copy()
        out[inside] = self.label
        return out

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("kinds", "label", "size", "blur_sigma", "fold_density", "ratio")


def _tissue(img: np.ndarray, scale: float) -> np.ndarray:
    """Tissue, not glass: judged on the brightness smoothed over about 8 target pixels (nuclei, fibres and
    the gaps between them are all tissue)."""
    mean = img.mean(axis=-1, dtype=np.float32)
    return cv2.GaussianBlur(mean, (0, 0), max(0.5, 4.0 / scale)) < GLASS_LEVEL


def _region_mask(shape: tuple[int, int], region: dict[str, Any], scale: float) -> np.ndarray:
    """(H, W) float32 in 0..1: the region drawn on a view ``scale`` times coarser than the target."""
    h, w = shape
    cx, cy = _centre(shape, region, scale)
    radius = region["radius"] / scale
    canvas = np.zeros((h, w), np.float32)
    centre = (round(cx), round(cy))
    if region["kind"] == "fold":
        t = math.radians(region["angle"])
        reach = 2 * max(h, w)
        ends = [(round(cx + s * reach * math.cos(t)), round(cy + s * reach * math.sin(t))) for s in (-1, 1)]
        cv2.line(canvas, ends[0], ends[1], 1.0, max(1, round(2 * region["band"] / scale)), cv2.LINE_AA)
    else:
        aspect = 1.0 if region["kind"] == "bubble" else region["aspect"]
        axes = (max(1, round(radius)), max(1, round(radius * aspect)))
        cv2.ellipse(canvas, centre, axes, region["angle"], 0, 360, 1.0, -1, cv2.LINE_AA)
    edge = max(0.5, 0.05 * radius)
    return cv2.GaussianBlur(canvas, (0, 0), edge)


def _draw(img: np.ndarray, region: dict[str, Any], mask: np.ndarray, scale: float) -> np.ndarray:
    kind = region["kind"]
    image = img.astype(np.float32)
    weight = mask[..., None]
    if kind == "blur":
        blurred = cv2.GaussianBlur(image, (0, 0), max(0.3, region["sigma"] / scale))
        out = image * (1 - weight) + blurred * weight
    elif kind == "fold":
        density = -np.log((image + 1.0) / 256.0)  # optical density per channel
        out = 256.0 * np.exp(-density * (1.0 + region["density"] * weight)) - 1.0
    else:  # bubble: mild defocus under the disc, a dark neutral rim where the disc's edge is
        blurred = cv2.GaussianBlur(image, (0, 0), max(0.3, 1.0 / scale))
        out = image * (1 - 0.8 * weight) + blurred * 0.8 * weight
        rim_width = max(1.0, 0.04 * region["radius"] / scale)
        ring = cv2.GaussianBlur(_ring(mask.shape, region, scale, rim_width), (0, 0), 0.5)
        out = out * (1.0 - 0.55 * ring[..., None])
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _ring(shape: tuple[int, int], region: dict[str, Any], scale: float, width: float) -> np.ndarray:
    canvas = np.zeros(shape, np.float32)
    centre = tuple(round(v) for v in _centre(shape, region, scale))
    cv2.circle(canvas, centre, max(1, round(region["radius"] / scale)), 1.0, max(1, round(width)),
               cv2.LINE_AA)
    return canvas


def _centre(shape: tuple[int, int], region: dict[str, Any], scale: float) -> tuple[float, float]:
    """The region's centre (x, y) in a view ``scale`` times coarser than the target, about the same point."""
    h, w = shape
    return w / 2 + region["offset"][0] / scale, h / 2 + region["offset"][1] / scale
