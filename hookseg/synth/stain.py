"""Stains and labs: Beer-Lambert optical densities of haematoxylin + DAB (IHC) or eosin (H&E).

Each pixel holds concentrations of three absorbers: haematoxylin, a second stain (DAB for IHC, eosin for
H&E) and a neutral grey absorber (dust, bubble rims). Transmittance per RGB channel is
``10 ** -(c_H * h + c_S * s + c_X * x)`` for the stain vectors h, s, x; the scanner then maps it to RGB.
Because concentrations are quantised, the whole chain (stains, lab, scanner colour, white point, gamma) is
one lookup table per slide: a single gather per pixel.

Labs (data sources DS1-DS7) differ in DAB hue (yellowish to dark brown), DAB and counterstain strength and
haematoxylin hue, as the paper's Figure 5 describes; slide scores follow the clinical scales (Allred 0-8 for
ER/PR, HER2 0 to 3+, Ki67 %).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hookseg.errors import ConfigError
from hookseg.synth.scanner import ScannerProfile

NUCLEAR_STAINS = ("ER", "PR", "Ki67")
MEMBRANE_STAINS = ("HER2",)
IHC_STAINS = ("ER", "PR", "HER2", "Ki67")
ALL_STAINS = (*IHC_STAINS, "HE")

H_BLUE, H_PURPLE = np.array([0.74, 0.62, 0.26]), np.array([0.56, 0.76, 0.33])
DAB_YELLOW, DAB_DARK = np.array([0.12, 0.40, 0.91]), np.array([0.30, 0.58, 0.76])
EOSIN = np.array([0.12, 0.88, 0.46])  # pinker than the Ruifrok vector (0.07, 0.99, 0.11)
NEUTRAL = np.array([0.577, 0.577, 0.577])

Q_H, Q_S, Q_X = 128, 128, 8  # quantisation levels of the three absorbers in the LUT
C_MAX = 3.2  # concentration at the top level of H and S (quadratic spacing: fine steps where light)
X_STEP = 0.35  # concentration per level of the neutral absorber


@dataclass(frozen=True)
class LabProtocol:
    """A data source's staining protocol."""

    name: str
    dab_hue: float  # 0 yellowish brown .. 1 dark brown
    dab_gain: float
    counterstain: float  # haematoxylin strength
    h_hue: float  # 0 blue .. 1 purple
    background_dab: float  # non-specific DAB in stroma
    eosin_gain: float = 1.0


LABS: dict[str, LabProtocol] = {
    "DS1": LabProtocol("DS1", 0.95, 1.15, 1.00, 0.3, 0.020),  # solid dark brown
    "DS2": LabProtocol("DS2", 0.70, 0.70, 1.25, 0.1, 0.005),  # sparse brown, strong blue counterstain
    "DS3": LabProtocol("DS3", 0.05, 0.95, 0.80, 0.5, 0.020),  # yellowish brown
    "DS4": LabProtocol("DS4", 0.55, 1.00, 1.35, 0.9, 0.010),  # heavy purple counterstain
    "DS5": LabProtocol("DS5", 0.80, 1.30, 0.90, 0.4, 0.025),  # intense, dirty background
    "DS6": LabProtocol("DS6", 0.35, 0.85, 0.65, 0.2, 0.010),  # pale
    "DS7": LabProtocol("DS7", 0.50, 1.00, 1.10, 0.8, 0.000, eosin_gain=1.15),  # the H&E lab (new domain)
}
SOURCE_SCANNER = {"DS1": "A", "DS2": "A", "DS3": "B", "DS4": "B", "DS5": "C", "DS6": "C", "DS7": "M"}
TRAINING_SOURCES = ("DS1", "DS2", "DS3", "DS4", "DS5", "DS6")
NEW_DOMAIN_SOURCE = "DS7"


@dataclass(frozen=True)
class StainScore:
    """How one slide's tumour cells stain: the clinical score and what it means for the rendering."""

    stain: str
    label: str
    nuclear_fraction: float = 0.0  # share of atypical nuclei that are DAB-positive
    nuclear_intensity: float = 0.0  # DAB concentration of a positive nucleus
    membrane_fraction: float = 0.0  # share of atypical cells with membrane DAB
    membrane_intensity: float = 0.0
    membrane_complete: float = 1.0  # how much of each membrane outline is stained


ALLRED_FRACTION = {0: 0.0, 1: 0.005, 2: 0.05, 3: 0.2, 4: 0.5, 5: 0.85}
ALLRED_INTENSITY = {0: 0.0, 1: 0.35, 2: 0.7, 3: 1.1}
HER2_MEMBRANE = {0: (0.05, 0.12, 0.3), 1: (0.6, 0.2, 0.45), 2: (0.8, 0.45, 0.85), 3: (0.95, 1.0, 1.0)}


