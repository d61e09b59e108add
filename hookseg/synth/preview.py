"""Contact sheet of a generated cohort: what the stains, scanners and classes look like.

Three blocks of equal tiles: a thumbnail per stain x scanner; a 512-px crop at 0.5 mpp from the most
interior spot of every fine label; and the context problem itself: a DCIS and an invasive tumour crop at
0.5 mpp (alike) beside the same places at 2 mpp (different).
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import tifffile

from hookseg.cohort import read_manifest
from hookseg.io import atomic_path
from hookseg.slides import open_slide
from hookseg.synth.labels import FINE_LABELS
from hookseg.synth.stain import ALL_STAINS

log = logging.getLogger(__name__)

TILE = 256
SCANNER_ORDER = ("A", "B", "C", "M")


def contact_sheet(manifest_path: str | Path, out: str | Path, *, tile: int = TILE) -> Path:
    """Write the sheet as PNG (atomically) and return its path."""
    manifest = read_manifest(manifest_path)
    records = list(manifest)
    cols = max(len(SCANNER_ORDER), 5)
    blocks = [_title("stain x scanner thumbnails", cols * tile)]
    for stain in ALL_STAINS:
        row = []
        for scanner in SCANNER_ORDER:
            match = [r for r in records if r.stain == stain and r.scanner == scanner]
            if match:
                with open_slide(match[0].path) as slide:
                    thumb, _ = slide.thumbnail(tile)
                row.append(_label(_fit(thumb, tile), f"{stain} / {scanner} ({match[0].source})"))
            else:
                row.append(_blank(tile, f"{stain} / {scanner}: none"))
        blocks.append(_row(row, cols, tile))
    per_slide = _interior_spots(records)
    spots = _deepest(per_slide, lambda found, name: found.get(name, (-1.0, None))[0])
    blocks.append(_title("512 px at 0.5 mpp per fine label", cols * tile))
    crops = []
    for name in FINE_LABELS:
        if name not in spots:
            crops.append(_blank(tile, f"{name}: none"))
            continue
        record, found = spots[name]
        text = f"{name} ({record.stain}/{record.scanner})"
        crops.append(_label(_fit(_read(record, *found[name][1], 0.5), tile), text))
    for start in range(0, len(crops), cols):
        blocks.append(_row(crops[start : start + cols], cols, tile))
    # The context problem on one slide (same stain and scanner): DCIS and tumour alike at 0.5 mpp only.
    both = _deepest(per_slide, lambda found, _: min(found.get(n, (-1.0,))[0] for n in ("dcis", "tumour")))
    if "dcis" in both and both["dcis"][1].get("tumour"):
        record, found = both["dcis"]
        context = [_label(_fit(_read(record, *found[name][1], mpp), tile), f"{name} {mpp:g} mpp")
                   for mpp in (0.5, 2.0) for name in ("dcis", "tumour")]
        blocks.append(_title(f"context: DCIS vs invasive tumour ({record.slide_id})", cols * tile))
        blocks.append(_row(context, cols, tile))
    sheet = np.concatenate(blocks, axis=0)
    out = Path(out)
    with atomic_path(out) as tmp:
        cv2.imwrite(str(tmp), sheet[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return out


def _interior_spots(records: list) -> list[tuple[object, dict[str, tuple[float, tuple[float, float]]]]]:
    """Per slide and fine label: how deep (um) its most interior point lies, and that point (level 0)."""
    found = []
    for record in records:
        if record.ground_truth is None:
            continue
        with tifffile.TiffFile(record.ground_truth) as tif:
            gt = tif.pages[0].asarray()
            x_res = tif.pages[0].tags["XResolution"].value
        gt_mpp = 1e4 * x_res[1] / x_res[0]
        small = gt[::4, ::4]
        spots = {}
        for code in np.unique(small):
            mask = np.pad(small == code, 1).astype(np.uint8)
            depth = cv2.distanceTransform(mask, cv2.DIST_L2, 5)[1:-1, 1:-1]
            r, c = np.unravel_index(int(np.argmax(depth)), depth.shape)
            centre_um = ((c * 4 + 2) * gt_mpp, (r * 4 + 2) * gt_mpp)
            slide_mpp = record.mpp or 0.5
            spots[FINE_LABELS[int(code)]] = (float(depth[r, c]) * 4 * gt_mpp,
                                             (centre_um[0] / slide_mpp, centre_um[1] / slide_mpp))
        found.append((record, spots))
    return found


def _deepest(per_slide: list, score) -> dict[str, tuple[object, dict]]:
    """For each fine label, the slide whose ``score(spots, label)`` is highest (training slides first)."""
    best: dict[str, tuple[float, object, dict]] = {}
    for record, spots in per_slide:
        bonus = 0.0 if record.split == "new_domain" else 1e-3  # prefer training slides on ties
        for name in spots:
            value = score(spots, name) + bonus
            if value > 0 and (name not in best or value > best[name][0]):
                best[name] = (value, record, spots)
    return {name: (record, spots) for name, (_, record, spots) in best.items()}


def _read(record, x: float, y: float, mpp: float, size: int = 512) -> np.ndarray:
    with open_slide(record.path) as slide:
        return slide.read_at_center((x, y), (size, size), mpp)


def _fit(image: np.ndarray, tile: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = tile / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    canvas = np.full((tile, tile, 3), 255, np.uint8)
    canvas[: resized.shape[0], : resized.shape[1]] = resized[..., :3]
    return canvas


def _label(image: np.ndarray, text: str) -> np.ndarray:
    out = image.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 18), (255, 255, 255), -1)
    cv2.putText(out, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def _blank(tile: int, text: str) -> np.ndarray:
    return _label(np.full((tile, tile, 3), 225, np.uint8), text)


def _row(tiles: list[np.ndarray], cols: int, tile: int) -> np.ndarray:
    tiles = tiles + [np.full((tile, tile, 3), 255, np.uint8)] * (cols - len(tiles))
    return np.concatenate(tiles, axis=1)


def _title(text: str, width: int) -> np.ndarray:
    bar = np.full((28, width, 3), 40, np.uint8)
    cv2.putText(bar, text, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    return bar
