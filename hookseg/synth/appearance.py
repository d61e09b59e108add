"""What each tissue code looks like before the nuclei are added: stain concentrations and their textures.

Background concentration of a pixel = base + fibre texture + grain texture + adipocyte-membrane network,
with amplitudes per tissue code and per stain family (IHC counterstain is pale; H&E has eosin everywhere).
Textures are quantised so that tissue code and texture values index one small table (one gather per pixel
per stain). DCIS and tumour cells share their row on purpose.
"""

from __future__ import annotations

import numpy as np

from hookseg.synth.labels import N_TISSUE, Tissue
from hookseg.synth.stain import SlideStain, StainScore

Q_FIBRE, Q_GRAIN, Q_NET = 16, 8, 8
N_TEXCODES = Q_FIBRE * Q_GRAIN * Q_NET

T = Tissue
HE_EOSIN = 0.6  # overall eosin level of the H&E table (the lab's gain multiplies it)
# (base H, base S, fibre H, fibre S, grain H, grain S, network H, network S); S is DAB (IHC) or eosin (H&E).
_IHC = {
    T.GLASS: (0.0, 0, 0, 0, 0.004, 0, 0, 0),
    T.STROMA: (0.045, 1, 0.03, 0.5, 0.01, 0, 0, 0),
    T.FAT: (0.0, 0, 0, 0, 0.004, 0, 0.16, 0.4),
    T.DUCT_LUMEN: (0.015, 0, 0, 0, 0.015, 0, 0, 0),
    T.DUCT_EPI: (0.13, 0.5, 0, 0, 0.04, 0, 0, 0),
    T.DUCT_MYO: (0.15, 1, 0.03, 0, 0.02, 0, 0, 0),
    T.ACINUS_LUMEN: (0.015, 0, 0, 0, 0.015, 0, 0, 0),
    T.ACINUS_EPI: (0.13, 0.5, 0, 0, 0.04, 0, 0, 0),
    T.ACINUS_MYO: (0.15, 1, 0.03, 0, 0.02, 0, 0, 0),
    T.LOBULE_STROMA: (0.07, 0.6, 0.03, 0.3, 0.03, 0, 0, 0),
    T.DCIS_CELLS: (0.15, 0.5, 0, 0, 0.05, 0, 0, 0),
    T.DCIS_RIM: (0.15, 1, 0.03, 0, 0.02, 0, 0, 0),
    T.DCIS_NECROSIS: (0.17, 2, 0, 0, 0.09, 1, 0, 0),
    T.TUMOUR_CELLS: (0.15, 0.5, 0, 0, 0.05, 0, 0, 0),
    T.TUMOUR_GAP: (0.065, 1, 0.04, 0.5, 0.015, 0, 0, 0),
    T.BED_STROMA: (0.052, 1, 0.04, 0.5, 0.012, 0, 0, 0),
    T.VESSEL_LUMEN: (0.015, 0.5, 0, 0, 0.01, 0, 0, 0),
    T.VESSEL_WALL: (0.12, 1, 0.05, 0.3, 0.02, 0, 0, 0),
    T.NECROSIS: (0.17, 2, 0, 0, 0.09, 1, 0, 0),
    T.LYMPH: (0.10, 0.5, 0, 0, 0.03, 0, 0, 0),
}
_HE = {
    T.GLASS: (0.0, 0.0, 0, 0, 0.004, 0.004, 0, 0),
    T.STROMA: (0.03, 0.42, 0.02, 0.15, 0.01, 0.04, 0, 0),
    T.FAT: (0.0, 0.0, 0, 0, 0.004, 0.004, 0.10, 0.45),
    T.DUCT_LUMEN: (0.01, 0.06, 0, 0, 0.01, 0.04, 0, 0),
    T.DUCT_EPI: (0.06, 0.30, 0, 0, 0.02, 0.06, 0, 0),
    T.DUCT_MYO: (0.07, 0.38, 0.02, 0.1, 0.01, 0.03, 0, 0),
    T.ACINUS_LUMEN: (0.01, 0.06, 0, 0, 0.01, 0.04, 0, 0),
    T.ACINUS_EPI: (0.06, 0.30, 0, 0, 0.02, 0.06, 0, 0),
    T.ACINUS_MYO: (0.07, 0.38, 0.02, 0.1, 0.01, 0.03, 0, 0),
    T.LOBULE_STROMA: (0.04, 0.22, 0.01, 0.12, 0.02, 0.05, 0, 0),
    T.DCIS_CELLS: (0.08, 0.32, 0, 0, 0.03, 0.07, 0, 0),
    T.DCIS_RIM: (0.07, 0.38, 0.02, 0.1, 0.01, 0.03, 0, 0),
    T.DCIS_NECROSIS: (0.14, 0.55, 0, 0, 0.08, 0.15, 0, 0),
    T.TUMOUR_CELLS: (0.08, 0.32, 0, 0, 0.03, 0.07, 0, 0),
    T.TUMOUR_GAP: (0.04, 0.48, 0.03, 0.15, 0.01, 0.04, 0, 0),
    T.BED_STROMA: (0.04, 0.50, 0.03, 0.15, 0.01, 0.04, 0, 0),
    T.VESSEL_LUMEN: (0.01, 0.12, 0, 0, 0.01, 0.05, 0, 0),
    T.VESSEL_WALL: (0.06, 0.50, 0.02, 0.2, 0.01, 0.04, 0, 0),
    T.NECROSIS: (0.14, 0.55, 0, 0, 0.08, 0.15, 0, 0),
    T.LYMPH: (0.06, 0.15, 0, 0, 0.02, 0.04, 0, 0),
}
_ATYPICAL = (T.DCIS_CELLS, T.TUMOUR_CELLS)