def allred(stain: str, proportion: int, intensity: int) -> StainScore:
    score = proportion + intensity if proportion > 0 else 0
    return StainScore(stain, f"Allred {score} (PS {proportion}, IS {intensity})",
                      ALLRED_FRACTION[proportion], ALLRED_INTENSITY[intensity if proportion else 0])


def draw_scores(rng: np.random.Generator) -> dict[str, StainScore]:
    """One patient's tumour phenotype on every stain (ER and PR go together; mostly high or low scores)."""

    def hormone(positive: bool) -> tuple[int, int]:
        if positive:
            proportion = int(rng.choice([3, 4, 5], p=[0.15, 0.3, 0.55]))
            return proportion, int(rng.choice([1, 2, 3], p=[0.15, 0.35, 0.5]))
        return (0, 0) if rng.random() < 0.7 else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))

    er_pos = rng.random() < 0.7
    er = allred("ER", *hormone(er_pos))
    pr = allred("PR", *hormone(rng.random() < (0.75 if er_pos else 0.1)))
    her2 = int(rng.choice(4, p=[0.35, 0.25, 0.2, 0.2]))
    fraction, intensity, complete = HER2_MEMBRANE[her2]
    ki67 = rng.uniform(2, 14) if rng.random() < 0.5 else rng.uniform(16, 70)
    return {
        "ER": er,
        "PR": pr,
        "HER2": StainScore("HER2", f"HER2 {her2}+" if her2 else "HER2 0", membrane_fraction=fraction,
                           membrane_intensity=intensity, membrane_complete=complete),
        "Ki67": StainScore("Ki67", f"Ki67 {ki67:.0f}%", nuclear_fraction=ki67 / 100, nuclear_intensity=1.0),
        "HE": StainScore("HE", "H&E"),
    }


@dataclass(frozen=True)
class SlideStain:
    """The stain vectors of one slide: its lab's protocol with a little slide-to-slide jitter."""

    stain: str
    h_vector: np.ndarray
    s_vector: np.ndarray
    h_gain: float
    s_gain: float
    background_s: float

    @property
    def is_he(self) -> bool:
        return self.stain == "HE"


def slide_stain(rng: np.random.Generator, stain: str, lab: LabProtocol) -> SlideStain:
    if stain not in ALL_STAINS:
        msg = f"Unknown stain. Received: stain={stain!r}. Expected one of {list(ALL_STAINS)}"
        raise ConfigError(msg)
    def jitter(spread: float) -> float:
        return float(rng.normal(1.0, spread))

    h_hue = float(np.clip(lab.h_hue + rng.normal(0, 0.1), 0, 1))
    h_vec = _unit((1 - h_hue) * H_BLUE + h_hue * H_PURPLE)
    if stain == "HE":
        s_vec, s_gain, background = EOSIN, lab.eosin_gain * jitter(0.08), 0.0
    else:
        hue = float(np.clip(lab.dab_hue + rng.normal(0, 0.08), 0, 1))
        s_vec = _unit((1 - hue) * DAB_YELLOW + hue * DAB_DARK)
        s_gain, background = lab.dab_gain * jitter(0.08), lab.background_dab * jitter(0.2)
    return SlideStain(stain, h_vec, s_vec, lab.counterstain * jitter(0.08), s_gain, max(0.0, background))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def concentration_levels() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concentration represented by each quantisation level of H, S and X."""
    h = C_MAX * (np.arange(Q_H) / (Q_H - 1)) ** 2
    s = C_MAX * (np.arange(Q_S) / (Q_S - 1)) ** 2
    return h, s, np.arange(Q_X) * X_STEP


def build_lut(stain: SlideStain, scanner: ScannerProfile) -> np.ndarray:
    """uint32 LUT indexed by (qH << 10) | (qS << 3) | qX holding packed RGBA: stain chain + scanner colour."""
    h, s, x = concentration_levels()
    od = (h[:, None, None, None] * stain.h_vector + s[None, :, None, None] * stain.s_vector
          + x[None, None, :, None] * NEUTRAL)
    rgb = scanner.camera(10.0 ** -od).reshape(-1, 3)
    rgba = np.concatenate([rgb, np.full((rgb.shape[0], 1), 255, np.uint8)], axis=1)
    return np.ascontiguousarray(rgba).view(np.uint32).ravel()


def quantize(conc: np.ndarray, dither: np.ndarray | None = None) -> np.ndarray:
    """Concentrations -> LUT level (quadratic spacing), with optional dither in [0, 1) to avoid banding."""
    q = np.sqrt(np.maximum(conc, 0) * (1.0 / C_MAX)) * (Q_H - 1)
    if dither is not None:
        q += dither
    np.minimum(q, Q_H - 1, out=q)
    return q.astype(np.uint32)
