"""Cells of one slide: where every nucleus is, what it looks like and how it stains; stamping them.

Cells are placed once per slide in micrometres (so a 0.25- and a 0.5-mpp scan of the same layout would
show the same cells): dense hexagonal packing with jitter in epithelium, lymphocyte clusters and vessel
lumens, Poisson scatter in stroma and necrosis, and rows along outlines for the myoepithelial rim, the
luminal layers and the endothelium (oriented along the outline). DCIS and invasive nests get the same
atypical population and the same positivity: only their arrangement differs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from hookseg.synth.geometry import Structure
from hookseg.synth.labels import Tissue
from hookseg.synth.layout import Layout
from hookseg.synth.noise import coarse_field
from hookseg.synth.sprites import VARIANTS, Kind, SpriteAtlas
from hookseg.synth.stain import SlideStain, StainScore

T = Tissue
POISSON: tuple[tuple[Tissue, Kind, float], ...] = (  # cells per um^2
    (T.STROMA, Kind.FIBROBLAST, 1 / 700), (T.STROMA, Kind.LYMPHOCYTE, 1 / 9000),
    (T.BED_STROMA, Kind.FIBROBLAST, 1 / 260), (T.BED_STROMA, Kind.LYMPHOCYTE, 1 / 700),
    (T.TUMOUR_GAP, Kind.FIBROBLAST, 1 / 260), (T.TUMOUR_GAP, Kind.LYMPHOCYTE, 1 / 1200),
    (T.LOBULE_STROMA, Kind.FIBROBLAST, 1 / 230), (T.LOBULE_STROMA, Kind.LYMPHOCYTE, 1 / 1500),
    (T.VESSEL_WALL, Kind.FIBROBLAST, 1 / 150),
    (T.FAT, Kind.ADIPOCYTE, 1 / 6000),
    (T.NECROSIS, Kind.DEBRIS, 1 / 30), (T.NECROSIS, Kind.GHOST, 1 / 160),
    (T.DCIS_NECROSIS, Kind.DEBRIS, 1 / 30), (T.DCIS_NECROSIS, Kind.GHOST, 1 / 160),
)
LATTICE: tuple[tuple[Tissue, Kind, float, float], ...] = (  # spacing um, share of sites kept
    (T.TUMOUR_CELLS, Kind.ATYPICAL, 13.0, 1.0),
    (T.DCIS_CELLS, Kind.ATYPICAL, 13.0, 1.0),
    (T.LYMPH, Kind.LYMPHOCYTE, 5.8, 0.95),
    (T.VESSEL_LUMEN, Kind.RBC, 6.2, 0.6),
)
EPITHELIUM = (T.DUCT_EPI, T.ACINUS_EPI, T.DCIS_CELLS, T.TUMOUR_CELLS)
_EPI_LUT = np.zeros(256, bool)
_EPI_LUT[list(EPITHELIUM)] = True
_MEMBRANE_SCALE = 100.0  # stored uint8 = DAB concentration * scale
_LINE_GAIN = 2.2  # a 1-um line blurred by sigma 0.6 um keeps about 1 / 2.2 of its peak


@dataclass
class Cells:
    """Per-cell arrays, sorted by y: position (um), sprite index, haematoxylin and second-stain gains."""

    x: np.ndarray
    y: np.ndarray
    kind: np.ndarray
    sprite: np.ndarray
    h: np.ndarray
    s: np.ndarray
    membrane: np.ndarray

    def __len__(self) -> int:
        return int(self.x.size)


def place_cells(
    rng: np.random.Generator,
    layout: Layout,
    atlas: SpriteAtlas,
    stain: SlideStain,
    score: StainScore,
    direction: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> Cells:
    """All cells of the slide. ``direction(x_um, y_um)`` orients stromal nuclei along the collagen."""
    tissue = layout.tissue
    h, w = tissue.shape
    g = layout.grid_mpp
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]] = []

    def code_at(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return tissue[np.clip((y / g).astype(int), 0, h - 1), np.clip((x / g).astype(int), 0, w - 1)]

    for code, kind, density in POISSON:
        n = int(rng.poisson(density * w * h * g * g))
        x, y = rng.uniform(0, w * g, n), rng.uniform(0, h * g, n)
        keep = code_at(x, y) == code
        angle = direction(x[keep], y[keep]) + rng.normal(0, 0.25, int(keep.sum())) if (
            kind == Kind.FIBROBLAST and direction is not None) else None
        parts.append((x[keep], y[keep], np.full(int(keep.sum()), kind), angle))
    for code, kind, spacing, share in LATTICE:
        mask = tissue == code
        if not mask.any():
            continue
        x, y = _hex_lattice(rng, mask, spacing, g)
        keep = (code_at(x, y) == code) & (rng.random(x.size) < share)
        parts.append((x[keep], y[keep], np.full(int(keep.sum()), kind), None))
    for s in layout.structures:
        parts.extend(_ring_cells(rng, s, code_at))
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    kind = np.concatenate([p[2] for p in parts]).astype(np.int64)
    angle = np.concatenate([p[3] if p[3] is not None else rng.uniform(0, math.pi, p[0].size) for p in parts])
    order = np.argsort(y, kind="stable")
    x, y, kind, angle = x[order], y[order], kind[order], angle[order]
    n = x.size
    size = np.where(kind == Kind.ATYPICAL, rng.choice(4, n, p=[0.2, 0.35, 0.3, 0.15]), rng.integers(0, 3, n))
    sprite = atlas.index(kind, rng.integers(0, VARIANTS, n), angle, size)
    spread = np.where(kind == Kind.ATYPICAL, 0.22, 0.12)
    hgain = np.exp(rng.normal(0, 1, n) * spread) * stain.h_gain
    sgain, membrane = _dab(rng, kind, stain, score)
    hgain = np.where(sgain > 0.05, hgain * 0.5, hgain)  # DAB-positive nuclei: brown over faint blue
    rbc = kind == Kind.RBC
    sgain[rbc] = (0.8 if stain.is_he else 0.1) * stain.s_gain
    hgain[rbc] *= 0.4
    return Cells(x.astype(np.float32), y.astype(np.float32), kind, sprite.astype(np.int32),
                 hgain.astype(np.float32), sgain.astype(np.float32), membrane.astype(np.float32))


def _dab(rng: np.random.Generator, kind: np.ndarray, stain: SlideStain,
         score: StainScore) -> tuple[np.ndarray, np.ndarray]:
    """Nuclear DAB per cell (ER/PR/Ki67) and membrane DAB per cell (HER2)."""
    n = kind.size
    nuclear = np.zeros(n)
    membrane = np.zeros(n)
    if stain.is_he:
        return nuclear, membrane
    vary = rng.uniform(0.6, 1.3, n)
    atypical = kind == Kind.ATYPICAL
    if score.stain in ("ER", "PR", "Ki67"):
        positive = atypical & (rng.random(n) < score.nuclear_fraction)
        nuclear[positive] = score.nuclear_intensity
        normal_share, normal_level = (0.25, 0.6) if score.stain != "Ki67" else (0.03, 0.9)
        luminal = (kind == Kind.LUMINAL) & (rng.random(n) < normal_share)
        nuclear[luminal] = normal_level
        if score.stain == "Ki67":
            nuclear[(kind == Kind.LYMPHOCYTE) & (rng.random(n) < 0.06)] = 0.9
    if score.stain == "HER2":
        stained = atypical & (rng.random(n) < score.membrane_fraction)
        membrane[stained] = score.membrane_intensity
        membrane[kind == Kind.LUMINAL] = 0.04
    return nuclear * vary * stain.s_gain, membrane * vary * stain.s_gain


def _hex_lattice(rng: np.random.Generator, mask: np.ndarray, spacing: float, g: float):
    """Jittered hexagonal lattice over the bounding box of ``mask`` (positions in um)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    x0, x1 = cols[0] * g, (cols[-1] + 1) * g
    y0, y1 = rows[0] * g, (rows[-1] + 1) * g
    dy = spacing * math.sqrt(3) / 2
    ys = np.arange(y0 + rng.uniform(0, dy), y1, dy)
    xs = np.arange(x0 + rng.uniform(0, spacing), x1 + spacing, spacing)
    gx, gy = np.meshgrid(xs, ys)
    gx = gx + (np.arange(ys.size)[:, None] % 2) * spacing / 2
    gx, gy = gx.ravel(), gy.ravel()
    jitter = rng.normal(0, 0.18 * spacing, (2, gx.size))
    return gx + jitter[0], gy + jitter[1]


