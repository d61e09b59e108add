"""``hookseg pseudo-label`` (also ``python -m pseudo_label``): label the training slides with model k-1."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hookseg.cli.options import add_workers_option

if TYPE_CHECKING:
    from pseudo_label.runner import LabelOptions


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("pseudo-label", help="pseudo-label every training slide with a model")
    parser.add_argument("--model", required=True, help="model k-1 (.keras)")
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--out", required=True, help="folder of label rasters <slide_id>.tiff + summaries")
    parser.add_argument("--threshold", type=float, default=None, help="keep argmax where max prob >= this")
    parser.add_argument("--params", default=None,
                        help="params.yaml: take the threshold and the switches below from --phase")
    parser.add_argument("--phase", default=None, help="phase name in params.yaml (e.g. p1)")
    parser.add_argument("--target-precision", type=float, default=None,
                        help="per-class thresholds (>= the threshold) reaching this precision on held-out "
                             "(val) annotations; a class that never does gets no labels")
    parser.add_argument("--border-um", type=float, default=None,
                        help="ignore pixels within this many microns of a change of the model's class")
    parser.add_argument("--tta", type=int, default=None, choices=[0, 2, 4],
                        help="teacher test-time flips: 0 none, 2 horizontal, 4 horizontal and vertical")
    parser.add_argument("--splits", default="train,val")
    parser.add_argument("--classes", default=None)
    parser.add_argument("--metrics", default=None,
                        help="JSON of flat pseudo-label quality metrics (DVC metrics); the full report is "
                             "OUT/quality.json and OUT/quality.md")
    parser.add_argument("--no-mlflow", action="store_true", help="do not log the quality to MLflow")
    add_workers_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hookseg.errors import ModelError

    options = _options(args)
    threshold = options.threshold
    if not Path(args.model).is_file():
        msg = f"{args.model}: model not found; train it first (`dvc repro`, or `hookseg train --out ...`)"
        raise ModelError(msg, path=args.model)
    if not args.no_mlflow:
        from hookseg.tracking import check_server

        check_server()  # a dead tracking server fails here, not after the cohort is labelled
    # Keras and Ray load only once the arguments are known to be good.
    from hookseg.cohort import read_manifest
    from hookseg.io import write_json
    from pseudo_label.calibrate import Calibration
    from pseudo_label.labeller import read_summary
    from pseudo_label.quality import flat_metrics
    from pseudo_label.runner import label_cohort

    out = Path(args.out)
    manifest = read_manifest(args.manifest)
    done, failures = label_cohort(Path(args.model), manifest, threshold, out,
                                  splits=tuple(args.splits.split(",")), workers=args.workers,
                                  classes_path=args.classes, options=options)
    summaries = {sid: read_summary(path) for sid, path in sorted(done.items())}
    calibration = _calibration(out)
    write_json(out / "summary.json", {"threshold": threshold, "options": asdict(options),
                                      "calibration": calibration, "slides": summaries})
    mean = sum(s["labelled_fraction"] for s in summaries.values()) / max(len(summaries), 1)
    predict_s = sum(s.get("predict_s", 0.0) for s in summaries.values())  # both passes
    predict_s += calibration.get("predict_s", 0.0) if calibration else 0.0
    print(f"{out}: {len(done)} slides labelled at threshold {threshold} (border {options.border_um} um, tta "
          f"{options.tta}; mean labelled fraction {mean:.2f}; {predict_s:.0f} s predicting), "
          f"{len(failures)} failed")
    if calibration is not None:
        print(f"per-class thresholds for held-out precision >= {options.target_precision} "
              f"(floor {threshold}):")
        print("\n".join(Calibration.from_json(calibration).lines()))
    report = _quality(Path(args.model), manifest, summaries, out)
    flat = {"threshold": threshold, "labelled_fraction": round(mean, 4), "border_um": options.border_um,
            "tta": options.tta, "predict_s": round(predict_s, 1), **_threshold_metrics(calibration),
            **flat_metrics(report)}
    if args.metrics:
        write_json(args.metrics, flat)
    if not args.no_mlflow:
        _log_quality(args.phase or out.name, flat, out)
    for failure in failures:
        print(f"hookseg pseudo-label: error: {failure.item}: {failure.error}", file=sys.stderr)
    return 0 if done else 1


def _quality(model: Path, manifest: Any, summaries: dict[str, dict[str, Any]], out: Path) -> dict[str, Any]:
    """Pool the slides' label-quality counts; write OUT/quality.json and OUT/quality.md; print the tables."""
    from hookseg.evaluate.truth import fine_tables
    from hookseg.io import atomic_write_text, write_json
    from hookseg.model_meta import read_meta
    from pseudo_label.quality import CohortQuality, QualityCounts, markdown

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

    config = {k: flat[k] for k in ("threshold", "border_um", "tta")}
    with start_run(stage=f"pseudo-{phase}", config=config):
        mlflow.log_metrics(flat)
        mlflow.log_artifact(str(out / "quality.md"))


def _calibration(out: Path) -> dict[str, Any] | None:
    import json

    path = out / "calibration.json"
    return json.loads(path.read_text()) if path.exists() else None


def _threshold_metrics(calibration: dict[str, Any] | None) -> dict[str, float]:
    """``threshold.<class>`` per calibrated class (2.0: the class got no labels)."""
    if calibration is None:
        return {}
    return {f"threshold.{name}": round(float(t), 4) for name, t in calibration["thresholds"].items()}


def _options(args: argparse.Namespace) -> LabelOptions:
    """The phase's settings from the params file (the whole schedule is validated), flags overriding them."""
    from hookseg.errors import ConfigError
    from pseudo_label.runner import LabelOptions
    from pseudo_label.schedule import get_phase

    if args.threshold is not None:
        options = LabelOptions(args.threshold)
    elif args.params and args.phase:
        phase = get_phase(args.params, args.phase)
        options = LabelOptions(phase.threshold, phase.target_precision, phase.border_um, phase.tta)
    else:
        msg = "give --threshold, or --params and --phase to read it from the schedule"
        raise ConfigError(msg)
    overrides = {"target_precision": args.target_precision, "border_um": args.border_um, "tta": args.tta}
    options = replace(options, **{k: v for k, v in overrides.items() if v is not None})
    checks = (("--threshold", "a probability in (0, 1]", options.threshold, 0.0 < options.threshold <= 1.0),
              ("--target-precision", "a precision in (0, 1]", options.target_precision,
               options.target_precision is None or 0.0 < options.target_precision <= 1.0),
              ("--border-um", "microns >= 0", options.border_um, options.border_um >= 0.0))
    for flag, expected, value, ok in checks:
        if not ok:
            msg = f"{flag}: expected {expected}. Received: {value}"
            raise ConfigError(msg)
    return options


def main(argv: Sequence[str] | None = None) -> int:
    from hookseg.cli import main as hookseg_main

    return hookseg_main(["pseudo-label", *(sys.argv[1:] if argv is None else argv)])
