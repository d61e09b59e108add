"""Tissue architecture of one synthetic slide at 1 um/px: where stroma, fat, ducts, lobules, DCIS, invasive
tumour, vessels, necrosis and lymphocyte clusters are.

The layout is what makes DCIS and invasive tumour differ only in context: both are filled with the same
atypical cells (see ``cells``), but DCIS sits in round ducts with an intact myoepithelial rim while the
invasive tumour is irregular nests and cords scattered through desmoplastic stroma. The map holds ``Tissue``
codes; ``structures`` keeps each structure's geometry for cell placement, annotation regions and sampling.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from hookseg.synth.geometry import Structure, disk, fill, fill_structure, random_harmonics
from hookseg.synth.labels import Tissue, fine_labels
from hookseg.synth.noise import coarse_field

log = logging.getLogger(__name__)

GRID_MPP = 1.0  # micrometres per layout pixel; the ground-truth raster has this resolution
PLACE_STEP = 8  # placement works on an 8x coarser occupancy grid


@dataclass(frozen=True)
class LayoutParams:
    """Densities (expected structures per mm^2, with a minimum per slide) and size ranges (micrometres)."""

    tissue_fraction: tuple[float, float] = (0.70, 0.88)
    fat_fraction: tuple[float, float] = (0.08, 0.30)
    beds: tuple[float, int] = (0.15, 1)
    bed_radius: tuple[float, float] = (350.0, 900.0)
    dcis: tuple[float, int] = (0.35, 1)
    dcis_radius: tuple[float, float] = (90.0, 240.0)
    ducts: tuple[float, int] = (0.35, 1)
    duct_radius: tuple[float, float] = (60.0, 140.0)
    lobules: tuple[float, int] = (0.25, 1)
    lobule_radius: tuple[float, float] = (140.0, 300.0)
    vessels: tuple[float, int] = (3.0, 2)
    vessel_radius: tuple[float, float] = (7.0, 35.0)
    lymph: tuple[float, int] = (0.2, 1)
    lymph_radius: tuple[float, float] = (50.0, 160.0)
    comedo_probability: float = 0.35


@dataclass
class Layout:
    """Label maps at ``grid_mpp`` covering ``size_um`` and the structures drawn into them."""

    tissue: np.ndarray
    artefact: np.ndarray
    structures: list[Structure]
    size_um: tuple[float, float]
    grid_mpp: float = GRID_MPP
    maps: dict[str, np.ndarray] = field(default_factory=dict)  # artefact strengths etc., same grid

    def fine(self) -> np.ndarray:
        """Ground-truth fine label codes on the layout grid."""
        return fine_labels(self.tissue, self.artefact)

    def of_kind(self, kind: str) -> list[Structure]:
        return [s for s in self.structures if s.kind == kind]


def make_layout(rng: np.random.Generator, size_um: tuple[float, float],
                params: LayoutParams | None = None) -> Layout:
    """Draw one slide's architecture; the same generator state gives the same layout."""
    p = params or LayoutParams()
    width, height = (max(64, round(v / GRID_MPP)) for v in size_um)
    tissue_mask, fat = _tissue_and_fat(rng, (height, width), p)
    tissue = np.where(tissue_mask, np.where(fat, Tissue.FAT, Tissue.STROMA), Tissue.GLASS).astype(np.uint8)
    placer = _Placer(tissue_mask, fat)
    area_mm2 = width * height * GRID_MPP**2 / 1e6
    side = min(width, height) * GRID_MPP
    structures: list[Structure] = []

    def count(spec: tuple[float, int]) -> int:
        return max(spec[1], int(rng.poisson(spec[0] * area_mm2)))

    def radius(spec: tuple[float, float], frac: float) -> float:
        return float(min(rng.uniform(*spec), frac * side))

    for _ in range(count(p.beds)):
        r = radius(p.bed_radius, 0.36)
        x, y = placer.place(rng, r, fill_factor=0.45, allow_fat=True)
        bed = Structure("tumour_bed", x, y, r, r * rng.uniform(0.6, 1.0), rng.uniform(0, math.pi),
                        random_harmonics(rng, 0.22))
        structures += _draw_bed(rng, tissue, tissue_mask, bed)
        placer.occupy(bed, 30)
    beds = [s for s in structures if s.kind == "tumour_bed"]
    near_bed = _near(placer, beds, 700.0)
    n_dcis = count(p.dcis)
    comedo = [rng.random() < p.comedo_probability for _ in range(n_dcis)]
    if not any(comedo) and not any(s.kind == "necrosis" for s in structures):
        comedo[0] = True  # every slide shows necrosis somewhere
    for is_comedo in comedo:
        r = radius(p.dcis_radius, 0.2)
        x, y = placer.place(rng, r + 15, weight=near_bed)
        s = Structure("dcis", x, y, r, r * rng.uniform(0.75, 1.0), rng.uniform(0, math.pi),
                      random_harmonics(rng, 0.04), {"rim": 4.5, "comedo": 0.45 * r if is_comedo else 0.0})
        _draw_dcis(tissue, s)
        structures.append(s)
        placer.occupy(s, 15)
    for _ in range(count(p.lobules)):
        r = radius(p.lobule_radius, 0.2)
        x, y = placer.place(rng, r)
        lobule = Structure("lobule", x, y, r, r * rng.uniform(0.7, 1.0), rng.uniform(0, math.pi),
                           random_harmonics(rng, 0.12))
        structures += _draw_lobule(rng, tissue, lobule)
        placer.occupy(lobule, 10)
    for _ in range(count(p.ducts)):
        r = radius(p.duct_radius, 0.15)
        x, y = placer.place(rng, r + 10)
        s = Structure("duct", x, y, r, r * rng.uniform(0.35, 0.9), rng.uniform(0, math.pi),
                      random_harmonics(rng, 0.05), {"rim": 3.5, "epi": rng.uniform(11.0, 16.0)})
        _draw_gland(tissue, s, Tissue.DUCT_MYO, Tissue.DUCT_EPI, Tissue.DUCT_LUMEN)
        structures.append(s)
        placer.occupy(s, 10)
    for _ in range(count(p.lymph)):
        r = radius(p.lymph_radius, 0.12)
        x, y = placer.place(rng, r * 0.8, weight=near_bed)
        s = Structure("lymph", x, y, r, r * rng.uniform(0.5, 1.0), rng.uniform(0, math.pi),
                      random_harmonics(rng, 0.25))
        fill_structure(tissue, s, Tissue.LYMPH)
        structures.append(s)
        placer.occupy(s, 5)
    for _ in range(count(p.vessels)):
        r = radius(p.vessel_radius, 0.05)
        x, y = placer.place(rng, r + 3, allow_fat=True)
        wall = float(np.clip(r * rng.uniform(0.15, 0.3), 2.0, 9.0))
        s = Structure("vessel", x, y, r, r * rng.uniform(0.35, 1.0), rng.uniform(0, math.pi),
                      random_harmonics(rng, 0.06), {"wall": wall})
        fill_structure(tissue, s, Tissue.VESSEL_WALL)
        fill_structure(tissue, s, Tissue.VESSEL_LUMEN, inset=wall)
        structures.append(s)
        placer.occupy(s, 3)
    tissue[~tissue_mask] = Tissue.GLASS  # structures never hang over the tissue's edge
    return Layout(tissue, np.zeros_like(tissue), structures, (width * GRID_MPP, height * GRID_MPP))