def appearance_table(stain: SlideStain, score: StainScore) -> np.ndarray:
    """(N_TISSUE, 8) amplitudes for this slide. In IHC tables the S columns are multiples of the lab's
    non-specific background DAB; HER2-positive tumours add a faint cytoplasmic DAB blush."""
    table = np.array([(_HE if stain.is_he else _IHC)[T(code)] for code in range(N_TISSUE)], dtype=np.float32)
    table[:, [0, 2, 4, 6]] *= stain.h_gain
    if stain.is_he:
        table[:, [1, 3, 5, 7]] *= stain.s_gain * HE_EOSIN
    else:
        table[:, [1, 3, 5, 7]] *= stain.background_s * stain.s_gain
        blush = 0.05 * score.membrane_intensity * score.membrane_fraction * stain.s_gain
        table[list(_ATYPICAL), 1] += blush
    return table


def texture_lut(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Background H and S per (tissue code, texture code): float32 arrays of N_TISSUE * N_TEXCODES."""
    codes = np.arange(N_TEXCODES)
    qf, rest = np.divmod(codes, Q_GRAIN * Q_NET)
    qg, qn = np.divmod(rest, Q_NET)
    fibre = (qf + 0.5) / Q_FIBRE * 2 - 1
    grain = (qg + 0.5) / Q_GRAIN * 2 - 1
    net = qn / (Q_NET - 1)
    h = table[:, 0, None] + table[:, 2, None] * fibre + table[:, 4, None] * grain + table[:, 6, None] * net
    s = table[:, 1, None] + table[:, 3, None] * fibre + table[:, 5, None] * grain + table[:, 7, None] * net
    return (np.maximum(h, 0).astype(np.float32).ravel(), np.maximum(s, 0).astype(np.float32).ravel())


def texture_codes(fibre: np.ndarray, grain: np.ndarray, net: np.ndarray) -> np.ndarray:
    """Combine three texture tiles (fibre, grain in -1..1; network 0..1) into one uint16 code tile."""
    qf = np.clip(((fibre + 1) / 2 * Q_FIBRE).astype(np.int32), 0, Q_FIBRE - 1)
    qg = np.clip(((np.clip(grain / 2.5, -1, 1) + 1) / 2 * Q_GRAIN).astype(np.int32), 0, Q_GRAIN - 1)
    qn = np.clip(np.round(net * (Q_NET - 1)).astype(np.int32), 0, Q_NET - 1)
    return (qf * Q_GRAIN * Q_NET + qg * Q_NET + qn).astype(np.uint16)
