"""Fine labels of the demo cohort, the finer tissue codes the renderer draws, and the cohort code table.

The renderer needs more detail than the ground truth (a duct is lumen, luminal epithelium and a
myoepithelial rim, each drawn differently), so the layout is a map of ``Tissue`` codes and the ground truth
is that map looked up through ``TISSUE_TO_FINE``, with bad regions (``Artefact``) on top.
"""

from __future__ import annotations

import csv
import io
from enum import IntEnum
from pathlib import Path

import numpy as np

from hookseg.io import atomic_write_text

# Names are ones configs/classes.yaml clubs; code = index; 0 (glass) is what lies outside the tissue.
FINE_LABELS: tuple[str, ...] = (
    "glass", "stroma", "fat", "duct", "acinus", "dcis", "tumour", "vessel", "necrosis", "lymphocytes",
    "fold", "bubble", "blur", "pen", "dust",
)
FINE_CODES: dict[str, int] = {name: code for code, name in enumerate(FINE_LABELS)}
FINE_COLORS: dict[str, tuple[int, int, int]] = {
    "glass": (255, 255, 255), "stroma": (255, 170, 90), "fat": (255, 235, 130), "duct": (60, 150, 255),
    "acinus": (120, 210, 255), "dcis": (170, 60, 220), "tumour": (230, 30, 30), "vessel": (150, 0, 60),
    "necrosis": (90, 90, 90), "lymphocytes": (20, 40, 160), "fold": (0, 160, 120), "bubble": (0, 220, 220),
    "blur": (170, 170, 170), "pen": (0, 90, 0), "dust": (60, 30, 10),
}
TISSUE_LABELS = FINE_LABELS[:10]
BAD_REGION_LABELS = FINE_LABELS[10:]


class Tissue(IntEnum):
    """What the renderer draws at each point of the layout (finer than the ground truth)."""

    GLASS = 0
    STROMA = 1
    FAT = 2
    DUCT_LUMEN = 3
    DUCT_EPI = 4
    DUCT_MYO = 5
    ACINUS_LUMEN = 6
    ACINUS_EPI = 7
    ACINUS_MYO = 8
    LOBULE_STROMA = 9
    DCIS_CELLS = 10
    DCIS_RIM = 11
    DCIS_NECROSIS = 12
    TUMOUR_CELLS = 13
    TUMOUR_GAP = 14  # narrow stroma between nests: inside the tumour outline a pathologist draws
    BED_STROMA = 15  # desmoplastic stroma around the nests, outside that outline
    VESSEL_LUMEN = 16
    VESSEL_WALL = 17
    NECROSIS = 18
    LYMPH = 19


class Artefact(IntEnum):
    """Bad regions, drawn on top of the tissue; the order is their priority in the ground truth."""

    NONE = 0
    BLUR = 1
    FOLD = 2
    DUST = 3
    BUBBLE = 4
    PEN = 5


N_TISSUE = len(Tissue)
_TISSUE_FINE = {
    Tissue.GLASS: "glass", Tissue.STROMA: "stroma", Tissue.FAT: "fat",
    Tissue.DUCT_LUMEN: "duct", Tissue.DUCT_EPI: "duct", Tissue.DUCT_MYO: "duct",
    Tissue.ACINUS_LUMEN: "acinus", Tissue.ACINUS_EPI: "acinus", Tissue.ACINUS_MYO: "acinus",
    Tissue.LOBULE_STROMA: "stroma", Tissue.DCIS_CELLS: "dcis", Tissue.DCIS_RIM: "dcis",
    Tissue.DCIS_NECROSIS: "necrosis", Tissue.TUMOUR_CELLS: "tumour", Tissue.TUMOUR_GAP: "tumour",
    Tissue.BED_STROMA: "stroma", Tissue.VESSEL_LUMEN: "vessel", Tissue.VESSEL_WALL: "vessel",
    Tissue.NECROSIS: "necrosis", Tissue.LYMPH: "lymphocytes",
}
TISSUE_TO_FINE = np.zeros(256, dtype=np.uint8)
for _code, _name in _TISSUE_FINE.items():
    TISSUE_TO_FINE[int(_code)] = FINE_CODES[_name]
ARTEFACT_TO_FINE = np.zeros(256, dtype=np.uint8)
for _art in Artefact:
    if _art is not Artefact.NONE:
        ARTEFACT_TO_FINE[int(_art)] = FINE_CODES[_art.name.lower()]


def fine_labels(tissue: np.ndarray, artefact: np.ndarray) -> np.ndarray:
    """Ground-truth fine codes: the tissue's label, or the bad region's where there is one."""
    fine = TISSUE_TO_FINE[tissue]
    bad = artefact > 0
    fine[bad] = ARTEFACT_TO_FINE[artefact[bad]]
    return fine


def code_table_csv() -> str:
    """BCSS-style table (group, GT_code, color) that ``hookseg.annotations`` reads for label masks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["group", "GT_code", "color"])
    for code, name in enumerate(FINE_LABELS):
        r, g, b = FINE_COLORS[name]
        writer.writerow([name, code, f"rgb({r},{g},{b})"])
    return buffer.getvalue()


def write_code_table(path: str | Path) -> Path:
    atomic_write_text(path, code_table_csv())
    return Path(path)
