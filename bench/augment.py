"""Milliseconds per paired 512-px sample (target + context + both labels) for each phase, on one core.

``python bench/augment.py [--config configs/augment.yaml] [--params params.yaml] [--n 200] [--size 512]
[--ratio 4]``. The phases and their presets come from params.yaml (``train_base.augment`` as ``base``,
``phases.<p>.augment``), plus ``deform``: basic + deform + xy_jitter, which the schedule leaves out.
Goal (docs/augmentations.md): the phase-5 pipeline within 25 ms, so one loader core feeds ~40 samples/s.
Uses the real IHC patch from ../shared/realdata when present, else a synthetic one.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2
import numpy as np

from hookseg.augment import PairedAugment, load_config
from hookseg.cli.augment import read_rgb, synthetic_ihc_patch
from hookseg.config import load_yaml

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "realdata" / "skimage_ihc.png"


def phase_presets(params_path: Path) -> dict[str, list[str]]:
    """Preset lists of the base stage and every phase in params.yaml, the schedule's one home."""
    params = load_yaml(params_path)
    lists = {"base": params["train_base"]["augment"]}
    lists.update({name: phase["augment"] for name, phase in params["phases"].items()})
    lists["deform"] = "basic,deform,xy_jitter"
    return {name: [p for p in text.split(",") if p] for name, text in lists.items()}


def sample(size: int, ratio: float) -> tuple[np.ndarray, ...]:
    image = read_rgb(REAL) if REAL.exists() else synthetic_ihc_patch(512)
    target = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    inner = max(int(round(size / ratio)), 1)
    context = cv2.resize(image, (inner, inner), interpolation=cv2.INTER_AREA)
    pad = (size - inner) // 2
    context = cv2.copyMakeBorder(
        context, pad, size - inner - pad, pad, size - inner - pad, cv2.BORDER_REFLECT_101
    )
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, (size // 16, size // 16)).astype(np.uint8)
    target_labels = cv2.resize(labels, (size, size), interpolation=cv2.INTER_NEAREST)
    context_labels = cv2.resize(labels, (size, size), interpolation=cv2.INTER_NEAREST)
    return target, target_labels, context, context_labels


def tune_malloc(nbytes: int = 256 << 20) -> bool:
    """Keep freed buffers in the heap (glibc mallopt): fresh mmap'd 1-3 MB arrays page-fault on every call.

    M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3 (malloc.h). Same as MALLOC_TRIM_THRESHOLD_ /
    MALLOC_MMAP_THRESHOLD_ in the environment of a loader worker.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(-1, nbytes)) and bool(libc.mallopt(-3, nbytes))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--n", type=int, default=200, help="samples per phase")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--ratio", type=float, default=4.0)
    parser.add_argument("--tune-malloc", action="store_true", help="raise glibc's mmap/trim thresholds first")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    tuned = tune_malloc() if args.tune_malloc else False
    config = load_config(args.config)
    arrays = sample(args.size, args.ratio)
    print(
        f"augment bench: {args.size} px target + context + labels, ratio {args.ratio}, cv2 threads "
        f"{cv2.getNumThreads()}, n={args.n} per phase, malloc tuned: {tuned}"
    )
    print(f"{'phase':<6} {'mean ms':>8} {'median':>8} {'p95':>8} {'samples/s':>9}  presets")
    worst = 0.0
    phases = phase_presets(args.params)
    for phase, presets in phases.items():
        aug = PairedAugment(presets, config, ratio=args.ratio, seed=0)
        rng = np.random.default_rng(0)
        for _ in range(5):
            aug(*arrays, rng=rng)
        times = []
        for _ in range(args.n):
            start = time.perf_counter()
            aug(*arrays, rng=rng)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        mean = statistics.fmean(times)
        worst = mean if phase == "p5" else worst
        print(
            f"{phase:<6} {mean:8.1f} {statistics.median(times):8.1f} {times[int(0.95 * len(times))]:8.1f} "
            f"{1000 / mean:9.1f}  {', '.join(presets)}"
        )
    if "p5" in phases:
        print(f"phase-5 goal <= 25 ms: {'met' if worst <= 25 else 'NOT met'} ({worst:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
