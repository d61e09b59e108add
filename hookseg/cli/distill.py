"""``hookseg distill``: train a single-resolution U-Net student on a teacher's soft predictions."""

from __future__ import annotations

import argparse
from pathlib import Path

from hookseg.errors import ConfigError

DEFAULT_SEED = 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "distill", help="distil a (dual-resolution) teacher into a fast single-resolution U-Net student")
    parser.add_argument("--teacher", required=True, help="teacher model (.keras), e.g. models/p5.keras")
    parser.add_argument("--config", required=True,
                        help="training config whose `base` stage gives the student's decoder and optimiser")
    parser.add_argument("--manifest", required=True, help="manifest CSV: patches from its train slides")
    parser.add_argument("--out", required=True, help="output student model (.keras)")
    parser.add_argument("--epochs", type=int, default=None, help="default: base.train.epochs")
    parser.add_argument("--steps-per-epoch", type=int, default=None, help="default: base.train's")
    parser.add_argument("--encoder", default=None,
                        help="student encoder: b0..b7, or mnv3s (MobileNetV3Small: ~4x the demo teacher's "
                        "tiles/s); default: the base stage's")
    parser.add_argument("--decoder-filters", default=None,
                        help="student decoder widths, strides 16..1, comma list (default: the base stage's)")
    parser.add_argument("--temperature", type=float, default=1.0, help="distillation temperature (default 1)")
    parser.add_argument("--augment", default="",
                        help="colour presets for the student's input, comma list (flips are always on)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="patch draws and initial weights")
    parser.add_argument("--metrics", default=None, help="output JSON: agreement on val patches")
    parser.add_argument("--work", default=None, help="work folder: backups, MLflow run id (resume)")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hookseg.cohort import read_manifest
    from hookseg.distill import DistillSettings, distill
    from hookseg.model_meta import read_meta
    from hookseg.train.config import load_stage_config

    read_meta(args.teacher)  # a missing or foreign teacher fails in one line before anything is read
    config = load_stage_config(args.config, "base")
    settings = DistillSettings(
        epochs=_positive(args.epochs, "--epochs", config.train.epochs),
        steps_per_epoch=_positive(args.steps_per_epoch, "--steps-per-epoch", config.train.steps_per_epoch),
        seed=args.seed, temperature=_temperature(args.temperature), encoder=args.encoder,
        decoder_filters=_filters(args.decoder_filters),
        augment=tuple(p.strip() for p in args.augment.split(",") if p.strip()),
    )
    out = Path(args.out)
    if out.suffix != ".keras":
        msg = f"--out: expected a .keras file. Received: {args.out!r}"
        raise ConfigError(msg)
    metrics = distill(
        Path(args.teacher), config, read_manifest(args.manifest), settings, out,
        metrics_path=Path(args.metrics) if args.metrics else None,
        work_dir=Path(args.work) if args.work else None, track=not args.no_mlflow,
    )
    summary = f"{args.out}: {metrics['student_params']:,} parameters (teacher {metrics['teacher_params']:,})"
    if "agreement" in metrics:
        summary += f"; val agreement {metrics['agreement']:.3f}, mean KL {metrics['mean_kl']:.4f}"
    print(summary)
    return 0


def _positive(value: int | None, option: str, default: int) -> int:
    if value is None:
        return default
    if value < 1:
        msg = f"{option}: expected an integer >= 1. Received: {value}"
        raise ConfigError(msg)
    return value


def _filters(value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        filters = tuple(int(part) for part in value.split(","))
    except ValueError:
        filters = ()
    if len(filters) != 5 or min(filters) < 1:
        msg = f"--decoder-filters: expected 5 positive integers (strides 16, 8, 4, 2, 1). Received: {value!r}"
        raise ConfigError(msg)
    return filters


def _temperature(value: float) -> float:
    if not value > 0 or value == float("inf"):
        msg = f"--temperature: expected a positive number (1 = plain soft targets). Received: {value}"
        raise ConfigError(msg)
    return value
