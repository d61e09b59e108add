"""``hookseg demo-cohort OUT``: generate the synthetic demo cohort (slides, ground truth, annotations)."""

from __future__ import annotations

import argparse
import logging

from hookseg.errors import ConfigError

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo-cohort",
        help="generate a synthetic breast IHC cohort with full ground truth (rerun to resume)",
        description="Generate a synthetic multi-stain, multi-scanner cohort: pyramidal TIFF slides, "
        "fine-label "
        "ground-truth rasters, partial QuPath GeoJSON annotations and a manifest. Slides already finished "
        "with the same parameters are skipped.",
    )
    parser.add_argument("out", help="output folder (created; manifest.csv is written last)")
    parser.add_argument("--slides", type=int, default=24, help="train/val/test IHC slides (default 24)")
    parser.add_argument("--new-domain", type=int, default=6,
                        help="held-out H&E slides, scanner M, source DS7, split new_domain (default 6)")
    parser.add_argument("--unlabelled", type=int, default=0,
                        help="slides of the unlabelled pool (Ki67 and scanner C; the annotated slides then "
                        "avoid both): half train without annotations, half test (default 0)")
    parser.add_argument("--size", type=int, default=8192,
                        help="slide side in pixels at 0.5 mpp, i.e. 8192 = 4.1 mm; 0.25-mpp scanners "
                        "write twice as many pixels per side (default 8192)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stains", default="ER,PR,HER2,Ki67",
                        help="training stains (default ER,PR,HER2,Ki67)")
    parser.add_argument("--scanners", default="A,B,C", help="training scanners (default A,B,C)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--preview", action="store_true", help="also write OUT/contact_sheet.png")
    parser.set_defaults(func=run)


def _names(value: str, option: str) -> tuple[str, ...]:
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    if not names:
        msg = f"{option} needs a comma-separated list. Received: {option}={value!r}"
        raise ConfigError(msg)
    return names


def run(args: argparse.Namespace) -> int:
    from hookseg.synth import generate_cohort

    if args.workers is not None and args.workers < 1:
        msg = f"--workers must be at least 1. Received: --workers={args.workers}"
        raise ConfigError(msg)
    manifest = generate_cohort(
        args.out, slides=args.slides, new_domain=args.new_domain, unlabelled=args.unlabelled, size=args.size,
        seed=args.seed,
        stains=_names(args.stains, "--stains"), scanners=_names(args.scanners, "--scanners"),
        workers=args.workers, preview=args.preview,
    )
    print(manifest)
    return 0