_RING_CODES = {
    "duct": (T.DUCT_MYO, T.DUCT_EPI), "acinus": (T.ACINUS_MYO, T.ACINUS_EPI), "dcis": (T.DCIS_RIM, None),
}


def _ring_cells(rng: np.random.Generator, s: Structure, code_at: Callable) -> list:
    """Nuclei in rows along a structure's outline: myoepithelium, luminal layers, endothelium."""
    rows: list[tuple[float, Kind, float, Tissue, float]] = []  # inset, kind, spacing, code, angle offset
    if s.kind in _RING_CODES:
        myo, epi = _RING_CODES[s.kind]
        rim = s.layers["rim"]
        rows.append((rim / 2, Kind.MYO, 9.0, myo, 0.0))
        if epi is not None:
            n_rows = max(1, round(s.layers["epi"] / 7.0))
            for j in range(n_rows):
                rows.append((rim + (j + 0.5) * s.layers["epi"] / n_rows, Kind.LUMINAL, 6.5, epi, math.pi / 2))
    elif s.kind == "vessel":
        wall = s.layers["wall"]
        rows.append((max(0.8, wall - 1.0), Kind.ENDOTHELIAL, 11.0, T.VESSEL_WALL, 0.0))
    out = []
    for inset, kind, spacing, code, offset in rows:
        ax, ay = max(s.rx - inset, 1.0), max(s.ry - inset, 1.0)
        perimeter = 2 * math.pi * math.sqrt((ax * ax + ay * ay) / 2)
        n = max(3, round(perimeter / spacing))
        theta = (np.arange(n) + rng.uniform(0, 1) + rng.normal(0, 0.12, n)) * 2 * math.pi / n
        x, y, tangent = s.point_at(theta, inset)
        x, y = x + rng.normal(0, 0.4, n), y + rng.normal(0, 0.4, n)
        keep = code_at(x, y) == code
        out.append((x[keep], y[keep], np.full(int(keep.sum()), kind), tangent[keep] + offset))
    return out


