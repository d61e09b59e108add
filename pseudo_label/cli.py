"""``hookseg pseudo-label`` (also ``python -m pseudo_label``): label the training slides with model k-1."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hookseg.cli.options import add_workers_option


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("pseudo-label", help="pseudo-label every training slide with a model")
    parser.add_argument("--model", required=True, help="model k-1 (.keras)")
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--out", required=True, help="folder of label rasters <slide_id>.tiff + summaries")
    parser.add_argument("--threshold", type=float, default=None, help="keep argmax where max prob >= this")
    parser.add_argument("--params", default=None, help="params.yaml: take the threshold from --phase")
    parser.add_argument("--phase", default=None, help="phase name in params.yaml (e.g. p1)")
    parser.add_argument("--splits", default="train,val")
    parser.add_argument("--classes", default=None)
    parser.add_argument("--metrics", default=None,
                        help="JSON of flat pseudo-label quality metrics (DVC metrics); the full report is "
                             "OUT/quality.json and OUT/quality.md")
    parser.add_argument("--no-mlflow", action="store_true", help="do not log the quality to MLflow")
    add_workers_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hookseg.errors import ConfigError

    threshold = _threshold(args)
    if not Path(args.model).is_file():
        msg = f"{args.model}: model not found; train it first (`dvc repro`, or `hookseg train --out ...`)"
        raise ConfigError(msg, path=args.model)
    # Keras and Ray load only once the arguments are known to be good.
    from hookseg.cohort import read_manifest
    from hookseg.io import write_json
    from pseudo_label.labeller import read_summary
    from pseudo_label.quality import flat_metrics
    from pseudo_label.runner import label_cohort

    out = Path(args.out)
    manifest = read_manifest(args.manifest)
    done, failures = label_cohort(Path(args.model), manifest, threshold, out,
                                  splits=tuple(args.splits.split(",")), workers=args.workers,
                                  classes_path=args.classes)
    summaries = {sid: read_summary(path) for sid, path in sorted(done.items())}
    write_json(out / "summary.json", {"threshold": threshold, "slides": summaries})
    mean = sum(s["labelled_fraction"] for s in summaries.values()) / max(len(summaries), 1)
    print(f"{out}: {len(done)} slides labelled at threshold {threshold} (mean labelled fraction {mean:.2f}), "
          f"{len(failures)} failed")
    report = _quality(Path(args.model), manifest, summaries, out)
    flat = {"threshold": threshold, "labelled_fraction": round(mean, 4), **flat_metrics(report)}
    if args.metrics:
        write_json(args.metrics, flat)
    if not args.no_mlflow:
        _log_quality(args.phase or out.name, flat, out)
    for failure in failures:
        print(f"hookseg pseudo-label: error: {failure.item}: {failure.error}", file=sys.stderr)
    return 0 if done else 1


def _quality(model: Path, manifest: Any, summaries: dict[str, dict[str, Any]], out: Path) -> dict[str, Any]:
    """Pool the slides' label-quality counts; write OUT/quality.json and OUT/quality.md; print the tables."""
    from hookseg.io import atomic_write_text, write_json
    from hookseg.model_meta import read_meta
    from pseudo_label.quality import CohortQuality, QualityCounts, fine_tables, markdown

    class_map = read_meta(model).class_map
    records = {r.slide_id: r for r in manifest.records}
    cohort = CohortQuality(class_map.names)
    tables: dict[Path, tuple] = {}
    for sid, summary in summaries.items():
        if "quality" not in summary:  # labelled by an older hookseg: no counts
            continue
        truth = records[sid].ground_truth
        if truth is not None and truth.parent not in tables:
            tables[truth.parent] = fine_tables(truth, class_map)
        cohort.add(QualityCounts.from_json(summary["quality"]), *(tables[truth.parent] if truth else (None,)))
    report = cohort.report()
    write_json(out / "quality.json", report)
    text = markdown(report)
    atomic_write_text(out / "quality.md", text)
    print(text, end="")
    return report


def _log_quality(phase: str, flat: dict[str, float], out: Path) -> None:
    """The quality numbers as metrics of a ``pseudo-<phase>`` run (nested in the pipeline's parent run)."""
    import mlflow

    from hookseg.tracking import start_run

    with start_run(stage=f"pseudo-{phase}", config={"threshold": flat["threshold"]}):
        mlflow.log_metrics(flat)
        mlflow.log_artifact(str(out / "quality.md"))


def _threshold(args: argparse.Namespace) -> float:
    """``--threshold``, else the phase's threshold from the params file (the whole schedule is validated)."""
    from hookseg.errors import ConfigError
    from pseudo_label.schedule import get_phase

    if args.threshold is not None:
        return args.threshold
    if not (args.params and args.phase):
        msg = "give --threshold, or --params and --phase to read it from the schedule"
        raise ConfigError(msg)
    return get_phase(args.params, args.phase).threshold


def main(argv: Sequence[str] | None = None) -> int:
    from hookseg.cli import main as hookseg_main

    return hookseg_main(["pseudo-label", *(sys.argv[1:] if argv is None else argv)])
