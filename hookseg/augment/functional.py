"""Pure NumPy/OpenCV kernels behind the hookseg transforms (the albumentations ``functional.py`` split).

Every function here is deterministic: random parameters are drawn by the transform classes and passed in.
Geometric kernels work in *physical* units, measured in target pixels from the centre of the view, so that
one set of parameters can be evaluated on the target and on the ``ratio`` times coarser context view.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import cv2
import numpy as np

# skimage.color.colorconv.rgb_from_hed (Ruifrok & Johnston), copied so that the hot path needs no skimage.
RGB_FROM_HED = np.array([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]], dtype=np.float64)
HED_FROM_RGB = np.linalg.inv(RGB_FROM_HED)
# skimage's rgb2hed divides optical density by -ln(1e-6); using the same unit keeps HED numbers comparable.
_OD_UNIT = -np.log(1e-6)
_OD_LUT = (-np.log(np.maximum(np.arange(256), 1) / 255.0) / _OD_UNIT).astype(np.float32)
# cv2.transform matrices (dst = M @ src per pixel), C-contiguous float32: F-ordered ones are ~10x slower.
_TO_HED = np.ascontiguousarray(HED_FROM_RGB.T, dtype=np.float32)
_TO_NEG_LOG_RGB = np.ascontiguousarray(RGB_FROM_HED.T * -_OD_UNIT, dtype=np.float32)


# --- colour --------------------------------------------------------------------------------------------


def _hue_bounds(degrees: Sequence[float]) -> list[tuple[int, int]]:
    """Degree range (lo > hi wraps through 0) -> inclusive OpenCV hue intervals (units of 2 degrees)."""
    lo, hi = (round(float(d) / 2.0) for d in degrees)
    lo, hi = min(lo, 179), min(hi, 179)
    return [(lo, hi)] if lo <= hi else [(lo, 179), (0, hi)]


def stain_masks(
    img: np.ndarray,
    hsv: np.ndarray,
    hue_ranges: Sequence[Sequence[float]],
    min_saturation: Sequence[int],
    background_min: int,
) -> list[np.ndarray]:
    """One uint8 mask (255 = selected) per stain: hue in range, saturated enough, not near-white.

    A pixel whose R, G and B are all >= ``background_min`` is glass or lumen whatever its hue, so it is
    never selected; nor is weakly saturated (unstained) stroma. The first stain that claims a pixel keeps it.
    """
    bg = min(int(background_min), 256)
    free = cv2.bitwise_not(cv2.inRange(img, (bg, bg, bg), (255, 255, 255)))
    masks = []
    for degrees, min_sat in zip(hue_ranges, min_saturation, strict=True):
        mask = np.zeros(img.shape[:2], np.uint8)
        for lo, hi in _hue_bounds(degrees):
            mask |= cv2.inRange(hsv, (lo, int(min_sat), 0), (hi, 255, 255))
        mask = cv2.bitwise_and(mask, free)
        free = cv2.bitwise_and(free, cv2.bitwise_not(mask))
        masks.append(mask)
    return masks


def _shift_lut(shift: float) -> np.ndarray:
    return np.clip(np.arange(256, dtype=np.float32) + shift, 0, 255).round().astype(np.uint8)


def targeted_hsv(
    img: np.ndarray,
    hsv: np.ndarray,
    masks: Sequence[np.ndarray],
    shifts: Sequence[tuple[float, float]],
) -> np.ndarray:
    """Add (saturation, value) shifts inside each uint8 mask; every other pixel is returned bit-identical.

    The HSV -> RGB round trip is lossy, so its result is copied back only where a mask is set.
    """
    hue, sat, val = cv2.split(hsv)
    new_sat, new_val = sat.copy(), val.copy()
    any_mask = np.zeros(img.shape[:2], np.uint8)
    for mask, (sat_shift, val_shift) in zip(masks, shifts, strict=True):
        if sat_shift == 0 and val_shift == 0:
            continue
        cv2.copyTo(cv2.LUT(sat, _shift_lut(sat_shift)), mask, new_sat)
        cv2.copyTo(cv2.LUT(val, _shift_lut(val_shift)), mask, new_val)
        any_mask |= mask
    out = img.copy()
    if any_mask.any():
        shifted = cv2.cvtColor(cv2.merge([hue, new_sat, new_val]), cv2.COLOR_HSV2RGB)
        cv2.copyTo(shifted, any_mask, out)
    return out


def rgb_to_hed(img: np.ndarray) -> np.ndarray:
    """uint8 RGB -> float32 H, E, D densities in skimage ``rgb2hed`` units (no clip at 0; a 0 reads as 1)."""
    return cv2.transform(cv2.LUT(img, _OD_LUT), _TO_HED)


def hed_to_rgb(hed: np.ndarray) -> np.ndarray:
    log_rgb = cv2.transform(hed.astype(np.float32, copy=False), _TO_NEG_LOG_RGB)
    return cv2.convertScaleAbs(cv2.exp(log_rgb), alpha=255.0)  # rounds and saturates to 0-255


def hed_jitter(img: np.ndarray, alpha: Sequence[float], beta: Sequence[float]) -> np.ndarray:
    """Scale and offset each stain density: hed' = hed * alpha + beta (Tellez et al. 2018), back to RGB.

    With alpha = 1 and beta = 0 the round trip reproduces the input to within one grey level.
    """
    hed = rgb_to_hed(img)
    matrix = np.hstack([np.diag(np.asarray(alpha, np.float32)), np.asarray(beta, np.float32)[:, None]])
    return hed_to_rgb(cv2.transform(hed, matrix))


# --- geometry ------------------------------------------------------------------------------------------


def view_center(shape: Sequence[int]) -> tuple[float, float]:
    """(x, y) of the centre of an H x W view in pixel-centre coordinates; both views rotate about it."""
    return (shape[1] - 1) / 2.0, (shape[0] - 1) / 2.0


@lru_cache(maxsize=16)
def _offsets(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-column x and per-row y offsets from the view centre (cached; never modified)."""
    cx, cy = view_center((height, width))
    ox = np.arange(width, dtype=np.float32) - np.float32(cx)
    oy = np.arange(height, dtype=np.float32) - np.float32(cy)
    ox.setflags(write=False)
    oy.setflags(write=False)
    return ox, oy


