"""The phase schedule (paper 003, Table 8), read from the ``phases`` mapping of params.yaml.

Phase k trains the master model on labels made by model k-1 (the base model for phase 1) on every training
slide: the argmax where the top probability reaches ``threshold``, ignore elsewhere, manual annotations
winning. Table 8's thresholds fall 0.9 (base predicting for phase 1) to 0.5 (master 4 predicting for
phase 5); its last value, 0.4, belongs to master 5 labelling a further round, which five phases do not run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hookseg.config import from_mapping, load_yaml
from hookseg.errors import ConfigError


@dataclass(frozen=True)
class Phase:
    name: str
    prev: str  # "base" or an earlier phase's name
    threshold: float
    epochs: int
    lr0: float
    class_weights: str  # "dynamic" or a comma list of static weights
    augment: str  # comma list of augmentation presets


@dataclass(frozen=True)
class _PhaseEntry:
    prev: str
    threshold: float
    epochs: int
    lr0: float
    class_weights: str = "dynamic"
    augment: str = "basic"


def phases_from_mapping(mapping: Mapping[str, Any], source: str | Path) -> list[Phase]:
    """Validated phases in dependency order; each ``prev`` must be ``base`` or an earlier phase."""
    phases = []
    seen = {"base"}
    for name, entry in mapping.items():
        parsed = from_mapping(_PhaseEntry, entry, source=source, key=f"phases.{name}")
        if parsed.prev not in seen:
            msg = f"{source}:phases.{name}.prev: expected 'base' or an earlier phase {sorted(seen - {'base'})}. " \
                  f"Received: {parsed.prev!r}"
            raise ConfigError(msg, path=source)
        if not 0.0 < parsed.threshold <= 1.0:
            msg = f"{source}:phases.{name}.threshold: expected a probability in (0, 1]. Received: {parsed.threshold}"
            raise ConfigError(msg, path=source)
        phases.append(Phase(name, **parsed.__dict__))
        seen.add(name)
    return phases


def load_phases(params_path: str | Path) -> list[Phase]:
    data = load_yaml(params_path)
    if "phases" not in data:
        msg = f"{params_path}: no `phases` mapping"
        raise ConfigError(msg, path=params_path)
    return phases_from_mapping(data["phases"], params_path)


def get_phase(params_path: str | Path, name: str) -> Phase:
    for phase in load_phases(params_path):
        if phase.name == name:
            return phase
    msg = f"{params_path}: no phase {name!r}"
    raise ConfigError(msg, path=params_path)
