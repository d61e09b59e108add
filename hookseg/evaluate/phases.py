"""The per-phase table: every model's IoU with slide-bootstrap CIs, and each model against the base, paired.

Input is each model's ``slides.json`` (per-slide confusions). Output is a nested dict whose dotted keys are
stable DVC metrics (``p5.test.mean_iou_ci_low``, ``p5.test.vs_base.mean_iou_diff``; ``dvc metrics show``
flattens them), plus Markdown. A class's bare key (``p5.test.tumour``) is its IoU after post-processing;
``p5.test.fine.other.blur`` is the share of a fine ground-truth label's pixels labelled its class.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from hookseg.evaluate.fine import fine_rows
from hookseg.evaluate.paired import Bootstrap, Estimate, iou_estimates, paired_difference
from hookseg.evaluate.per_slide import TAGS, SlideSet

COHORTS = ("test", "new_domain")


def json_number(value: float) -> float | None:
    """JSON value: rounded, and None (which DVC skips) where there is no number."""
    return None if math.isnan(value) else round(float(value), 4)


_num = json_number  # short, for the dense tables below


def model_scores(slides: SlideSet, boot: Bootstrap) -> dict[str, Any]:
    per_class, mean = iou_estimates(slides.confusion, boot)
    raw_class, raw_mean = iou_estimates(slides.raw_confusion, boot)
    out: dict[str, Any] = {"slides": len(slides.ids), "mean_iou": _num(mean.value),
                           "mean_iou_ci_low": _num(mean.low), "mean_iou_ci_high": _num(mean.high),
                           "mean_iou_raw": _num(raw_mean.value), "mean_iou_raw_ci_low": _num(raw_mean.low),
                           "mean_iou_raw_ci_high": _num(raw_mean.high)}
    for c, name in enumerate(slides.classes):
        out |= {name: _num(per_class.value[c]), f"{name}_ci_low": _num(per_class.low[c]),
                f"{name}_ci_high": _num(per_class.high[c]), f"{name}_raw": _num(raw_class.value[c])}
    return out


def difference_entries(prefix: str, estimate: Estimate, index: int | None = None) -> dict[str, Any]:
    """``{prefix}_diff`` with its CI and whether that excludes 0 (None without a CI), of class ``index``."""
    pick = (lambda a: a) if index is None else (lambda a: a[index])
    low, high = pick(estimate.low), pick(estimate.high)
    excludes = None if math.isnan(low) else bool(pick(estimate.excludes_zero()))
    return {f"{prefix}_diff": _num(pick(estimate.value)), f"{prefix}_diff_ci_low": _num(low),
            f"{prefix}_diff_ci_high": _num(high), f"{prefix}_diff_excludes_0": excludes}


def paired_scores(model: SlideSet, base: SlideSet, boot: Bootstrap) -> dict[str, Any]:
    """``model`` minus ``base`` on the slides both scored (a failed slide drops out of the pair)."""
    in_base = set(base.ids)
    common = [s for s in model.ids if s in in_base]
    if not common:
        return {"slides": 0}
    per_class, mean = paired_difference(model.select(common).confusion, base.select(common).confusion, boot)
    out: dict[str, Any] = {"slides": len(common), **difference_entries("mean_iou", mean)}
    for c, name in enumerate(model.classes):
        out |= difference_entries(name, per_class, c)
    return out


def phase_table(models: Mapping[str, SlideSet], base: str, boot: Bootstrap) -> dict[str, dict[str, Any]]:
    """{model: {cohort: scores (+ ``vs_base`` for every model but the base)}}, models in the given order."""
    classes = models[base].classes
    for name, slides in models.items():
        if slides.classes != classes:
            msg = (f"eval/{name}/slides.json:classes: expected the base model's {list(classes)}. "
                   f"Received: {list(slides.classes)}")
            raise ValueError(msg)
    table: dict[str, dict[str, Any]] = {}
    for name, slides in models.items():
        table[name] = {}
        for cohort in COHORTS:
            part = slides.cohort(cohort)
            if not part.ids:
                continue
            table[name][cohort] = model_scores(part, boot)
            fine = fine_rows(part.pooled_fine(), part.fine_classes, classes)
            for r in fine:  # numbers only, so DVC and MLflow take every key: fine.<class>.<label> = recall
                by_class = table[name][cohort].setdefault("fine", {}).setdefault(r["class"], {})
                by_class[r["label"]] = r["recall"]
            if name != base:
                table[name][cohort]["vs_base"] = paired_scores(part, models[base].cohort(cohort), boot)
    return table


def control_differences(
    final: SlideSet, controls: Mapping[str, SlideSet], boot: Bootstrap,
) -> dict[str, dict[str, Any]]:
    """{control: {cohort: final minus control, paired}}: what the phases add beyond the control's training."""
    return {name: {cohort: paired_scores(final.cohort(cohort), slides.cohort(cohort), boot)
                   for cohort in COHORTS if final.cohort(cohort).ids}
            for name, slides in controls.items()}


def group_differences(model: SlideSet, base: SlideSet, boot: Bootstrap) -> list[dict[str, Any]]:
    """Paired mean-IoU difference per cohort x stain / scanner / source value (slides both models scored)."""
    rows = []
    for cohort in COHORTS:
        part, base_part = model.cohort(cohort), base.cohort(cohort)
        for tag in TAGS:
            for value in sorted({t[tag] for t in part.tags}):
                ids = [s for s, t in zip(part.ids, part.tags, strict=True) if t[tag] == value]
                members = part.select(ids)
                paired = paired_scores(members, base_part, boot)
                if paired["slides"]:
                    rows.append({"cohort": cohort, "group": tag, "value": value, **paired})
    return rows


