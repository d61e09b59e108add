"""How fast is the demo cohort generator? Seconds per slide, Mpx/s, and the default cohort's wall time.

Usage:
  python bench/synth_speed.py [--size 8192]            one slide per scanner (A, B, C, M), one process,
                                                       then the default cohort's time extrapolated
  python bench/synth_speed.py --cohort [--workers 2]   the whole default cohort (24 + 6 slides), timed
Options --slides/--new-domain/--size/--seed set the cohort; --out keeps the files (default: a temp folder).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hookseg.synth import generate_cohort, generate_slide, plan_cohort


def per_scanner(out: Path, size: int, seed: int, slides: int, new_domain: int, workers: int) -> None:
    cv2.setNumThreads(1)
    specs = plan_cohort(slides, new_domain, size_px=size, seed=seed)
    seconds: dict[str, float] = {}
    print(f"{'slide':22s} {'scanner':7s} {'mpp':>5s} {'level-0 px':>13s} {'prepare s':>9s} {'image s':>8s} "
          f"{'total s':>8s} {'Mpx/s':>6s}")
    for scanner in ("A", "B", "C", "M"):
        spec = next((s for s in specs if s.scanner == scanner), None)
        if spec is None:
            continue
        record = generate_slide(spec, out)
        t = record["seconds"]
        width, height = record["size_px"]
        mpx = width * height / 1e6
        seconds[scanner] = t["total_s"]
        print(f"{spec.slide_id:22s} {scanner:7s} {spec.mpp:5.2f} {width:>6d}x{height:<6d} "
              f"{t['prepare_s']:9.1f} "
              f"{t['image_s']:8.1f} {t['total_s']:8.1f} {mpx / t['total_s']:6.1f}")
    total = sum(seconds[s.scanner] for s in specs if s.scanner in seconds)
    print(f"extrapolated: {len(specs)} slides = {total:.0f} s of one core; on {workers} workers about "
          f"{total / workers:.0f} s ({total / workers / 60:.1f} min) if the cores are free")


def whole_cohort(out: Path, size: int, seed: int, slides: int, new_domain: int, workers: int) -> None:
    start = time.perf_counter()
    generate_cohort(out, slides=slides, new_domain=new_domain, size=size, seed=seed, workers=workers)
    wall = time.perf_counter() - start
    summary = json.loads((out / "cohort.json").read_text())
    records = summary["slides"].values()
    mpx = sum(r["size_px"][0] * r["size_px"][1] for r in records) / 1e6
    busy = sum(r["seconds"]["total_s"] for r in records)
    if summary["generated"] == 0:
        print(f"{len(summary['slides'])} slides, all finished already in {out}: nothing generated "
              f"({wall:.1f} s)")
        return
    print(f"{len(summary['slides'])} slides ({summary['generated']} generated), {mpx:.0f} Mpx level 0, "
          f"{workers} workers: {wall:.0f} s wall ({wall / 60:.1f} min), {mpx / wall:.1f} Mpx/s, "
          f"{busy / summary['generated']:.1f} s per slide in a worker")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohort", action="store_true",
                        help="time the whole cohort instead of one slide per scanner")
    parser.add_argument("--slides", type=int, default=24)
    parser.add_argument("--new-domain", type=int, default=6)
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="keep the generated files here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hookseg-synth-speed-") as scratch:
        out = args.out or Path(scratch)
        run = whole_cohort if args.cohort else per_scanner
        run(out, args.size, args.seed, args.slides, args.new_domain, args.workers)


if __name__ == "__main__":
    main()
