"""Bad regions: tissue folds, air bubbles, out-of-focus areas, pen marks and dust.

Each is drawn on the layout grid as a strength map (uint8, soft edges) packed into one 4-channel ``effects``
map that the renderer samples like the tissue map: channel 0 fold (tissue doubled: concentrations up to x2),
1 neutral absorber level (bubble rims, dust), 2 defocus weight, 3 pen ink density. Where a strength passes
one half the ground truth takes the bad region's label (folds and blur only over tissue), by the priority
order of ``Artefact``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from hookseg.synth.labels import Artefact, Tissue
from hookseg.synth.layout import Layout
from hookseg.synth.noise import coarse_field

ARTEFACT_KINDS = ("fold", "bubble", "blur", "pen", "dust")
PEN_COLORS = {"blue": (0.25, 0.42, 0.9), "green": (0.3, 0.68, 0.42), "black": (0.22, 0.22, 0.28)}
FOLD, ABSORB, DEFOCUS, PEN = range(4)
X_LEVEL = 32  # effects[..., ABSORB] / X_LEVEL = neutral absorber level (0..7)
FOLD_EXTRA = 1.2  # a fold doubles the section: concentrations x (1 + 1.2) in its middle


def draw_artefacts(rng: np.random.Generator, layout: Layout, kinds: tuple[str, ...]) -> dict[str, object]:
    """Draw the requested bad regions into ``layout`` (its ``artefact`` codes and ``maps['effects']``)."""
    tissue = layout.tissue > Tissue.GLASS
    h, w = tissue.shape
    side = min(h, w) * layout.grid_mpp
    effects = np.zeros((h, w, 4), np.uint8)
    info: dict[str, object] = {"kinds": list(kinds)}
    g = layout.grid_mpp
    for kind in kinds:
        if kind == "fold":
            width = min(rng.uniform(70, 220), 0.15 * side)
            band = np.zeros((h, w), np.uint8)
            cv2.polylines(band, [_curve(rng, tissue, g, min(0.8, rng.uniform(0.35, 0.8)))], False, 255,
                          thickness=max(2, round(width / g)), lineType=cv2.LINE_AA)
            _soften(band, max(1.0, width / (8 * g)))
            np.maximum(effects[..., FOLD], band, out=effects[..., FOLD])
        elif kind == "bubble":
            for _ in range(int(rng.integers(1, 3))):
                r = min(rng.uniform(80, 320), 0.2 * side)
                cx, cy = _spot(rng, tissue, g)
                rim = max(2, round(min(rng.uniform(4, 9), r / 8) / g))
                ring = np.zeros((h, w), np.uint8)
                cv2.circle(ring, (round(cx / g), round(cy / g)), round(r / g), 4 * X_LEVEL, rim, cv2.LINE_AA)
                _soften(ring, 1.0)
                np.maximum(effects[..., ABSORB], ring, out=effects[..., ABSORB])
                disc = np.zeros((h, w), np.uint8)
                cv2.circle(disc, (round(cx / g), round(cy / g)), round(r / g), 90, -1, cv2.LINE_AA)
                np.maximum(effects[..., DEFOCUS], disc, out=effects[..., DEFOCUS])  # mild defocus under it
                _mark(layout, disc > 45, Artefact.BUBBLE)
        elif kind == "blur":
            weight = np.zeros((h, w), np.uint8)
            cx, cy = _spot(rng, tissue, g)
            axes = (round(min(rng.uniform(200, 550), 0.3 * side) / g),
                    round(min(rng.uniform(150, 450), 0.25 * side) / g))
            cv2.ellipse(weight, (round(cx / g), round(cy / g)), axes, rng.uniform(0, 180), 0, 360, 255, -1)
            _soften(weight, max(1.0, 25 / g))
            np.maximum(effects[..., DEFOCUS], weight, out=effects[..., DEFOCUS])
        elif kind == "pen":
            width = min(rng.uniform(50, 160), 0.12 * side)
            stroke = np.zeros((h, w), np.uint8)
            path = _curve(rng, tissue, g, rng.uniform(0.25, 0.6), near_edge=True)
            cv2.polylines(stroke, [path], False, 255,
                          thickness=max(2, round(width / g)), lineType=cv2.LINE_AA)
            r0, r1, c0, c1 = _bbox(stroke, 0)
            streaks = coarse_field(rng, (r1 - r0, c1 - c0), sigma=max(2.0, width / 6), step=4)
            density = stroke[r0:r1, c0:c1] * np.clip(0.8 + 0.12 * streaks, 0.5, 1.0)
            view = effects[r0:r1, c0:c1, PEN]
            np.maximum(view, density.astype(np.uint8), out=view)
            info["pen_color"] = str(rng.choice(list(PEN_COLORS)))
        elif kind == "dust":
            dust = np.zeros((h, w), np.uint8)
            for _ in range(int(rng.integers(4, 14))):
                cx, cy = rng.uniform(0, w * g), rng.uniform(0, h * g)
                if rng.random() < 0.3:  # a fibre
                    t = rng.uniform(0, math.pi)
                    length = min(rng.uniform(40, 180), 0.3 * side)
                    s = np.linspace(-0.5, 0.5, 12)
                    pts = np.stack([cx + length * s * np.cos(t + 0.4 * s * s),
                                    cy + length * s * math.sin(t)], 1) / g
                    cv2.polylines(dust, [np.round(pts).astype(np.int32)], False, 7 * X_LEVEL,
                                  max(2, round(rng.uniform(2, 4) / g)), cv2.LINE_AA)
                else:
                    r = rng.uniform(3, 18)
                    pts = _blob(rng, cx, cy, r) / g
                    cv2.fillPoly(dust, [np.round(pts).astype(np.int32)], 7 * X_LEVEL, cv2.LINE_AA)
            np.maximum(effects[..., ABSORB], dust, out=effects[..., ABSORB])
            _mark(layout, dust > 3 * X_LEVEL, Artefact.DUST)
        else:
            msg = f"Unknown bad region kind. Received: {kind!r}. Expected some of {list(ARTEFACT_KINDS)}"
            raise ValueError(msg)
    defocus = effects[..., DEFOCUS] > 127
    _mark(layout, defocus & tissue, Artefact.BLUR)
    _mark(layout, (effects[..., FOLD] > 127) & tissue, Artefact.FOLD)
    _mark(layout, effects[..., PEN] > 127, Artefact.PEN)
    layout.maps["effects"] = effects
    return info


def _bbox(canvas: np.ndarray, pad: int) -> tuple[int, int, int, int]:
    """Rows and columns holding non-zero pixels (found on a coarse view), widened by ``pad``."""
    step = 8
    rows, cols = np.nonzero(canvas[::step, ::step])
    h, w = canvas.shape
    if rows.size == 0:
        return 0, 0, 0, 0
    return (max(0, rows.min() * step - step - pad), min(h, rows.max() * step + 2 * step + pad),
            max(0, cols.min() * step - step - pad), min(w, cols.max() * step + 2 * step + pad))


def _soften(canvas: np.ndarray, sigma: float) -> None:
    """Gaussian blur in place, only around what was drawn (full-slide blurs dominated the set-up time)."""
    r0, r1, c0, c1 = _bbox(canvas, int(3 * sigma) + 2)
    if r1 > r0 and c1 > c0:
        canvas[r0:r1, c0:c1] = cv2.GaussianBlur(canvas[r0:r1, c0:c1], (0, 0), sigma)


def _mark(layout: Layout, where: np.ndarray, code: Artefact) -> None:
    """Set the ground-truth bad-region code where ``where``, keeping higher-priority codes."""
    np.maximum(layout.artefact, np.where(where, np.uint8(code), np.uint8(0)), out=layout.artefact)


def _spot(rng: np.random.Generator, tissue: np.ndarray, g: float) -> tuple[float, float]:
    """A random point on tissue (um), or anywhere if there is none."""
    ys, xs = np.nonzero(tissue[::8, ::8])
    if ys.size == 0:
        return rng.uniform(0, tissue.shape[1] * g), rng.uniform(0, tissue.shape[0] * g)
    i = int(rng.integers(ys.size))
    return (xs[i] * 8 + 4) * g, (ys[i] * 8 + 4) * g


def _curve(rng: np.random.Generator, tissue: np.ndarray, g: float, span: float,
           near_edge: bool = False) -> np.ndarray:
    """A gently bending polyline (grid pixels), ``span`` of the slide long, through tissue or its edge."""
    h, w = tissue.shape
    if near_edge:
        small = np.ascontiguousarray(tissue[::8, ::8]).astype(np.uint8)
        edge = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
        ys, xs = np.nonzero(edge)
        if ys.size:
            i = int(rng.integers(ys.size))
            cx, cy = xs[i] * 8.0, ys[i] * 8.0
        else:
            cx, cy = (v / g for v in _spot(rng, tissue, g))
    else:
        cx, cy = (v / g for v in _spot(rng, tissue, g))
    length = span * min(h, w)
    t0, bend = rng.uniform(0, math.pi), rng.normal(0, 0.6)
    s = np.linspace(-0.5, 0.5, 40)
    angle = t0 + bend * s
    x = cx + np.cumsum(np.cos(angle)) * length / s.size
    y = cy + np.cumsum(np.sin(angle)) * length / s.size
    x, y = x - (x[s.size // 2] - cx), y - (y[s.size // 2] - cy)
    return np.round(np.stack([x, y], axis=1)).astype(np.int32)


def _blob(rng: np.random.Generator, cx: float, cy: float, r: float) -> np.ndarray:
    theta = np.linspace(0, 2 * math.pi, 24, endpoint=False)
    radius = r * (1 + 0.35 * rng.standard_normal(24).clip(-1.5, 1.5))
    radius = np.convolve(np.r_[radius[-2:], radius, radius[:2]], np.ones(5) / 5, mode="valid")
    return np.stack([cx + radius * np.cos(theta), cy + radius * np.sin(theta)], axis=1)


def apply_pen(rgb: np.ndarray, density: np.ndarray, color: str) -> None:
    """Ink over the finished image: each channel keeps ``1 - d + d * transmittance`` of its light."""
    d = density.astype(np.float32) * (0.9 / 255)
    rows, cols = np.nonzero(density)
    if rows.size == 0:
        return
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    d = d[r0:r1, c0:c1, None]
    trans = np.asarray((*PEN_COLORS[color], 1.0)[: rgb.shape[2]], np.float32)
    view = rgb[r0:r1, c0:c1]
    view[:] = np.clip(view * (1 - d + d * trans), 0, 255).astype(np.uint8)


def apply_defocus(rgb: np.ndarray, weight: np.ndarray, sigma_px: float) -> None:
    """Blend in a strongly blurred copy where ``weight`` (uint8) says the slide was out of focus."""
    rows, cols = np.nonzero(weight)
    if rows.size == 0:
        return
    pad = math.ceil(3 * sigma_px)
    r0, r1 = max(0, rows.min() - pad), min(rgb.shape[0], rows.max() + 1 + pad)
    c0, c1 = max(0, cols.min() - pad), min(rgb.shape[1], cols.max() + 1 + pad)
    view = rgb[r0:r1, c0:c1]
    blurred = cv2.GaussianBlur(view, (0, 0), sigma_px, borderType=cv2.BORDER_REFLECT)
    a = weight[r0:r1, c0:c1, None].astype(np.float32) * (1 / 255)
    view[:] = (view * (1 - a) + blurred * a + 0.5).astype(np.uint8)