def _tissue_and_fat(rng: np.random.Generator, shape: tuple[int, int], p: LayoutParams):
    """Tissue: a smooth blob over most of the slide with an irregular edge; fat: smooth lobules inside it."""
    h, w = shape
    yy, xx = np.mgrid[0:h:4, 0:w:4].astype(np.float32)
    cx, cy = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.4, 0.6)
    envelope = 1.0 - ((xx - cx) / (0.62 * w)) ** 2 - ((yy - cy) / (0.62 * h)) ** 2
    edge = coarse_field(rng, envelope.shape, sigma=max(8.0, min(h, w) / 40), step=4)
    field_small = 1.6 * envelope + 0.35 * edge
    fraction = rng.uniform(*p.tissue_fraction)
    field_full = cv2.resize(field_small, (w, h), interpolation=cv2.INTER_LINEAR)
    tissue = field_full > np.quantile(field_small, 1 - fraction)
    fat_small = coarse_field(rng, envelope.shape, sigma=max(6.0, min(h, w) / 60), step=4)
    fat_full = cv2.resize(fat_small, (w, h), interpolation=cv2.INTER_LINEAR)
    fat = tissue & (fat_full > np.quantile(fat_small, 1 - rng.uniform(*p.fat_fraction)))
    return tissue, fat