def stamp(cells: Cells, atlas: SpriteAtlas, buf: np.ndarray, x0: int, y0: int) -> int:
    """Max-stamp the nuclei overlapping ``buf`` (h, w, 2; level-0 origin x0, y0). Returns the count."""
    height, width = buf.shape[:2]
    mpp = atlas.mpp
    reach = atlas.max_extent
    lo, hi = np.searchsorted(cells.y, [(y0 - reach) * mpp, (y0 + height + reach) * mpp])
    px = np.round(cells.x[lo:hi] / mpp).astype(np.int64) - x0
    py = np.round(cells.y[lo:hi] / mpp).astype(np.int64) - y0
    inside = (px > -reach) & (px < width + reach)
    sel = np.flatnonzero(inside)
    gains = np.stack([cells.h[lo:hi][sel], cells.s[lo:hi][sel]], axis=1)
    sprites = atlas.sprites
    for cx, cy, sid, gain in zip(px[sel].tolist(), py[sel].tolist(), cells.sprite[lo:hi][sel].tolist(),
                                 gains, strict=True):
        sp = sprites[sid]
        top, left = cy + sp.dy, cx + sp.dx
        sh, sw = sp.data.shape[:2]
        r0, c0 = max(0, -top), max(0, -left)
        r1, c1 = min(sh, height - top), min(sw, width - left)
        if r1 <= r0 or c1 <= c0:
            continue
        view = buf[top + r0 : top + r1, left + c0 : left + c1]
        np.maximum(view, sp.data[r0:r1, c0:c1] * gain, out=view)
    return int(sel.size)


