"""``create_model(arch, **kwargs)`` over an explicit, lazily imported registry, and the parameter budget.

Registry per STYLE rule 2/5: architecture name -> (module, builder function); the module is imported
only when that architecture is asked for.
"""

from __future__ import annotations

import importlib
import inspect
import logging

import keras
import numpy as np

from hookseg.errors import ConfigError

logger = logging.getLogger(__name__)

ARCHITECTURES: dict[str, tuple[str, str]] = {
    "unet": ("hookseg.model.unet", "build_unet"),
    "munet": ("hookseg.model.dual_unet", "build_dual_unet"),
}

# Layer-name prefix -> budget part. Order matters: first match wins; everything else is "head".
PARTS: tuple[tuple[str, str], ...] = (
    ("target_encoder", "target_encoder"),
    ("context_encoder", "context_encoder"),
    ("merge", "merge"),
    ("target_decoder", "target_decoder"),
    ("context_decoder", "context_decoder"),
)


def create_model(arch: str, **kwargs) -> keras.Model:
    """Build a registered architecture; unknown names list the valid ones."""
    key = str(arch).lower()
    if key not in ARCHITECTURES:
        msg = f"Unknown model architecture. Received: arch={arch!r}. Expected one of {sorted(ARCHITECTURES)}."
        raise ConfigError(msg)
    module_name, function_name = ARCHITECTURES[key]
    builder = getattr(importlib.import_module(module_name), function_name)
    try:  # check the names only, so a TypeError from inside the build is not mistaken for bad kwargs
        inspect.signature(builder).bind(**kwargs)
    except TypeError as err:
        msg = f"Invalid arguments for arch={key!r}. Received: {sorted(kwargs)}. {err}"
        raise ConfigError(msg) from err
    return builder(**kwargs)


def _count(weights) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def parameter_report(model: keras.Model) -> dict[str, int]:
    """Trainable weights per part (target/context encoder, merge, decoders, head) plus totals.

    Parts come from top-level layer names (the builders prefix them); "head" collects the output
    heads and the final fusion. ``non_trainable`` is BN moving statistics and the encoders'
    Normalization constants.
    """
    report = {part: 0 for _, part in PARTS} | {"head": 0}
    for layer in model.layers:
        part = next((p for prefix, p in PARTS if layer.name.startswith(prefix)), "head")
        report[part] += _count(layer.trainable_weights)
    report["total_trainable"] = _count(model.trainable_weights)
    report["non_trainable"] = _count(model.non_trainable_weights)
    if sum(report[p] for _, p in PARTS) + report["head"] != report["total_trainable"]:
        logger.warning("parameter parts do not add up to the model total (shared layers?)")
    return report
