"""Stain-aware colour transforms: targeted HSV (paper Table 6), HED jitter, and the StyleGAN slot.

All three are albumentations ``ImageOnlyTransform``s drawing in ``get_params()`` from ``self.py_random``, so
inside one ``Compose(additional_targets={"context": "image"})`` the target and the context get the same draw:
the slide has one stain, so both fields of view should share one stain appearance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from albumentations.core.transforms_interface import BaseTransformInitSchema, ImageOnlyTransform
from pydantic import Field

from hookseg.augment import functional as F

# Paper Table 6: saturation / value shift ranges (HSV on 0-255) for brown (DAB) and blue (haematoxylin).
TABLE6 = {
    "brown": {"saturation": (-30.0, 81.0), "value": (-80.0, 81.0)},
    "blue": {"saturation": (-40.0, 61.0), "value": (-60.0, 61.0)},
}


class TargetedHSV(ImageOnlyTransform):
    """Shift saturation and value of stained pixels only; background and unstained stroma stay bit-identical.

    Stained pixels are found by hue (degrees, 0-360; lo > hi wraps through red), a minimum saturation
    (0-255) and a darkest channel below ``background_min`` (near-white glass never counts). One
    (saturation, value) shift per stain is drawn uniformly from its range.

    Args:
        brown_hue, blue_hue: hue range of DAB and of haematoxylin, degrees.
        brown_min_saturation, blue_min_saturation: weaker pixels count as unstained.
        background_min: pixels whose R, G and B are all >= this are background.
        brown_saturation, brown_value, blue_saturation, blue_value: shift ranges (Table 6 by default).
    """

    class InitSchema(BaseTransformInitSchema):
        brown_hue: tuple[float, float]
        blue_hue: tuple[float, float]
        brown_min_saturation: int = Field(ge=0, le=255)
        blue_min_saturation: int = Field(ge=0, le=255)
        background_min: int = Field(ge=0, le=256)
        brown_saturation: tuple[float, float]
        brown_value: tuple[float, float]
        blue_saturation: tuple[float, float]
        blue_value: tuple[float, float]

    def __init__(
        self,
        brown_hue: tuple[float, float] = (350.0, 50.0),
        blue_hue: tuple[float, float] = (180.0, 280.0),
        brown_min_saturation: int = 25,
        blue_min_saturation: int = 30,
        background_min: int = 200,
        brown_saturation: tuple[float, float] = TABLE6["brown"]["saturation"],
        brown_value: tuple[float, float] = TABLE6["brown"]["value"],
        blue_saturation: tuple[float, float] = TABLE6["blue"]["saturation"],
        blue_value: tuple[float, float] = TABLE6["blue"]["value"],
        p: float = 0.5,
    ) -> None:
        super().__init__(p=p)
        for name, value in (("brown_hue", brown_hue), ("blue_hue", blue_hue)):
            if not all(0 <= v <= 360 for v in value):
                msg = f"`{name}` must be degrees in [0, 360]. Received: {name}={list(value)!r}"
                raise ValueError(msg)
        ranges = {
            "brown_saturation": brown_saturation,
            "brown_value": brown_value,
            "blue_saturation": blue_saturation,
            "blue_value": blue_value,
        }
        for name, (lo, hi) in ranges.items():
            if not -255 <= lo <= hi <= 255:
                msg = f"`{name}` must be [min, max], -255 <= min <= max <= 255. Received: {name}={[lo, hi]!r}"
                raise ValueError(msg)
        self.brown_hue = brown_hue
        self.blue_hue = blue_hue
        self.brown_min_saturation = brown_min_saturation
        self.blue_min_saturation = blue_min_saturation
        self.background_min = background_min
        self.brown_saturation = brown_saturation
        self.brown_value = brown_value
        self.blue_saturation = blue_saturation
        self.blue_value = blue_value

    def stain_masks(self, img: np.ndarray, hsv: np.ndarray | None = None) -> list[np.ndarray]:
        """[brown, blue] uint8 masks (255 = may change) of the pixels this transform may change."""
        if hsv is None:
            hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
        return F.stain_masks(
            img,
            hsv,
            (self.brown_hue, self.blue_hue),
            (self.brown_min_saturation, self.blue_min_saturation),
            self.background_min,
        )

    def get_params(self) -> dict[str, Any]:
        uniform = self.py_random.uniform
        return {
            "brown_shift": (uniform(*self.brown_saturation), uniform(*self.brown_value)),
            "blue_shift": (uniform(*self.blue_saturation), uniform(*self.blue_value)),
        }

    def apply(
        self,
        img: np.ndarray,
        brown_shift: tuple[float, float],
        blue_shift: tuple[float, float],
        **params: Any,
    ) -> np.ndarray:
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            msg = (
                f"TargetedHSV expects an H x W x 3 uint8 RGB image. Received: {img.shape}, dtype={img.dtype}"
            )
            raise TypeError(msg)
        hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
        return F.targeted_hsv(img, hsv, self.stain_masks(img, hsv), (brown_shift, blue_shift))

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return (
            "brown_hue",
            "blue_hue",
            "brown_min_saturation",
            "blue_min_saturation",
            "background_min",
            "brown_saturation",
            "brown_value",
            "blue_saturation",
            "blue_value",
        )


class HEDJitter(ImageOnlyTransform):
    """Perturb haematoxylin, eosin and DAB densities: hed * U(1 - alpha, 1 + alpha) + U(-beta, beta).

    The DAB-aware version of Tellez et al. (2018) HED augmentation; densities are in skimage ``rgb2hed``
    units, where a strong DAB stain is ~0.1-0.2. One draw per channel, shared by both fields of view.
    """

    class InitSchema(BaseTransformInitSchema):
        alpha: float = Field(ge=0, le=1)
        beta: float = Field(ge=0, le=1)

    def __init__(self, alpha: float = 0.05, beta: float = 0.01, p: float = 0.5) -> None:
        super().__init__(p=p)
        self.alpha = alpha
        self.beta = beta

    def get_params(self) -> dict[str, Any]:
        uniform = self.py_random.uniform
        return {
            "scale": tuple(uniform(1 - self.alpha, 1 + self.alpha) for _ in range(3)),
            "offset": tuple(uniform(-self.beta, self.beta) for _ in range(3)),
        }

    def apply(
        self, img: np.ndarray, scale: tuple[float, ...], offset: tuple[float, ...], **params: Any
    ) -> np.ndarray:
        return F.hed_jitter(img, scale, offset)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("alpha", "beta")


StyleBank = Callable[[np.ndarray, int], np.ndarray]


class StyleBankSlot(ImageOnlyTransform):
    """The ``gan`` preset: with probability p, restyle the patch through an attached style bank.

    A no-op until ``attach_bank`` is called (the stylegan_aug module fills it). The bank is called as
    ``bank(image, style_seed) -> image``; ``style_seed`` is drawn once per sample, so the target and the
    context get the same style. The paper infuses styled patches with p = 0.3.
    """

    class InitSchema(BaseTransformInitSchema):
        pass

    def __init__(self, p: float = 0.3) -> None:
        super().__init__(p=p)
        self.bank: StyleBank | None = None

    def attach_bank(self, bank: StyleBank | None) -> None:
        self.bank = bank

    def get_params(self) -> dict[str, Any]:
        return {"style_seed": self.py_random.randrange(2**31)}

    def apply(self, img: np.ndarray, style_seed: int, **params: Any) -> np.ndarray:
        if self.bank is None:
            return img
        return self.bank(img, style_seed)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ()
