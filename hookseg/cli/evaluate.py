"""``hookseg evaluate``: IoU, Dice, precision, recall, specificity, AUC per class x stain/scanner/source.

The classes are the model's own (its saved class map). Scoring predictions that already exist imports
neither Keras nor TensorFlow.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hookseg.cli.options import add_workers_option


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("evaluate", help="score a model on manifest splits against truth")
    parser.add_argument("--model", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--split", default="test", help="comma list of splits, e.g. test,new_domain")
    parser.add_argument("--out", required=True, help="folder: metrics.json, tables.csv, plots/, predictions/")
    parser.add_argument("--config", default=None, help="prediction settings (default configs/infer.yaml)")
    add_workers_option(parser)
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--run-name", default="evaluate", help="MLflow run name (stage tag)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hookseg.cohort import read_manifest
    from hookseg.evaluate.run import cohort_names, evaluate
    from hookseg.infer.params import InferParams
    from hookseg.model_meta import read_meta
    from hookseg.tracking import check_server

    if not args.no_mlflow:
        check_server()  # a dead tracking server fails here, not after every slide is predicted
    names = read_meta(args.model).class_names  # fails fast, in one line, on a bad model file
    manifest = read_manifest(args.manifest)
    splits = [s.strip() for s in args.split.split(",") if s.strip()]
    manifest.select(splits)  # an unknown or empty split fails here, before any slide is predicted
    metrics = evaluate(Path(args.model).resolve(), manifest, splits,
                       Path(args.out), InferParams.from_yaml(args.config), workers=args.workers,
                       log_mlflow=not args.no_mlflow, run_name=args.run_name)
    for cohort in cohort_names(metrics):
        per_class = ", ".join(f"{n} {metrics[cohort][n]['iou']:.3f}" for n in names)
        print(f"{cohort}: {metrics[cohort]['slides']} slides, mean IoU {metrics[cohort]['mean_iou']:.3f} "
              f"({per_class})")
    if metrics.get("failed_slides"):
        print(f"failed: {', '.join(metrics['failed_slides'])}")
        return 1
    return 0
