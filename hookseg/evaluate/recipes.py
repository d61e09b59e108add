"""``hookseg compare``'s table: two recipes, several seeds' ``slides.json`` each, per cohort (JSON, Markdown).

The numbers come from :mod:`hookseg.evaluate.seeds`; this module lines the seeds' slides up (every seed of
both arms must have scored the same slides of a cohort, or the pairing means nothing) and lays the result out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hookseg.errors import ConfigError
from hookseg.evaluate.paired import Bootstrap, Estimate
from hookseg.evaluate.per_slide import SlideSet
from hookseg.evaluate.phases import difference_entries, json_number
from hookseg.evaluate.seeds import MIN_SEEDS_FOR_SEED_SPREAD, Arm, RecipeComparison, compare_recipes


@dataclass(frozen=True)
class Recipe:
    """One arm: its name and each seed's scored slides (``sources`` name them in errors and the JSON)."""

    name: str
    seeds: Sequence[SlideSet]
    sources: Sequence[str]


def _stack(recipes: Sequence[Recipe], cohort: str) -> tuple[list[str], list[np.ndarray]]:
    """The cohort's slide ids (the first seed's order) and each recipe's (k, n, C, C) confusions."""
    first = recipes[0].seeds[0].cohort(cohort)
    ids = list(first.ids)
    stacks = []
    for recipe in recipes:
        for seed, source in zip(recipe.seeds, recipe.sources, strict=True):
            if seed.classes != first.classes:
                msg = f"{source}:classes: expected {list(first.classes)}. Received: {list(seed.classes)}"
                raise ConfigError(msg, path=source)
            have = set(seed.cohort(cohort).ids)
            if have != set(ids):
                msg = (f"{source}:slides: expected the slides of split {cohort!r} that "
                       f"{recipes[0].sources[0]} scored. Missing: {sorted(set(ids) - have)}, "
                       f"extra: {sorted(have - set(ids))}")
                raise ConfigError(msg, path=source)
        stacks.append(np.stack([seed.select(ids).confusion for seed in recipe.seeds]))
    return ids, stacks


def cohorts_of(recipes: Sequence[Recipe]) -> list[str]:
    """The cohorts the first seed scored, in its order (others must match; see ``_stack``)."""
    return list(dict.fromkeys(recipes[0].seeds[0].cohorts))


def compare_table(a: Recipe, b: Recipe, cohorts: Sequence[str], boot: Bootstrap) -> dict[str, Any]:
    """{cohort: {slides, a: {...}, b: {...}, difference: {...}}} with DVC-friendly flat keys inside."""
    classes = a.seeds[0].classes
    table: dict[str, Any] = {}
    for cohort in cohorts:
        ids, (conf_a, conf_b) = _stack([a, b], cohort)
        if not ids:
            msg = f"{a.sources[0]}:slides: no slide of split {cohort!r}. Received splits: {cohorts_of([a])}"
            raise ConfigError(msg, path=a.sources[0])
        result = compare_recipes(conf_a, conf_b, boot)
        table[cohort] = {"slides": len(ids),
                         "a": _arm_entry(a, result.a, classes), "b": _arm_entry(b, result.b, classes),
                         "difference": _difference_entry(result, classes)}
    return table


def _interval(prefix: str, estimate: Estimate, index: int | None = None) -> dict[str, Any]:
    pick = (lambda v: v) if index is None else (lambda v: v[index])
    return {prefix: json_number(pick(estimate.value)), f"{prefix}_ci_low": json_number(pick(estimate.low)),
            f"{prefix}_ci_high": json_number(pick(estimate.high))}


def _arm_entry(recipe: Recipe, arm: Arm, classes: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": recipe.name, "seeds": arm.seeds, "sources": list(recipe.sources),
                           "seed_mean_iou": [json_number(v) for v in arm.seed_means],
                           **_interval("mean_iou", arm.mean)}
    for c, name in enumerate(classes):
        out |= _interval(name, arm.iou, c)
    return out


def _difference_entry(result: RecipeComparison, classes: Sequence[str]) -> dict[str, Any]:
    """The keys `hookseg report` gives a paired difference: mean_iou_diff, tumour_diff_ci_low, ..."""
    out = difference_entries("mean_iou", result.mean_difference)
    for c, name in enumerate(classes):
        out |= difference_entries(name, result.difference, c)
    return out


def _cell(entry: Mapping[str, Any], key: str, signed: bool = False) -> str:
    value, low, high = (entry.get(f"{key}{end}") for end in ("", "_ci_low", "_ci_high"))
    if value is None:
        return "n/a"
    form = "+.3f" if signed else ".3f"
    text = f"{value:{form}}" if low is None else f"{value:{form}} [{low:{form}}, {high:{form}}]"
    return f"**{text}**" if signed and entry.get(f"{key}_excludes_0") else text


def markdown(table: Mapping[str, Any], classes: Sequence[str], boot: Bootstrap) -> str:
    lines = []
    for cohort, entry in table.items():
        a, b, diff = entry["a"], entry["b"], entry["difference"]
        lines += [f"## {cohort} ({entry['slides']} slides)", "",
                  "| recipe | seeds | mean IoU | " + " | ".join(classes) + " | each seed's mean IoU |",
                  "|---|---|---|" + "---|" * len(classes) + "---|"]
        for arm in (a, b):
            seeds = ", ".join("n/a" if v is None else f"{v:.3f}" for v in arm["seed_mean_iou"])
            lines.append(f"| {arm['name']} | {arm['seeds']} | {_cell(arm, 'mean_iou')} | "
                         + " | ".join(_cell(arm, c) for c in classes) + f" | {seeds} |")
        lines.append(f"| {b['name']} - {a['name']} | | {_cell(diff, 'mean_iou_diff', True)} | "
                     + " | ".join(_cell(diff, f"{c}_diff", True) for c in classes) + " | |")
        lines.append("")
    few = min(min(e["a"]["seeds"], e["b"]["seeds"]) for e in table.values())
    lines.append(f"{boot.level:.0%} intervals: {boot.samples} resamples of slides (paired) and of each "
                 f"recipe's seeds (seed {boot.seed}); bold: the difference's interval excludes 0.")
    if few < MIN_SEEDS_FOR_SEED_SPREAD:
        lines.append(f"An arm has {few} seed(s): the intervals hold little or none of the seed-to-seed "
                     f"spread; train {MIN_SEEDS_FOR_SEED_SPREAD} or more seeds per recipe.")
    return "\n".join(lines) + "\n"
