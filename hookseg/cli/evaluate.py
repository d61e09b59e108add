"""``hookseg evaluate``: IoU, Dice, precision, recall, specificity, AUC per class x stain/scanner/source."""

from __future__ import annotations

import argparse
from pathlib import Path

from hookseg.cli.options import add_workers_option


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("evaluate", help="evaluate a model on a manifest split against ground truth")
    parser.add_argument("--model", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--split", default="test", help="comma list of splits, e.g. test,new_domain")
    parser.add_argument("--out", required=True, help="folder for metrics.json, tables.csv, plots/, predictions/")
    parser.add_argument("--config", default=None, help="prediction settings (default configs/infer.yaml)")
    parser.add_argument("--classes", default=None, help="class map YAML (default configs/classes.yaml)")
    add_workers_option(parser)
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--run-name", default="evaluate", help="MLflow run name (stage tag)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hookseg.annotations import ClassMap  # noqa: PLC0415
    from hookseg.cohort import read_manifest  # noqa: PLC0415
    from hookseg.evaluate import evaluate  # noqa: PLC0415
    from hookseg.infer.params import InferParams  # noqa: PLC0415
    from hookseg.model_io import read_meta  # noqa: PLC0415

    read_meta(args.model)
    class_map = ClassMap.from_yaml(args.classes) if args.classes else ClassMap.default()
    metrics = evaluate(Path(args.model).resolve(), read_manifest(args.manifest), args.split.split(","),
                       Path(args.out), InferParams.from_yaml(args.config), class_map, classes_path=args.classes,
                       workers=args.workers, log_mlflow=not args.no_mlflow, run_name=args.run_name)
    for cohort in ("test", "new_domain"):
        if cohort in metrics:
            per_class = ", ".join(f"{n} {metrics[cohort][n]['iou']:.3f}" for n in class_map.names)
            print(f"{cohort}: {metrics[cohort]['slides']} slides, mean IoU {metrics[cohort]['mean_iou']:.3f} "
                  f"({per_class})")
    if metrics.get("failed_slides"):
        print(f"failed: {', '.join(metrics['failed_slides'])}")
        return 1
    return 0
