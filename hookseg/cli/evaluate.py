"""``hookseg evaluate``: IoU, Dice, precision, recall, specificity, AUC per class x stain/scanner/source.
``hookseg tissue-coverage``: how much of each ground-truth label the prediction's tissue mask keeps.

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

    coverage = subparsers.add_parser(
        "tissue-coverage", help="share of each ground-truth label inside the tissue mask (a recall ceiling)")
    coverage.add_argument("--manifest", required=True)
    coverage.add_argument("--split", default="test", help="comma list of splits, e.g. val,test,new_domain")
    coverage.add_argument("--classes", default=None, help="class map (default configs/classes.yaml)")
    coverage.add_argument("--tissue-config", default=None,
                          help="YAML whose `tissue` section replaces configs/slides.yaml's (compare masks)")
    coverage.add_argument("--out", default=None, help="also write the tables as JSON here")
    coverage.set_defaults(func=run_coverage)


def run_coverage(args: argparse.Namespace) -> int:
    from hookseg.annotations.classes import ClassMap
    from hookseg.cohort import read_manifest
    from hookseg.errors import ManifestError
    from hookseg.evaluate.tissue_coverage import cohort_coverage, coverage_markdown
    from hookseg.io import write_json
    from hookseg.slides import TissueParams

    manifest = read_manifest(args.manifest)
    records = manifest.select(_splits(args.split))
    params = TissueParams.from_yaml(args.tissue_config) if args.tissue_config else None
    pooled = cohort_coverage(records, ClassMap.default(args.classes), params)
    if not pooled:
        msg = (f"{args.manifest}: no slide of split {args.split!r} has a full ground-truth raster "
               f"(column ground_truth)")
        raise ManifestError(msg)
    print(coverage_markdown(pooled))
    if args.out:
        write_json(args.out, {split: {label: {"inside": c.inside[label], "pixels": c.total[label],
                                              "share": round(c.share(label), 4)} for label in c.total}
                              for split, c in pooled.items()})
    return 0


def _splits(value: str) -> list[str]:
    """``--split``'s comma list, blanks dropped."""
    return [s.strip() for s in value.split(",") if s.strip()]


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
    splits = _splits(args.split)
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