def _draw_bed(rng: np.random.Generator, tissue: np.ndarray, tissue_mask: np.ndarray,
              bed: Structure) -> list[Structure]:
    """Invasive tumour: nests and cords (bigger and confluent in the middle) in desmoplastic stroma."""
    h, w = tissue.shape
    x0, y0, x1, y1 = (int(v) for v in bed.bbox(2))
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return [bed]
    local = np.zeros((y1 - y0, x1 - x0), np.uint8)
    fill(local, bed.outline(), 1, origin=(x0, y0))
    inside = local.astype(bool) & tissue_mask[y0:y1, x0:x1]
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    rn = np.hypot((xx - bed.x) / bed.rx, (yy - bed.y) / bed.ry)
    nests_field = (0.75 * coarse_field(rng, local.shape, sigma=14.0, step=2)
                   + 0.55 * coarse_field(rng, local.shape, sigma=40.0, step=4)
                   + rng.uniform(0.9, 1.6) * np.clip(1.0 - rn, 0, 1))
    if not inside.any():
        return [bed]
    threshold = np.quantile(nests_field[inside], 1 - rng.uniform(0.42, 0.58))
    nests = inside & (nests_field > threshold)
    nests = cv2.morphologyEx(nests.astype(np.uint8), cv2.MORPH_OPEN, disk(3)).astype(bool)
    gaps = cv2.morphologyEx(nests.astype(np.uint8), cv2.MORPH_CLOSE, disk(9)).astype(bool) & inside
    depth = cv2.distanceTransform(nests.astype(np.uint8), cv2.DIST_L2, 5)
    necrotic = depth > rng.uniform(45.0, 70.0)
    necrotic = cv2.dilate(necrotic.astype(np.uint8), disk(12)).astype(bool) & (depth > 18)
    view = tissue[y0:y1, x0:x1]
    view[inside] = Tissue.BED_STROMA
    view[gaps] = Tissue.TUMOUR_GAP
    view[nests] = Tissue.TUMOUR_CELLS
    view[necrotic] = Tissue.NECROSIS
    found = [bed]
    if necrotic.any():
        ys, xs = np.nonzero(necrotic)
        found.append(Structure("necrosis", float(xs.mean() + x0), float(ys.mean() + y0),
                               float(np.ptp(xs) / 2 + 1), float(np.ptp(ys) / 2 + 1)))
    return found


def _draw_dcis(tissue: np.ndarray, s: Structure) -> None:
    """Round duct, intact myoepithelial rim, filled with the same atypical cells as invasive tumour."""
    fill_structure(tissue, s, Tissue.DCIS_RIM)
    fill_structure(tissue, s, Tissue.DCIS_CELLS, inset=s.layers["rim"])
    if s.layers.get("comedo", 0) > 0:
        fill_structure(tissue, s, Tissue.DCIS_NECROSIS, inset=min(s.rx, s.ry) - s.layers["comedo"])


def _draw_gland(tissue: np.ndarray, s: Structure, myo: int, epi: int, lumen: int) -> None:
    """Two-layer epithelium (luminal + myoepithelial) around an open lumen."""
    fill_structure(tissue, s, myo)
    fill_structure(tissue, s, epi, inset=s.layers["rim"])
    fill_structure(tissue, s, lumen, inset=s.layers["rim"] + s.layers["epi"])