def membrane_maps(cells: Cells, layout: Layout, rng: np.random.Generator,
                  completeness: float) -> tuple[np.ndarray, np.ndarray]:
    """Cell borders (uint8, 0/255) and membrane DAB (uint8, concentration * 100) on the layout grid.

    Epithelial cells own the Voronoi region around their nucleus inside the epithelium; its outline is the
    cell membrane. ``completeness`` < 1 breaks membranes into segments (HER2 1+ is faint and incomplete).
    """
    tissue = layout.tissue
    h, w = tissue.shape
    g = layout.grid_mpp
    border_full = np.zeros((h, w), np.uint8)
    membrane_full = np.zeros((h, w), np.uint8)
    epi_full = _EPI_LUT[tissue]
    rows, cols = np.flatnonzero(epi_full.any(axis=1)), np.flatnonzero(epi_full.any(axis=0))
    if rows.size == 0:
        return border_full, membrane_full
    r0, r1 = max(0, rows[0] - 2), min(h, rows[-1] + 3)
    c0, c1 = max(0, cols[0] - 2), min(w, cols[-1] + 3)
    epi = epi_full[r0:r1, c0:c1]
    owners = np.isin(cells.kind, (Kind.ATYPICAL, Kind.LUMINAL))
    cx = np.clip((cells.x[owners] / g).astype(int) - c0, 0, c1 - c0 - 1)
    cy = np.clip((cells.y[owners] / g).astype(int) - r0, 0, r1 - r0 - 1)
    seeds = np.full(epi.shape, 255, np.uint8)
    seeds[cy, cx] = 0
    _, labels = cv2.distanceTransformWithLabels(seeds, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL)
    horizontal = (labels[:, :-1] != labels[:, 1:]) & (epi[:, :-1] | epi[:, 1:])
    vertical = (labels[:-1, :] != labels[1:, :]) & (epi[:-1, :] | epi[1:, :])
    border = np.zeros(epi.shape, np.uint8)
    border[:, :-1][horizontal] = 255
    border[:-1, :][vertical] = 255
    border_full[r0:r1, c0:c1] = cv2.GaussianBlur(border, (0, 0), 0.6)
    values = cells.membrane[owners]
    if not values.any():
        return border_full, membrane_full
    # Labels number the seed pixels in raster order; map each label to its seed's membrane value.
    value = np.zeros(epi.shape, np.float32)
    value[cy, cx] = values
    per_label = np.concatenate([[0.0], value[seeds == 0]]).astype(np.float32)
    own = per_label[labels] * epi
    membrane = np.zeros(epi.shape, np.float32)
    membrane[:, :-1] = np.where(horizontal, np.maximum(own[:, :-1], own[:, 1:]), 0)
    down = np.where(vertical, np.maximum(own[:-1, :], own[1:, :]), 0)
    np.maximum(membrane[:-1, :], down, out=membrane[:-1, :])
    if completeness < 1:
        breaks = coarse_field(rng, membrane.shape, sigma=3.0, step=2)
        membrane *= breaks > np.quantile(breaks[::7, ::7], 1 - completeness)
    membrane = cv2.GaussianBlur(membrane, (0, 0), 0.6)
    membrane_full[r0:r1, c0:c1] = np.clip(membrane * (_LINE_GAIN * _MEMBRANE_SCALE), 0, 255).astype(np.uint8)
    return border_full, membrane_full


MEMBRANE_UNIT = 1.0 / _MEMBRANE_SCALE  # stored membrane map value -> DAB concentration
