"""Resumable GAN checkpoints: G, its EMA, D, both optimizers, the step and the RNG state in one ``.npz``.

One file, written atomically, so a run killed mid-write resumes from the previous checkpoint, never from a
mix of two steps. Variables are stored in the models' and optimizers' own order, which is fixed by the
architecture; a checkpoint of another architecture fails loudly on the first shape mismatch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hookseg.errors import ConfigError
from hookseg.io import atomic_path

log = logging.getLogger(__name__)

CHECKPOINT_FILE = "checkpoint.npz"

Groups = Mapping[str, Sequence[Any]]  # name -> variables, e.g. {"g": G.weights, "g_opt": opt.variables}


def save_checkpoint(path: str | Path, step: int, state: dict[str, Any], groups: Groups) -> Path:
    """Write every variable of ``groups``, the step and a JSON-able ``state`` to one ``.npz``, atomically."""
    from keras import ops

    arrays: dict[str, np.ndarray] = {}
    for group, variables in groups.items():
        for i, variable in enumerate(variables):
            arrays[f"{group}/{i}"] = ops.convert_to_numpy(variable)
    arrays["step"] = np.array(step, np.int64)
    arrays["state"] = np.array(json.dumps(state))
    path = Path(path)
    with atomic_path(path) as tmp:
        np.savez(tmp, **arrays)
    return path


def load_checkpoint(path: str | Path, groups: Groups) -> tuple[int, dict[str, Any]]:
    """Assign every variable of ``groups`` from ``path``; returns (step, state).

    Optimizers must be built first, so that their variables exist.
    """
    path = Path(path)
    with np.load(path, allow_pickle=False) as data:
        for group, variables in groups.items():
            stored = sum(1 for k in data.files if k.startswith(f"{group}/"))
            if stored != len(variables):
                msg = (f"{path}: checkpoint has {stored} {group} variables, the model has {len(variables)}. "
                       "Expected a checkpoint of the same configuration; use another --out to start afresh")
                raise ConfigError(msg, path=path)
            for i, variable in enumerate(variables):
                value = data[f"{group}/{i}"]
                if tuple(value.shape) != tuple(variable.shape):
                    msg = (f"{path}: {group} variable {i} ({variable.path}) has shape {tuple(value.shape)} "
                           f"in the checkpoint and {tuple(variable.shape)} in the model. Expected the same "
                           "configuration; use another --out to start afresh")
                    raise ConfigError(msg, path=path)
                variable.assign(value)
        step = int(data["step"])
        state = json.loads(str(data["state"]))
    log.info("resumed from %s at step %d", path, step)
    return step, state