def flat_metrics(table: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Dotted keys -> numbers, as ``dvc metrics show`` lists them (booleans as 0/1; empty values dropped)."""
    flat: dict[str, float] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat |= flat_metrics(value, f"{name}.")
        elif value is not None:
            flat[name] = float(value)
    return flat


def _ci(entry: Mapping[str, Any], key: str, suffix: str = "") -> str:
    value, low, high = (entry.get(f"{key}{suffix}{end}") for end in ("", "_ci_low", "_ci_high"))
    if value is None:
        return "n/a"
    if low is None:
        return f"{value:.3f}"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def _diff(entry: Mapping[str, Any], key: str) -> str:
    text = _ci(entry, key, "_diff")
    return f"**{text}**" if entry.get(f"{key}_diff_excludes_0") else text


def markdown(
    table: Mapping[str, Mapping[str, Any]], classes: Sequence[str], *, base: str, final: str | None,
    groups: Sequence[Mapping[str, Any]], boot: Bootstrap,
    controls: Mapping[str, Mapping[str, Any]] | None = None,
    students: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """IoU per model with CIs, each model against the base, the final model against each control, against
    each student distilled from it, and per domain tag."""
    lines = _model_rows(table, classes, boot) + [""] + _diff_rows(table, classes, base, final)
    lines += _fine_rows(table)
    if controls:
        title = f"{final} against the controls (paired; **bold**: the CI excludes 0)"
        lines += _paired_rows(title, "control", controls, classes)
    if students:
        title = (f"{final} against the students distilled from it (teacher minus student, paired; "
                 "**bold**: the CI excludes 0)")
        lines += _paired_rows(title, "student", students, classes)
    if groups:
        lines += ["", f"## {final} against {base} per stain / scanner / source (paired, mean IoU)", "",
                  "| cohort | group | value | slides | diff mean IoU |", "|---|---|---|---|---|"]
        lines += [f"| {g['cohort']} | {g['group']} | {g['value']} | {g['slides']} | {_diff(g, 'mean_iou')} |"
                  for g in groups]
    return "\n".join(lines) + "\n"


def _fine_rows(table: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Per cohort, each fine ground-truth label's recall (share labelled its own class) under every model."""
    lines: list[str] = []
    for cohort in COHORTS:
        models = [m for m, cohorts in table.items() if "fine" in cohorts.get(cohort, {})]
        if not models:
            continue
        labels: dict[tuple[str, str], None] = {}  # (class, label) in first-seen order
        for m in models:
            labels |= {(c, name): None for c, names in table[m][cohort]["fine"].items() for name in names}
        lines += ["", f"## {cohort}: recall of each fine ground-truth label (share labelled its class)", "",
                  "| fine label | class | " + " | ".join(models) + " |", "|---|---|" + "---|" * len(models)]
        for target, name in labels:
            cells = [table[m][cohort]["fine"].get(target, {}).get(name) for m in models]
            text = ("n/a" if c is None else f"{c:.3f}" for c in cells)
            lines.append(f"| {name} | {target} | " + " | ".join(text) + " |")
    return lines


def _paired_rows(title: str, kind: str, comparisons: Mapping[str, Mapping[str, Any]],
                 classes: Sequence[str]) -> list[str]:
    header = f"| {kind} | cohort | slides | diff mean IoU | " + " | ".join(f"diff {c}" for c in classes)
    lines = ["", f"## {title}", "", header + " |",
             "|---|---|---|---|" + "---|" * len(classes)]
    for name, cohorts in comparisons.items():
        for cohort, d in cohorts.items():
            if d.get("slides"):
                cells = [_diff(d, "mean_iou"), *(_diff(d, c) for c in classes)]
                lines.append(f"| {name} | {cohort} | {d['slides']} | " + " | ".join(cells) + " |")
    return lines


def _model_rows(table: Mapping[str, Mapping[str, Any]], classes: Sequence[str], boot: Bootstrap) -> list[str]:
    level = f"{boot.level:.0%}"
    lines = [f"## IoU per model ({level} CI over {boot.samples} slide resamples, seed {boot.seed}; "
             "raw: before post-processing)", "",
             "| model | cohort | slides | " + " | ".join([f"mean IoU [{level} CI]", "raw mean IoU",
                                                          *(f"IoU {c}" for c in classes),
                                                          *(f"raw {c}" for c in classes)]) + " |",
             "|---|---|---|---|---|" + "---|" * (2 * len(classes))]
    for name, cohorts in table.items():
        for cohort, e in cohorts.items():
            cells = [_ci(e, "mean_iou"), _ci(e, "mean_iou_raw"), *(_ci(e, c) for c in classes),
                     *(_ci(e, f"{c}_raw") for c in classes)]
            lines.append(f"| {name} | {cohort} | {e['slides']} | " + " | ".join(cells) + " |")
    return lines


def _diff_rows(
    table: Mapping[str, Mapping[str, Any]], classes: Sequence[str], base: str, final: str | None,
) -> list[str]:
    lines = [f"## Against {base} (paired bootstrap over the same slides; **bold**: the CI excludes 0)", "",
             "| model | cohort | slides | diff mean IoU | " + " | ".join(f"diff {c}" for c in classes) + " |",
             "|---|---|---|---|" + "---|" * len(classes)]
    for name, cohorts in table.items():
        label = f"{name} (final)" if name == final else name
        for cohort, e in cohorts.items():
            if "vs_base" in e:
                d = e["vs_base"]
                cells = [_diff(d, "mean_iou"), *(_diff(d, c) for c in classes)]
                lines.append(f"| {label} | {cohort} | {d['slides']} | " + " | ".join(cells) + " |")
    return lines
