"""``hookseg report``: base and every phase on test and never-seen-domain slides, with slide-bootstrap CIs.

Reads each model's ``eval/<model>/slides.json`` (per-slide confusions from ``hookseg evaluate``), so the CIs
and the paired comparisons against the base resample slides rather than trusting pooled point estimates.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="collect evaluate outputs into one per-phase table")
    parser.add_argument("--evals", required=True, help="folder holding <model>/slides.json")
    models = parser.add_mutually_exclusive_group(required=True)
    models.add_argument("--params", help="params.yaml: report base and every phase of its schedule, in order")
    models.add_argument("--models", help="comma list in order, the base first, e.g. base,p1,p2")
    parser.add_argument("--final", default=None,
                        help="model compared per stain/scanner/source (default: params.yaml `final`, "
                             "else the last model)")
    parser.add_argument("--controls", default="",
                        help="comma list of control models under --evals (dvc.yaml: control_steps, "
                        "control_manual): reported, and the final model is compared with each, paired")
    parser.add_argument("--students", default="",
                        help="comma list of students distilled from the final model, under --evals "
                        "(dvc.yaml: student): reported, and the final model is compared with each, paired")
    parser.add_argument("--out", required=True, help="JSON (DVC metrics)")
    parser.add_argument("--table", required=True, help="Markdown table")
    parser.add_argument("--bootstrap-samples", type=int, default=2000, help="slide resamples per CI")
    parser.add_argument("--seed", type=int, default=0, help="resampling seed (CIs are reproducible)")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hookseg.errors import ConfigError
    from hookseg.evaluate.paired import Bootstrap
    from hookseg.evaluate.per_slide import SLIDES_FILE, read_slides
    from hookseg.evaluate.phases import (
        control_differences,
        flat_metrics,
        group_differences,
        markdown,
        phase_table,
    )
    from hookseg.io import atomic_write_text, write_json

    models, final = _models(args)
    if final not in models:
        msg = f"report --final: expected one of {models}. Received: {final!r}"
        raise ConfigError(msg)
    boot = Bootstrap(samples=args.bootstrap_samples, seed=args.seed)
    control_names = _names(args.controls, "--controls", models)
    student_names = _names(args.students, "--students", models + control_names)
    slides = {name: read_slides(Path(args.evals) / name / SLIDES_FILE)
              for name in models + control_names + student_names}
    base = models[0]
    try:
        table = phase_table(slides, base, boot)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    groups = group_differences(slides[final], slides[base], boot) if final != base else []
    controls = control_differences(slides[final], {c: slides[c] for c in control_names}, boot)
    students = control_differences(slides[final], {s: slides[s] for s in student_names}, boot)
    for name, cohorts in {**controls, **students}.items():
        for cohort, diff in cohorts.items():
            table[final][cohort][f"vs_{name}"] = diff
    write_json(args.out, table)
    text = markdown(table, slides[base].classes, base=base, final=final, groups=groups, boot=boot,
                    controls=controls, students=students)
    if args.params:
        text += _steps_line(args.params, models)
    atomic_write_text(args.table, text)
    print(text, end="")
    if not args.no_mlflow:
        _log_to_parent(flat_metrics(table), table, Path(args.table))
    return 0


def _names(value: str, option: str, taken: list[str]) -> list[str]:
    """A comma list of extra models under --evals, none of which may repeat a name already reported."""
    from hookseg.errors import ConfigError

    names = [n for n in value.split(",") if n]
    if set(names) & set(taken):
        msg = f"report {option}: expected names other than {taken}. Received: {names}"
        raise ConfigError(msg)
    return names


def _models(args: argparse.Namespace) -> tuple[list[str], str]:
    """The model names in order (the base first) and the final model."""
    if args.params:
        from pseudo_label.schedule import load_schedule

        schedule = load_schedule(args.params)
        models = list(schedule.models)
        return models, args.final or schedule.final
    models = args.models.split(",")
    return models, args.final or models[-1]


def training_steps(params_path: str | Path) -> dict[str, int]:
    """Optimiser steps per trained stage: base, every phase, and ``control_steps`` (the report shows them,
    so a control that trained more or less than the lineage is visible). Reads the profile's two
    ``train.steps_per_epoch`` values as data: loading the stage configs would pull the model code in."""
    from hookseg.config import load_yaml
    from hookseg.errors import ConfigError
    from pseudo_label.schedule import BASE, schedule_from_mapping

    params = load_yaml(params_path)
    schedule = schedule_from_mapping(params, params_path)
    try:
        profile = load_yaml(params["profile"])
        base, master = (int(profile[s]["train"]["steps_per_epoch"]) for s in ("base", "master"))
        base_epochs = int(params["train_base"]["epochs"])
        control_epochs = (params.get("controls") or {}).get("steps_epochs")
    except (KeyError, TypeError, ValueError, AttributeError):
        msg = (f"{params_path}: expected `profile` (with base/master train.steps_per_epoch), "
               "`train_base.epochs` and `controls.steps_epochs`")
        raise ConfigError(msg, path=params_path) from None
    steps = {BASE: base_epochs * base, **{p.name: p.epochs * master for p in schedule.phases}}
    if control_epochs is not None:
        steps["control_steps"] = int(control_epochs) * base
    return steps


def _steps_line(params: str, models: list[str]) -> str:
    """Optimiser steps of the lineage and of the steps control, so a mismatched budget is visible."""
    steps = training_steps(params)
    lineage = sum(steps[m] for m in models)
    parts = ", ".join(f"{m} {steps[m]}" for m in models)
    line = f"\nOptimiser steps: lineage {lineage} ({parts})"
    if "control_steps" in steps:
        line += f"; control_steps {steps['control_steps']}"
    return line + ".\n"


def _log_to_parent(flat: dict[str, float], table: dict, markdown: Path) -> None:
    """The phases.json numbers under the same dotted names, plus per-model series (step = model order)."""
    import mlflow

    from hookseg.tracking import start_run

    with start_run(stage="report", config={"models": list(table)}):
        mlflow.log_metrics(flat)
        for step, cohorts in enumerate(table.values()):
            for cohort, values in cohorts.items():
                series = {f"{k}.{cohort}": v for k, v in values.items() if isinstance(v, int | float)}
                mlflow.log_metrics(series, step=step)
        mlflow.log_artifact(str(markdown))
