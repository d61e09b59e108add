"""``hookseg train``: one training stage (base or a master phase) from a config file and a manifest."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from hookseg.errors import ConfigError

if TYPE_CHECKING:
    from hookseg.annotations import ClassMap


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train one stage (base U-Net or dual-resolution master)")
    parser.add_argument("--config", required=True, help="training config (configs/demo.yaml, ...)")
    parser.add_argument("--stage", default="base", choices=("base", "master"), help="section of the config")
    parser.add_argument("--manifest", required=True, help="cohort manifest CSV")
    parser.add_argument("--out", required=True, help="output model (.keras)")
    parser.add_argument("--metrics", required=True, help="output metrics JSON")
    parser.add_argument("--work", required=True, help="work folder: index, backups, run id (enables resume)")
    parser.add_argument("--labels", default=None, help="folder of label rasters <slide_id>.tiff "
                        "(default: rasterise the manifest's annotations into WORK/labels)")
    parser.add_argument("--init", default=None,
                        help="start from this model (.keras) or a phase name under models/; 'none' = random")
    parser.add_argument("--classes", default=None,
                        help="class map YAML (default configs/classes.yaml) for a stage without --init or a "
                        "--labels folder that records its map; with them it must match theirs")
    parser.add_argument("--run-name", default=None, help="MLflow stage name (default: --stage)")
    parser.add_argument("--epochs", type=int, default=None, help="override train.epochs")
    parser.add_argument("--lr0", type=float, default=None, help="override train.lr0")
    parser.add_argument("--class-weights", default=None,
                        help="override: 'dynamic', 'pixel' (from sampled pixel shares) or a list, e.g. 1,2,1")
    parser.add_argument("--seed", default=None,
                        help="override train.seed: an integer, or 'stage' = a stable hash of the run name "
                        "(each phase draws other batches)")
    parser.add_argument("--schedule", default=None, choices=("cyclic", "warmup_cosine"),
                        help="override train.schedule: the paper's stepwise cyclic LR, or a linear warm-up "
                        "(train.warmup_steps) then a cosine to lr0 * train.lr_floor at the stage's last step")
    parser.add_argument("--warmup-steps", type=int, default=None, help="override train.warmup_steps")
    parser.add_argument("--augment", default=None, help="override: comma list of presets ('' = none)")
    parser.add_argument("--style-bank", default=None, help="stylegan_aug bank for `gan` ('none' = off)")
    parser.add_argument("--teacher", default=None,
                        help="soft targets: a model (.keras, or a phase name under models/) whose softmax on "
                        "tissue of every training slide, annotated or not, fills --soft-share of each batch "
                        "(the stage's labels win; colour presets on the student's view only); the rest of "
                        "the batch is drawn as without it (see --hard-labels)")
    parser.add_argument("--hard-labels", choices=("pseudo", "manual"), default="pseudo",
                        help="where the rest of each batch takes its labels: the --labels folder as given "
                        "(pseudo) or the manifest's annotations alone, rasterised into WORK/labels (manual; "
                        "what --labels is then for is only the pipeline's stage order)")
    parser.add_argument("--soft-share", type=float, default=0.5,
                        help="with --teacher: the share of each batch that is teacher-labelled (default 0.5; "
                        "0 = the teacher is not used)")
    parser.add_argument("--soft-augment", default="same",
                        help="with --teacher: colour-only presets for the teacher-labelled patches, e.g. "
                        "heavy_color,color_noise "
                        "('same' = the colour presets of --augment; 'none' = no preset)")
    parser.add_argument("--tissue-config", default=None,
                        help="YAML with a `tissue` section (configs/slides.yaml's keys): the mask this stage "
                        "draws patch centres and soft-target cells from, recorded in the model so that its "
                        "predictions tile the same (default: the stage config's `tissue`, else "
                        "configs/slides.yaml)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hookseg.cohort import read_manifest
    from hookseg.cohort.labels import rasterize_manifest
    from hookseg.train.augment_hook import build_augment
    from hookseg.train.config import load_stage_config, stage_seed
    from hookseg.train.loop import train_stage

    config = load_stage_config(args.config, args.stage)
    overrides = {}
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    if args.lr0 is not None:
        overrides["lr0"] = args.lr0
    if args.class_weights is not None:
        cw = args.class_weights.strip()
        overrides["class_weights"] = cw if cw in ("dynamic", "pixel") else _floats(cw, "--class-weights")
    if args.augment is not None:
        overrides["augment"] = [p for p in args.augment.split(",") if p]
    if args.style_bank is not None:
        overrides["style_bank"] = args.style_bank
    if args.schedule is not None:
        overrides["schedule"] = args.schedule
    if args.warmup_steps is not None:
        overrides["warmup_steps"] = args.warmup_steps
    if not 0.0 <= args.soft_share < 1.0:
        msg = f"--soft-share: expected a share of the batch in [0, 1). Received: {args.soft_share}"
        raise ConfigError(msg)
    seed = config.train.seed if args.seed is None else _seed_arg(args.seed)
    overrides["seed"] = stage_seed(seed, args.run_name or args.stage)  # before the augment takes it
    config = config.with_train(**overrides)
    if args.tissue_config:
        from dataclasses import replace

        from hookseg.slides import TissueParams

        config = replace(config, tissue=TissueParams.from_yaml(args.tissue_config))
    augment = build_augment(config)  # a preset or bank problem fails before any label raster is written
    soft_augment = _soft_augment(args.soft_augment)
    init = _init_path(args.init, Path(args.out).parent)
    class_map = stage_class_map(args.classes, init, args.labels)
    manifest = read_manifest(args.manifest)
    work = Path(args.work)
    if args.labels and args.hard_labels == "pseudo":
        labels = {p.stem: p for p in sorted(Path(args.labels).glob("*.tiff"))}
    else:
        labels = rasterize_manifest(manifest, class_map, work / "labels", mpp=config.data.label_mpp)
    metrics = train_stage(
        config, manifest=manifest, labels=labels, out_model=Path(args.out), metrics_path=Path(args.metrics),
        work_dir=work, stage=args.run_name or args.stage, init_model=init, augment=augment,
        class_map=class_map, soft_share=args.soft_share, soft_augment=soft_augment,
        teacher=_init_path(args.teacher, Path(args.out).parent) if args.soft_share > 0 else None,
    )
    ious = ", ".join(f"{k[4:]} {v:.3f}" for k, v in metrics.items() if k.startswith("iou_"))
    print(f"{args.out}: mean IoU {metrics['mean_iou']:.3f} on {metrics['split']} ({ious})")
    return 0


def _soft_augment(text: str) -> list[str] | None:
    """``--soft-augment``: None for 'same' (the colour presets of --augment), [] for 'none', else colour
    presets, checked here (an unknown or warping preset is a one-line error) before any label raster."""
    from hookseg.train.soft_targets import check_colour_presets

    if text.strip() == "same":
        return None
    return check_colour_presets([p for p in text.split(",") if p and p != "none"])


def stage_class_map(classes: str | None, init: Path | None, labels: str | None) -> ClassMap:
    """The stage's class map: the init model's, else the one recorded with the label rasters, else --classes.

    A map given with --classes that differs from the one the model or the labels carry is a one-line error.
    """
    from hookseg.annotations import ClassMap
    from hookseg.cohort.labels import read_folder_class_map
    from hookseg.model_meta import read_meta

    given = ClassMap.from_yaml(classes) if classes else None
    carried = [(f"{init}", read_meta(init).class_map)] if init is not None else []
    recorded = read_folder_class_map(labels) if labels else None
    if recorded is not None:
        carried.append((f"{labels}/class_map.json", recorded))
    if given is not None:
        carried.append((classes, given))
    if not carried:
        return ClassMap.default()
    source, first = carried[0]
    for other_source, other in carried[1:]:
        if (other.names, other.ignore_id) != (first.names, first.ignore_id):
            msg = (f"{other_source}:classes: expected the classes of {source}, {list(first.names)} (ignore "
                   f"{first.ignore_id}). Received: {list(other.names)} (ignore {other.ignore_id})")
            raise ConfigError(msg, path=other_source)
    return first


def _seed_arg(value: str) -> int | str:
    text = value.strip()
    if text == "stage":
        return text
    try:
        return int(text)
    except ValueError:
        msg = f"--seed: expected an integer or 'stage'. Received: {value!r}"
        raise ConfigError(msg) from None


def _floats(value: str, option: str) -> list[float]:
    try:
        return [float(v) for v in value.split(",")]
    except ValueError:
        msg = f"{option}: expected 'dynamic', 'pixel' or a comma list of numbers. Received: {value!r}"
        raise ConfigError(msg) from None


def _init_path(value: str | None, models_dir: Path) -> Path | None:
    """``none``/empty -> random init; a bare phase name (``p2``) -> ``models/p2.keras``; else a path."""
    if not value or value.lower() == "none":
        return None
    path = Path(value)
    return path if path.suffix == ".keras" else models_dir / f"{value}.keras"