def identity_maps(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Fresh map_x, map_y for cv2.remap that sample every pixel from itself."""
    map_x = np.empty((height, width), np.float32)
    map_y = np.empty((height, width), np.float32)
    map_x[:] = np.arange(width, dtype=np.float32)[None, :]
    map_y[:] = np.arange(height, dtype=np.float32)[:, None]
    return map_x, map_y


def add_lens_displacement(
    dx: np.ndarray,
    dy: np.ndarray,
    lenses: Sequence[tuple[float, float, float, float]],
    scale: float,
) -> None:
    """Add multi-lens displacements in place (Algorithm 1 of the DRU-Net paper, arXiv 2406.14287).

    Each lens is (x, y, radius, strength) in target pixels from the view centre. An output pixel at distance
    r < R from the lens centre samples ``centre + offset * (1 - strength * (1 - r / R))``. Work is limited to
    each lens's bounding box; ``scale`` is target pixels per pixel of this view (``ratio`` for the context).
    """
    height, width = dx.shape
    cx, cy = view_center((height, width))
    for lx, ly, radius, strength in lenses:
        x0, y0, rad = cx + lx / scale, cy + ly / scale, radius / scale
        c0, c1 = max(int(np.floor(x0 - rad)), 0), min(int(np.ceil(x0 + rad)) + 1, width)
        r0, r1 = max(int(np.floor(y0 - rad)), 0), min(int(np.ceil(y0 + rad)) + 1, height)
        if c0 >= c1 or r0 >= r1 or rad <= 0:
            continue
        ox = np.arange(c0, c1, dtype=np.float32)[None, :] - np.float32(x0)
        oy = np.arange(r0, r1, dtype=np.float32)[:, None] - np.float32(y0)
        falloff = np.maximum(1.0 - np.sqrt(ox * ox + oy * oy) / np.float32(rad), 0.0)
        pull = np.float32(-strength) * falloff
        dx[r0:r1, c0:c1] += ox * pull
        dy[r0:r1, c0:c1] += oy * pull


def add_separable_displacement(
    dx: np.ndarray,
    dy: np.ndarray,
    knots: np.ndarray,
    x_values: np.ndarray,
    y_values: np.ndarray,
    scale: float,
) -> None:
    """Add a grid distortion: x displacement depends on x only, y on y only, piecewise linear between knots.

    ``knots`` are physical positions (target px from the centre); values are displacements in target px.
    """
    ox, oy = _offsets(*dx.shape)
    dx += (np.interp(ox * scale, knots, x_values) / scale).astype(np.float32)[None, :]
    dy += (np.interp(oy * scale, knots, y_values) / scale).astype(np.float32)[:, None]


@lru_cache(maxsize=8)
def _field_query(height: int, width: int, scale: float, spacing: float, half: int) -> tuple[np.ndarray, ...]:
    ox, oy = _offsets(height, width)
    qx = np.empty((height, width), np.float32)
    qy = np.empty((height, width), np.float32)
    qx[:] = (ox * np.float32(scale / spacing) + np.float32(half))[None, :]
    qy[:] = (oy * np.float32(scale / spacing) + np.float32(half))[:, None]
    qx.setflags(write=False)
    qy.setflags(write=False)
    return qx, qy


def add_field_displacement(
    dx: np.ndarray,
    dy: np.ndarray,
    field: np.ndarray,
    spacing: float,
    scale: float,
) -> None:
    """Add an elastic field given on a coarse square grid of control points (bicubic between them).

    ``field`` is (n, n, 2) displacements in target px, knot ``half = n // 2`` sits at the view centre and
    knots are ``spacing`` target px apart: the U-Net paper's coarse-grid elastic deformation, evaluated in
    physical units so both views deform alike.
    """
    qx, qy = _field_query(*dx.shape, float(scale), float(spacing), field.shape[0] // 2)
    sampled = cv2.remap(field, qx, qy, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    dx += sampled[..., 0] / np.float32(scale)
    dy += sampled[..., 1] / np.float32(scale)


def affine_to_pixels(matrix: np.ndarray, shape: Sequence[int], scale: float) -> np.ndarray:
    """A 3x3 forward map on physical offsets (target px) -> the 2x3 pixel matrix cv2.warpAffine wants.

    The linear part is scale free; the translation is divided by ``scale`` (target px per view px).
    """
    cx, cy = view_center(shape)
    linear = matrix[:2, :2]
    shift = matrix[:2, 2] / scale
    center = np.array([cx, cy])
    return np.hstack([linear, (center + shift - linear @ center)[:, None]]).astype(np.float64)


def permute_exact(arr: np.ndarray, linear: np.ndarray) -> np.ndarray | None:
    """Flips and quarter turns about the centre as array views (no resampling); None for any other map.

    ``linear`` maps offsets (x, y) -> (a x + b y, c x + d y); a quarter turn needs a square view.
    """
    rounded = np.rint(linear)
    if not np.allclose(linear, rounded, atol=1e-9) or abs(abs(np.linalg.det(rounded)) - 1) > 1e-9:
        return None
    (a, b), (c, d) = rounded
    if b == 0 and c == 0:
        out = arr[:: int(d), :: int(a)]
    elif arr.shape[0] == arr.shape[1]:
        # out[y', x'] = src[y = b x', x = c y'] = src.T[c y', b x']
        out = np.swapaxes(arr, 0, 1)[:: int(c), :: int(b)]
    else:
        return None
    return np.ascontiguousarray(out)


def warp_affine(
    arr: np.ndarray,
    pixel_matrix: np.ndarray,
    *,
    interpolation: int,
    border_mode: int,
    border_value: float | tuple[float, ...],
) -> np.ndarray:
    """cv2.warpAffine, short-cut to an exact array permutation for pure flips / quarter turns."""
    height, width = arr.shape[:2]
    cx, cy = view_center((height, width))
    linear = pixel_matrix[:, :2]
    if np.allclose(pixel_matrix[:, 2], np.array([cx, cy]) - linear @ np.array([cx, cy]), atol=1e-9):
        exact = permute_exact(arr, linear)
        if exact is not None:
            return exact
    out = cv2.warpAffine(
        arr,
        pixel_matrix,
        (width, height),
        flags=interpolation,
        borderMode=border_mode,
        borderValue=border_value,
    )
    return out.reshape(arr.shape)


def remap(
    arr: np.ndarray,
    map_x: np.ndarray,
    map_y: np.ndarray,
    *,
    interpolation: int,
    border_mode: int,
    border_value: float | tuple[float, ...],
) -> np.ndarray:
    out = cv2.remap(arr, map_x, map_y, interpolation, borderMode=border_mode, borderValue=border_value)
    return out.reshape(arr.shape)
