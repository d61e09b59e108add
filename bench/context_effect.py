"""Does the demo cohort have the paper's context problem? DCIS vs invasive tumour, with and without context.

Samples 128-px tiles at 0.5 mpp lying wholly inside DCIS or inside invasive tumour (from the ground truth),
describes each by colour, grey-level histogram, gradient and LBP statistics, and cross-validates (grouped by
slide) a logistic regression on (a) the tile alone and (b) the tile plus the same features of the 2-mpp field
of view around it. Prints the DCIS <-> tumour confusion rate of both.

Usage: python bench/context_effect.py [--cohort MANIFEST] [--slides 12] [--size 4096] [--per-class 25]
       [--context 160]
Without --cohort a cohort is generated in a temporary folder (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import tifffile
from skimage.feature import local_binary_pattern
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hookseg.cohort import read_manifest
from hookseg.slides import open_slide
from hookseg.synth import FINE_CODES, generate_cohort

TILE = 128
TARGET_MPP, CONTEXT_MPP = 0.5, 2.0
CONTEXT = 160  # px at 2 mpp: 320 um around the tile
CLASSES = ("dcis", "tumour")


def features(rgb: np.ndarray) -> np.ndarray:
    """Generic colour + texture description (the same for the tile and its context)."""
    rgb = rgb.astype(np.float32)
    grey = cv2.cvtColor(rgb.astype(np.uint8), cv2.COLOR_RGB2GRAY)
    hsv = cv2.cvtColor(rgb.astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.float32)
    colour = np.concatenate([rgb.mean((0, 1)), rgb.std((0, 1)), hsv.mean((0, 1)), hsv.std((0, 1))])
    hist = np.histogram(grey, bins=16, range=(0, 256))[0] / grey.size
    gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    magnitude = np.hypot(gx, gy)
    gradient = np.array([magnitude.mean(), magnitude.std(), *np.percentile(magnitude, [50, 90, 99])])
    lbp = local_binary_pattern(grey, P=8, R=1, method="uniform")
    lbp_hist = np.histogram(lbp, bins=10, range=(0, 10))[0] / lbp.size
    dark = grey < np.percentile(grey, 30)
    rows, cols = dark.mean(1), dark.mean(0)  # how evenly the dark (cellular) part spreads
    layout = np.array([dark.mean(), rows.std(), cols.std(), (grey > 200).mean()])
    return np.concatenate([colour, hist, gradient, lbp_hist, layout]).astype(np.float32)


def sample_tiles(manifest_path: Path, per_class: int, seed: int, context_px: int = CONTEXT,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features of tiles inside DCIS and tumour (tile only, tile + context), labels and slide groups."""
    rng = np.random.default_rng(seed)
    local, both, labels, groups = [], [], [], []
    for group, record in enumerate(r for r in read_manifest(manifest_path) if r.split != "new_domain"):
        gt = tifffile.imread(record.ground_truth, key=0)
        half_um = TILE * TARGET_MPP / 2 + 4
        with open_slide(record.path) as slide:
            for label, name in enumerate(CLASSES):
                mask = np.pad(gt == FINE_CODES[name], 1).astype(np.uint8)
                depth = cv2.distanceTransform(mask, cv2.DIST_L2, 5)[1:-1, 1:-1]
                ys, xs = np.nonzero(depth > half_um * np.sqrt(2))  # the whole tile lies in the label
                if ys.size == 0:
                    continue
                for i in rng.choice(ys.size, min(per_class, ys.size), replace=False):
                    centre = ((xs[i] + 0.5) / slide.mpp, (ys[i] + 0.5) / slide.mpp)
                    tile = slide.read_at_center(centre, (TILE, TILE), TARGET_MPP)
                    context = slide.read_at_center(centre, (context_px, context_px), CONTEXT_MPP)
                    f_tile = features(tile)
                    local.append(f_tile)
                    both.append(np.concatenate([f_tile, features(context)]))
                    labels.append(label)
                    groups.append(group)
    return np.array(local), np.array(both), np.array(labels), np.array(groups)


def confusion(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[float, float, float]:
    """Cross-validated (by slide) error rate overall, DCIS called tumour, tumour called DCIS."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=0.5))
    folds = GroupKFold(n_splits=min(5, len(np.unique(groups))))
    predicted = cross_val_predict(model, x, y, groups=groups, cv=folds)
    wrong = predicted != y
    return float(wrong.mean()), float(wrong[y == 0].mean()), float(wrong[y == 1].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohort", type=Path, help="manifest.csv of an existing demo cohort")
    parser.add_argument("--slides", type=int, default=12)
    parser.add_argument("--size", type=int, default=4096, help="slide side in px at 0.5 mpp when generating")
    parser.add_argument("--per-class", type=int, default=25, help="tiles per class per slide")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--context", type=int, default=CONTEXT, help="context field of view, px at 2 mpp")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory(prefix="hookseg-context-") as scratch:
        manifest = args.cohort
        if manifest is None:
            start = time.perf_counter()
            manifest = generate_cohort(Path(scratch), slides=args.slides, new_domain=0, size=args.size,
                                       seed=args.seed, workers=args.workers)
            print(f"generated {args.slides} slides of {args.size} px in {time.perf_counter() - start:.1f} s")
        local, both, y, groups = sample_tiles(manifest, args.per_class, args.seed, args.context)
    print(f"{len(y)} tiles from {len(np.unique(groups))} slides: "
          f"{int((y == 0).sum())} DCIS, {int((y == 1).sum())} tumour")
    for name, x in (("tile only (0.5 mpp)", local), ("tile + context (0.5 + 2 mpp)", both)):
        error, dcis_as_tumour, tumour_as_dcis = confusion(x, y, groups)
        print(f"{name:30s} confusion {100 * error:5.1f}%  (DCIS->tumour {100 * dcis_as_tumour:5.1f}%, "
              f"tumour->DCIS {100 * tumour_as_dcis:5.1f}%)")


if __name__ == "__main__":
    main()
