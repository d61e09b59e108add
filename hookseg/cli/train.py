"""``hookseg train``: one training stage (base or a master phase) from a config file and a manifest."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train one stage (base U-Net or dual-resolution master)")
    parser.add_argument("--config", required=True, help="training config (configs/demo.yaml, paper.yaml, ...)")
    parser.add_argument("--stage", default="base", choices=("base", "master"), help="section of the config")
    parser.add_argument("--manifest", required=True, help="cohort manifest CSV")
    parser.add_argument("--out", required=True, help="output model (.keras)")
    parser.add_argument("--metrics", required=True, help="output metrics JSON")
    parser.add_argument("--work", required=True, help="work folder: index, backups, run id (enables resume)")
    parser.add_argument("--labels", default=None, help="folder of label rasters <slide_id>.tiff "
                        "(default: rasterise the manifest's annotations into WORK/labels)")
    parser.add_argument("--init", default=None,
                        help="start from this model (.keras), or a phase name under models/; 'none' = random init")
    parser.add_argument("--classes", default=None, help="class map YAML (default configs/classes.yaml)")
    parser.add_argument("--run-name", default=None, help="MLflow stage name (default: --stage)")
    parser.add_argument("--epochs", type=int, default=None, help="override train.epochs")
    parser.add_argument("--lr0", type=float, default=None, help="override train.lr0")
    parser.add_argument("--class-weights", default=None, help="override: 'dynamic' or comma list, e.g. 1,2,1")
    parser.add_argument("--augment", default=None, help="override: comma list of presets ('' = none)")
    parser.add_argument("--style-bank", default=None, help="stylegan_aug bank for the `gan` preset ('none' = off)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hookseg.annotations import ClassMap  # noqa: PLC0415
    from hookseg.cohort import read_manifest  # noqa: PLC0415
    from hookseg.cohort.labels import rasterize_manifest  # noqa: PLC0415
    from hookseg.train.augment_hook import build_augment  # noqa: PLC0415
    from hookseg.train.config import load_stage_config  # noqa: PLC0415
    from hookseg.train.loop import train_stage  # noqa: PLC0415

    config = load_stage_config(args.config, args.stage)
    overrides = {}
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    if args.lr0 is not None:
        overrides["lr0"] = args.lr0
    if args.class_weights is not None:
        cw = args.class_weights.strip()
        overrides["class_weights"] = cw if cw == "dynamic" else [float(v) for v in cw.split(",")]
    if args.augment is not None:
        overrides["augment"] = [p for p in args.augment.split(",") if p]
    if args.style_bank is not None:
        overrides["style_bank"] = args.style_bank
    config = config.with_train(**overrides)
    manifest = read_manifest(args.manifest)
    work = Path(args.work)
    if args.labels:
        labels = {p.stem: p for p in sorted(Path(args.labels).glob("*.tiff"))}
    else:
        class_map = ClassMap.from_yaml(args.classes) if args.classes else ClassMap.default()
        labels = rasterize_manifest(manifest, class_map, work / "labels", mpp=config.data.label_mpp)
    metrics = train_stage(
        config, manifest=manifest, labels=labels, out_model=Path(args.out), metrics_path=Path(args.metrics),
        work_dir=work, stage=args.run_name or args.stage, init_model=_init_path(args.init, Path(args.out).parent),
        augment=build_augment(config),
    )
    ious = ", ".join(f"{k[4:]} {v:.3f}" for k, v in metrics.items() if k.startswith("iou_"))
    print(f"{args.out}: mean IoU {metrics['mean_iou']:.3f} on {metrics['split']} ({ious})")
    return 0


def _init_path(value: str | None, models_dir: Path) -> Path | None:
    """``none``/empty -> random init; a bare phase name (``p2``) -> ``models/p2.keras``; else a path."""
    if not value or value.lower() == "none":
        return None
    path = Path(value)
    return path if path.suffix == ".keras" else models_dir / f"{value}.keras"
