"""SSIM and Lab colour distance of trained StyleGAN generators, per domain pair (and per mpp).

For every generator folder and each of its targets: SSIM(output, source) on luminance (goal >= 0.8) and
the sliced Wasserstein distance in Lab of source -> target, output -> target and a second target draw ->
target (the floor). Patches are fresh draws (``--seed``), not the training pool.

    python bench/stylegan_metrics.py --manifest /tmp/demo/cohort/manifest.csv runs/DS1-DS3 runs/DS1-DS7 \
        --per-mpp --gallery docs/img/stylegan_gallery.png
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from hookseg.cohort import read_manifest
from stylegan_aug.bank import read_meta
from stylegan_aug.evaluate import evaluate_generator, gallery
from stylegan_aug.gallery import write_png

HEADER = (f"{'pair':<22} {'mpp':>9} {'SSIM':>6} {'p05':>6} {'src->tgt':>9} {'out->tgt':>9} {'tgt->tgt':>9} "
          f"{'steps':>6} {'train s':>8}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("generators", nargs="+", type=Path, help="`hookseg stylegan train` output folders")
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--patches", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--per-mpp", action="store_true", help="also report each training mpp alone")
    parser.add_argument("--gallery", type=Path, default=None, help="PNG of source | styled | target rows")
    parser.add_argument("--json", type=Path, default=None, help="write the table as JSON")
    args = parser.parse_args(argv)

    manifest = read_manifest(args.manifest)
    print(HEADER)
    rows, shown = [], []
    for folder in args.generators:
        meta = read_meta(folder)
        settings = [None] + ([[m] for m in meta["mpps"]] if args.per_mpp and len(meta["mpps"]) > 1 else [])
        for mpps in settings:
            results = evaluate_generator(folder, manifest, patches=args.patches, seed=args.seed, mpps=mpps)
            label = "all" if mpps is None else f"{mpps[0]:g}"
            for ev in results:
                r = ev.report
                print(f"{ev.pair:<22} {label:>9} {r['ssim_mean']:6.3f} {r['ssim_p05']:6.3f} "
                      f"{r['color_source_target']:9.2f} {r['color_output_target']:9.2f} "
                      f"{r['color_target_target']:9.2f} {meta['steps']:6d} {meta['train_seconds']:8.0f}")
                rows.append({"pair": ev.pair, "mpp": label, **r, "steps": meta["steps"],
                             "train_seconds": meta["train_seconds"]})
            # The gallery shows the target field of view (the first mpp) when mpps are split.
            if (mpps is None and len(settings) == 1) or (mpps is not None and mpps[0] == meta["mpps"][0]):
                shown += results
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    if args.gallery:
        print(write_png(args.gallery, gallery(shown)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
