"""``hookseg stylegan train | bank | eval``: train a source -> target GAN, bundle generators, measure them."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("stylegan",
                                   help="StyleGAN stain/scanner transfer (the `gan` preset's bank)")
    commands = parser.add_subparsers(dest="stylegan_command", metavar="ACTION", required=True)

    train = commands.add_parser("train", help="train a generator from one domain to one or more others")
    train.add_argument("--manifest", required=True, type=Path, help="cohort manifest CSV")
    train.add_argument("--source", required=True,
                       help="source domain: a data source (DS1) or COLUMN=VALUE[,VALUE] (scanner=A)")
    train.add_argument("--target", required=True, action="append",
                       help="target domain, same syntax; repeat for a multi-target generator")
    train.add_argument("--out", required=True, type=Path, help="output folder (rerun to resume)")
    train.add_argument("--config", type=Path, default=None, help="default configs/stylegan.yaml")
    train.add_argument("--profile", default="demo", help="profile in the config (demo | paper)")
    train.add_argument("--steps", type=int, default=None, help="override train.steps")
    train.add_argument("--seed", type=int, default=None, help="override train.seed")
    train.add_argument("--max-minutes", type=float, default=None,
                       help="stop (checkpoint + export) after this many minutes of training")
    train.add_argument("--no-mlflow", action="store_true", help="do not log to MLflow")
    train.set_defaults(func=run_train)

    bank = commands.add_parser("bank", help="bundle trained generators into one style bank file")
    bank.add_argument("--generator", required=True, action="append", type=Path,
                      help="a `stylegan train` output folder; repeat for several")
    bank.add_argument("--weight", action="append", type=float, default=None,
                      help="relative probability of each generator (default equal)")
    bank.add_argument("--out", required=True, type=Path, help="bank JSON file (or folder for bank.json)")
    bank.add_argument("--preview", type=Path, default=None, help="PNG: one patch under every style")
    bank.add_argument("--image", type=Path, default=None,
                      help="patch for --preview (default: the shared real IHC patch)")
    bank.set_defaults(func=run_bank)

    ev = commands.add_parser("eval", help="SSIM and Lab colour distance of a generator on fresh patches")
    ev.add_argument("--generator", required=True, type=Path, help="a `stylegan train` output folder")
    ev.add_argument("--manifest", required=True, type=Path)
    ev.add_argument("--patches", type=int, default=128, help="patches per domain (default 128)")
    ev.add_argument("--mpp", type=float, action="append", default=None, help="override the training mpps")
    ev.add_argument("--seed", type=int, default=1234)
    ev.add_argument("--out", type=Path, default=None, help="metrics JSON")
    ev.add_argument("--gallery", type=Path, default=None, help="PNG: source | styled | target rows")
    ev.set_defaults(func=run_eval)


def run_train(args: argparse.Namespace) -> int:
    from hookseg.cohort import read_manifest
    from stylegan_aug.config import load_config
    from stylegan_aug.train import train_stylegan

    config = load_config(args.config, args.profile).replace_train(steps=args.steps, seed=args.seed)
    budget = None if args.max_minutes is None else 60.0 * args.max_minutes
    result = train_stylegan(config, read_manifest(args.manifest), args.source, args.target, args.out,
                            track=not args.no_mlflow, time_budget_s=budget)
    for pair, report in result.metrics.items():
        print(f"{args.source}->{pair}: SSIM {report['ssim_mean']:.3f}, Lab colour distance source->target "
              f"{report['color_source_target']:.2f}, output->target {report['color_output_target']:.2f} "
              f"(target->target {report.get('color_target_target', float('nan')):.2f})")
    print(f"{result.out}: {result.steps} steps, {result.seconds:.0f} s of training")
    return 0


def run_bank(args: argparse.Namespace) -> int:
    from stylegan_aug.bank import load_bank, write_bank

    path = write_bank(args.out, args.generator, args.weight)
    bank = load_bank(path)
    print(f"{path}: {len(bank.styles)} style(s): {', '.join(bank.style_names())}")
    if args.preview is not None:
        import numpy as np

        from hookseg.cli.augment import read_rgb
        from stylegan_aug.gallery import image_grid, write_png

        image = read_rgb(args.image) if args.image else _demo_patch()
        styled = [np.stack([bank.apply(image, seed, style=i) for seed in range(4)])
                  for i in range(len(bank.styles))]
        grid = image_grid([image[None], *styled], ["input", *bank.style_names()], cell=128)
        print(write_png(args.preview, grid))
    return 0


def _demo_patch():
    import cv2

    from hookseg.config import CONFIG_DIR

    path = CONFIG_DIR.parent.parent / "shared" / "realdata" / "skimage_ihc.png"
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        from hookseg.errors import ConfigError

        msg = f"{path}: default preview patch not found. Pass --image PATCH.png"
        raise ConfigError(msg, path=path)
    patch = cv2.resize(bgr[:256, :256], (128, 128), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(patch, cv2.COLOR_BGR2RGB)


def run_eval(args: argparse.Namespace) -> int:
    from hookseg.cohort import read_manifest
    from hookseg.io import write_json
    from stylegan_aug.evaluate import evaluate_generator, gallery
    from stylegan_aug.gallery import write_png

    results = evaluate_generator(args.generator, read_manifest(args.manifest), patches=args.patches,
                                 seed=args.seed, mpps=args.mpp)
    for ev in results:
        r = ev.report
        print(f"{ev.pair}: SSIM {r['ssim_mean']:.3f} (p05 {r['ssim_p05']:.3f}), Lab colour distance "
              f"source->target {r['color_source_target']:.2f}, "
              f"output->target {r['color_output_target']:.2f}, "
              f"target->target {r['color_target_target']:.2f}")
    if args.out:
        write_json(args.out, {ev.pair: ev.report for ev in results})
    if args.gallery:
        print(write_png(args.gallery, gallery(results)))
    return 0
