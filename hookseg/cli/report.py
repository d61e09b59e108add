"""``hookseg report``: the table of base and every phase on test and never-seen-domain slides."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="collect evaluate outputs into one per-phase table")
    parser.add_argument("--evals", required=True, help="folder holding <model>/metrics.json")
    models = parser.add_mutually_exclusive_group(required=True)
    models.add_argument("--params", help="params.yaml: report base and every phase of its schedule, in order")
    models.add_argument("--models", help="comma list in order, e.g. base,p1,p2")
    parser.add_argument("--out", required=True, help="JSON (DVC metrics)")
    parser.add_argument("--table", required=True, help="Markdown table")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hookseg.errors import ConfigError
    from hookseg.io import atomic_write_text, write_json

    if args.params:
        from pseudo_label.schedule import load_schedule

        models = load_schedule(args.params).models
    else:
        models = args.models.split(",")
    rows = {}
    for name in models:
        path = Path(args.evals) / name / "metrics.json"
        if not path.exists():
            msg = f"{path}: missing; run `hookseg evaluate --out {path.parent}` for model {name!r} first"
            raise ConfigError(msg, path=path)
        rows[name] = json.loads(path.read_text())
    classes = [k for k, v in next(iter(rows.values())).get("test", {}).items() if isinstance(v, dict)]
    table = {name: {cohort: {"mean_iou": m[cohort]["mean_iou"], **{c: m[cohort][c]["iou"] for c in classes}}
                    for cohort in ("test", "new_domain") if cohort in m} for name, m in rows.items()}
    write_json(args.out, table)
    lines = ["| model | cohort | mean IoU | " + " | ".join(f"IoU {c}" for c in classes) + " |",
             "|---|---|---|" + "---|" * len(classes)]
    for name, cohorts in table.items():
        for cohort, values in cohorts.items():
            lines.append(f"| {name} | {cohort} | {values['mean_iou']:.3f} | "
                         + " | ".join(f"{values[c]:.3f}" for c in classes) + " |")
    text = "\n".join(lines) + "\n"
    atomic_write_text(args.table, text)
    print(text, end="")
    if not args.no_mlflow:
        _log_to_parent(table, Path(args.table))
    return 0


def _log_to_parent(table: dict, markdown: Path) -> None:
    """Per-phase numbers as metrics of the report run (nested in the pipeline's parent run)."""
    import mlflow

    from hookseg.tracking import start_run

    with start_run(stage="report", config={"models": list(table)}):
        for step, cohorts in enumerate(table.values()):
            for cohort, values in cohorts.items():
                mlflow.log_metrics({f"{k}.{cohort}": v for k, v in values.items()}, step=step)
        mlflow.log_artifact(str(markdown))
