"""The phase schedule (paper 003, Table 8): the one reader of params.yaml's ``phases`` mapping and ``final``.

Phase k trains the master model on labels made by model k-1 (the base model for phase 1) on every training
slide: the argmax where the top probability reaches ``threshold``, ignore elsewhere, manual annotations
winning. Three switches make those labels trustworthy by measurement (``pseudo_label.labeller``):
``target_precision`` (per-class thresholds calibrated on held-out annotations, ``threshold`` their floor;
null = off), ``border_um`` (an ignore band at the model's class borders; 0 = off) and ``tta`` (teacher
test-time flips: 0, 2 or 4 passes). ``soft_share`` of each training batch is tissue of any training slide,
annotated or not, with model k-1's softmax as its target (``hookseg.train.soft_targets``; 0 = off), and
``hard_labels`` says where the rest takes its labels: ``pseudo`` (the thresholded labels) or ``manual``.
Table 8's thresholds fall 0.9 (base predicting for phase 1) to 0.5 (master 4 predicting for phase 5); its
last value, 0.4, belongs to master 5 labelling a further round, which five phases do not run.

dvc.yaml interpolates every key of a phase (``${item.init}``, ``${item.style_bank}``, ...), so every key is
required here: a phase this module accepts is a phase ``dvc repro`` can run. ``final`` names the model the
pipeline ships (``predict_new``, the plots); it must be a phase.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn

from hookseg.config import from_mapping, load_yaml
from hookseg.errors import ConfigError

BASE = "base"  # the model phase 1 labels with (stage train_base, models/base.keras)
NO_INIT = "none"  # random init (phase 1's master is a new architecture)
_NAME = re.compile(r"[A-Za-z0-9_-]+")  # phase names become stage keys and paths: models/<name>.keras


@dataclass(frozen=True)
class Phase:
    name: str
    prev: str  # "base" or an earlier phase: the model that labels this phase's data
    init: str  # "none" (random init), "base" (warm start) or a phase on the prev chain: the starting weights
    threshold: float
    epochs: int
    lr0: float
    class_weights: str  # "dynamic" (Eq. 1), "pixel" (static, from sampled pixel shares) or static weights
    augment: str  # comma list of augmentation presets ("" = none)
    style_bank: str  # bank JSON for the `gan` preset: stylegan/bank.json or configs/style_bank_empty.json
    target_precision: float | None  # per-class thresholds reaching this held-out precision; None = off
    border_um: float  # ignore band at the labelling model's class borders (microns); 0 = off
    tta: int  # teacher test-time augmentation: 0 none, 2 horizontal flip, 4 horizontal and vertical flips
    soft_share: float  # share of each batch labelled by prev's softmax on any training tissue; 0 = off
    hard_labels: str  # the rest of the batch: "pseudo" (pseudo/<name>) or "manual" (annotations alone)
    soft_augment: str  # colour presets of the teacher-labelled patches: "same" (augment's), "none" or a list


@dataclass(frozen=True)
class _PhaseEntry:
    prev: str
    init: str
    threshold: float
    epochs: int
    lr0: float
    class_weights: str
    augment: str
    style_bank: str
    target_precision: float | None
    border_um: float
    tta: Literal[0, 2, 4]
    soft_share: float
    hard_labels: Literal["pseudo", "manual"]
    soft_augment: str


@dataclass(frozen=True)
class Schedule:
    phases: tuple[Phase, ...]
    final: str  # the shipped model: a phase name

    @property
    def models(self) -> list[str]:
        """Every model the pipeline trains and evaluates, in order: base, then the phases."""
        return [BASE, *(p.name for p in self.phases)]

    def phase(self, name: str, source: str | Path) -> Phase:
        for phase in self.phases:
            if phase.name == name:
                return phase
        msg = f"{source}:phases: no phase {name!r}. Expected one of: {[p.name for p in self.phases]}"
        raise ConfigError(msg, path=source)


def _fail(source: str | Path, key: str, expected: str, value: Any) -> NoReturn:
    msg = f"{source}:{key}: expected {expected}. Received: {value!r}"
    raise ConfigError(msg, path=source)


def _ancestors(prev: str, parents: Mapping[str, str]) -> list[str]:
    """Phases on the prev chain (nearest first), base excluded: their models are upstream of this phase."""
    chain = []
    while prev != BASE:
        chain.append(prev)
        prev = parents[prev]
    return chain


def _check_entry(name: str, entry: _PhaseEntry, parents: Mapping[str, str], source: str | Path) -> None:
    key = f"phases.{name}"
    if entry.prev != BASE and entry.prev not in parents:
        _fail(source, f"{key}.prev", f"'base' or an earlier phase {sorted(parents)}", entry.prev)
    # train@<name> depends on models/<prev>.keras only; base and an init on the prev chain are upstream of it.
    chain = _ancestors(entry.prev, parents)
    if entry.init not in (NO_INIT, BASE) and entry.init not in chain:
        _fail(source, f"{key}.init", f"'none', 'base' or a phase on the prev chain {chain}", entry.init)
    if not 0.0 < entry.threshold <= 1.0:
        _fail(source, f"{key}.threshold", "a probability in (0, 1]", entry.threshold)
    if entry.epochs < 1:
        _fail(source, f"{key}.epochs", "an integer >= 1", entry.epochs)
    if not entry.lr0 > 0.0:
        _fail(source, f"{key}.lr0", "a learning rate > 0", entry.lr0)
    if entry.class_weights not in ("dynamic", "pixel") and not _is_weight_list(entry.class_weights):
        expected = "'dynamic', 'pixel' or a comma list of positive numbers"
        _fail(source, f"{key}.class_weights", expected, entry.class_weights)
    if not entry.style_bank.endswith(".json"):
        expected = "a bank JSON path (stylegan/bank.json, configs/style_bank_empty.json)"
        _fail(source, f"{key}.style_bank", expected, entry.style_bank)
    if entry.target_precision is not None and not 0.0 < entry.target_precision <= 1.0:
        expected = "a precision in (0, 1], or null (off)"
        _fail(source, f"{key}.target_precision", expected, entry.target_precision)
    if not entry.border_um >= 0.0:
        _fail(source, f"{key}.border_um", "a distance in microns >= 0 (0 = off)", entry.border_um)
    if not 0.0 <= entry.soft_share < 1.0:
        _fail(source, f"{key}.soft_share", "a share of the batch in [0, 1) (0 = off)", entry.soft_share)
    if not entry.soft_augment.strip() or " " in entry.soft_augment:
        expected = "'same', 'none' or a comma list of colour presets without spaces"
        _fail(source, f"{key}.soft_augment", expected, entry.soft_augment)


def _is_weight_list(text: str) -> bool:
    try:
        return all(float(v) > 0.0 for v in text.split(","))
    except ValueError:
        return False


def phases_from_mapping(mapping: Any, source: str | Path) -> list[Phase]:
    """Validated phases in dependency order; each ``prev`` must be ``base`` or an earlier phase."""
    if not isinstance(mapping, dict) or not mapping:
        _fail(source, "phases", "a non-empty mapping of phase name -> settings", mapping)
    phases: list[Phase] = []
    parents: dict[str, str] = {}
    for name, entry in mapping.items():
        if not isinstance(name, str) or name == BASE or not _NAME.fullmatch(name):
            _fail(source, f"phases.{name}", "a name of letters, digits, '_' or '-', not 'base'", name)
        parsed = from_mapping(_PhaseEntry, entry, source=source, key=f"phases.{name}")
        _check_entry(name, parsed, parents, source)
        phases.append(Phase(name, **parsed.__dict__))
        parents[name] = parsed.prev
    return phases


def schedule_from_mapping(params: Mapping[str, Any], source: str | Path) -> Schedule:
    """The ``phases`` and ``final`` keys of a params mapping, validated together."""
    if "phases" not in params:
        _fail(source, "phases", "a mapping of phase name -> settings", None)
    phases = tuple(phases_from_mapping(params["phases"], source))
    final = params.get("final")
    names = [p.name for p in phases]
    if final not in names:
        _fail(source, "final", f"the phase whose model the pipeline ships, one of {names}", final)
    return Schedule(phases, final)


def load_schedule(params_path: str | Path) -> Schedule:
    return schedule_from_mapping(load_yaml(params_path), params_path)


def load_phases(params_path: str | Path) -> list[Phase]:
    return list(load_schedule(params_path).phases)


def get_phase(params_path: str | Path, name: str) -> Phase:
    return load_schedule(params_path).phase(name, params_path)
