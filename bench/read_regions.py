"""Regions per second: 512x512 reads at 0.5 and 2.0 mpp from a generated 20k x 20k pyramidal TIFF.

Usage: python bench/read_regions.py [--size 20000] [--mpp 0.25] [--reads 200] [--keep PATH]
Also prints the writer's throughput and this process's peak RSS (the writer streams tile rows).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hookseg.slides import open_slide, write_pyramid


def tissue_like_tiles(seed: int = 0):
    """A repeating textured tile bank: cheap to produce, not trivially compressible."""
    rng = np.random.default_rng(seed)
    bank = []
    for _ in range(16):
        small = rng.integers(60, 250, (40, 40, 3), dtype=np.uint8)
        tile = cv2.resize(small, (256, 256), interpolation=cv2.INTER_CUBIC)
        tile = np.clip(tile.astype(np.int16) + rng.integers(-12, 12, tile.shape), 0, 255).astype(np.uint8)
        bank.append(tile)

    def tile_fn(x: int, y: int, w: int, h: int) -> np.ndarray:
        return bank[(x // 256 * 7 + y // 256 * 3) % len(bank)][:h, :w]

    return tile_fn


def bench_reads(path: Path, backend: str | None, mpp: float, reads: int, seed: int = 1) -> float:
    with open_slide(path, backend=backend) as slide:
        width, height = slide.dimensions
        span = 512 * mpp / slide.mpp
        rng = np.random.default_rng(seed)
        xs = rng.uniform(0, width - span, reads)
        ys = rng.uniform(0, height - span, reads)
        slide.read((xs[0], ys[0]), (512, 512), mpp)  # warm caches, open handles
        start = time.perf_counter()
        for x, y in zip(xs, ys, strict=True):
            slide.read((float(x), float(y)), (512, 512), mpp)
        return reads / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--mpp", type=float, default=0.25, help="level-0 mpp of the generated slide")
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--keep", type=Path, default=None, help="write the slide here and keep it")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.tif"
        start = time.perf_counter()
        write_pyramid(path, (args.size, args.size), tissue_like_tiles(), mpp=args.mpp)
        seconds = time.perf_counter() - start
        mpx = args.size * args.size / 1e6
        print(f"write {args.size}x{args.size} @ {args.mpp} mpp: {seconds:.1f} s ({mpx / seconds:.1f} Mpx/s), "
              f"{path.stat().st_size / 2**20:.0f} MiB")
        print(f"peak RSS after write: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
        for backend in ("openslide", "tifffile"):
            for mpp in (0.5, 2.0):
                rate = bench_reads(path, backend, mpp, args.reads)
                print(f"{backend:9s} 512x512 @ {mpp} mpp: {rate:6.1f} regions/s (single thread)")


if __name__ == "__main__":
    main()