def _draw_lobule(rng: np.random.Generator, tissue: np.ndarray, lobule: Structure) -> list[Structure]:
    """A terminal duct-lobular unit: loose intralobular stroma packed with small acini."""
    fill_structure(tissue, lobule, Tissue.LOBULE_STROMA)
    acini: list[Structure] = []
    for _ in range(400):
        if len(acini) >= 40:
            break
        r = rng.uniform(18.0, 34.0)
        t, rho = rng.uniform(0, 2 * math.pi), math.sqrt(rng.random()) * 0.82
        x = lobule.x + rho * (lobule.rx - r) * math.cos(t)
        y = lobule.y + rho * (lobule.ry - r) * math.sin(t)
        if any(math.hypot(x - a.x, y - a.y) < r + a.rx + 5 for a in acini):
            continue
        acini.append(Structure("acinus", x, y, r, r * rng.uniform(0.75, 1.0), rng.uniform(0, math.pi),
                               random_harmonics(rng, 0.05), {"rim": 3.0, "epi": r * rng.uniform(0.45, 0.6)}))
    for a in acini:
        _draw_gland(tissue, a, Tissue.ACINUS_MYO, Tissue.ACINUS_EPI, Tissue.ACINUS_LUMEN)
    return [lobule, *acini]


class _Placer:
    """Chooses centres in free tissue on a coarse grid, so structures rarely overlap; never fails."""

    def __init__(self, tissue: np.ndarray, fat: np.ndarray) -> None:
        self.tissue = cv2.resize(tissue.astype(np.uint8), None, fx=1 / PLACE_STEP, fy=1 / PLACE_STEP,
                                 interpolation=cv2.INTER_AREA) > 0
        self.fat = cv2.resize(fat.astype(np.uint8), None, fx=1 / PLACE_STEP, fy=1 / PLACE_STEP,
                              interpolation=cv2.INTER_AREA) > 0
        self.occupied = np.zeros(self.tissue.shape, np.uint8)

    def place(self, rng: np.random.Generator, radius: float, *, weight: np.ndarray | None = None,
              allow_fat: bool = False, fill_factor: float = 1.0) -> tuple[float, float]:
        free = self.tissue & (self.occupied == 0)
        if not allow_fat:
            free &= ~self.fat
        dist = cv2.distanceTransform(np.pad(free, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
        dist *= PLACE_STEP * GRID_MPP
        ok = dist >= radius * fill_factor
        if not ok.any():
            ok = dist >= 0.8 * dist.max() if dist.max() > 0 else self.tissue.copy()
            if not ok.any():
                ok = np.ones_like(self.tissue)
        prob = ok.astype(np.float64) * (weight if weight is not None else 1.0)
        if prob.sum() <= 0:
            prob = ok.astype(np.float64)
        flat = rng.choice(prob.size, p=(prob / prob.sum()).ravel())
        gy, gx = divmod(int(flat), prob.shape[1])
        jitter = rng.uniform(0, PLACE_STEP, 2)
        return (gx * PLACE_STEP + jitter[0]) * GRID_MPP, (gy * PLACE_STEP + jitter[1]) * GRID_MPP

    def occupy(self, s: Structure, margin: float) -> None:
        r = (s.radius + margin) / (PLACE_STEP * GRID_MPP)
        center = (round(s.x / (PLACE_STEP * GRID_MPP)), round(s.y / (PLACE_STEP * GRID_MPP)))
        cv2.circle(self.occupied, center, max(1, round(r)), 1, -1)


def _near(placer: _Placer, structures: list[Structure], scale: float) -> np.ndarray | None:
    """Placement weight favouring the neighbourhood of ``structures`` (DCIS and lymphocytes near tumour)."""
    if not structures:
        return None
    seeds = np.ones(placer.tissue.shape, np.uint8)
    for s in structures:
        cv2.circle(seeds, (round(s.x / PLACE_STEP), round(s.y / PLACE_STEP)),
                   max(1, round(s.radius / PLACE_STEP)), 0, -1)
    dist = cv2.distanceTransform(seeds, cv2.DIST_L2, 5) * PLACE_STEP * GRID_MPP
    return 0.25 + np.exp(-dist / scale)
