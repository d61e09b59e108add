"""Export a hookseg model where pathologists' tools can load it: a TensorFlow SavedModel (QuPath's DJL
engine, TF Serving), with ``hookseg-export.json`` beside it saying everything a consumer needs.

The graph takes raw RGB pixels, float32 in [0, 255], NHWC with a dynamic batch dimension: the encoders'
rescaling and ImageNet normalisation are inside it. Inputs are named as in the Keras model (``target``,
and ``context`` for the dual-resolution m-UNet), each with its size in pixels and its mpp; outputs are
per-class probabilities (softmax), ``final`` at the target's field of view (and ``context`` for the m-UNet).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from hookseg.errors import ConfigError
from hookseg.model_meta import ModelMeta

FORMATS = ("savedmodel",)
SIDECAR = "hookseg-export.json"


def describe(model: Any, meta: ModelMeta, fmt: str) -> dict[str, Any]:
    """The sidecar: inputs (name, shape, mpp, channels, range), outputs and the class map."""
    fov = meta.fov
    inputs = []
    for tensor in model.inputs:
        name = tensor.name.split(":")[0]
        is_context = name == "context"
        inputs.append({
            "name": name, "shape": ["batch", *map(int, tensor.shape[1:])], "dtype": "float32",
            "mpp": fov.context_mpp if is_context else fov.mpp, "channel_order": "RGB", "layout": "NHWC",
            "value_range": [0.0, 255.0], "normalisation": "inside the graph (rescaling, ImageNet mean/std)",
            "centre": "the same slide position as the target's centre" if is_context else "tile centre",
        })
    outputs = model.output if isinstance(model.output, dict) else {"final": model.output}
    meaning = "softmax probability per class, channel = class id"
    class_map = meta.class_map
    return {
        "format": fmt,
        "hookseg_stage": meta.stage,
        "inputs": inputs,
        "outputs": [{"name": k, "shape": ["batch", *map(int, v.shape[1:])], "dtype": "float32",
                     "meaning": meaning} for k, v in outputs.items()],
        "classes": [{"id": i, "name": n, "color": list(c)}
                    for i, (n, c) in enumerate(zip(class_map.names, class_map.colors, strict=True))],
        "ignore_id": class_map.ignore_id,
        "fields_of_view": {"size": fov.size, "mpp": fov.mpp, "context_size": fov.context_size,
                           "context_mpp": fov.context_mpp},
    }


def export_model(model_path: str | Path, out: str | Path, fmt: str = "savedmodel") -> Path:
    """Write the export folder ``out`` (replaced whole, via a temporary folder beside it)."""
    from hookseg.model_io import load_model

    if fmt not in FORMATS:
        msg = f"--format: expected one of {list(FORMATS)}. Received: {fmt!r}"
        raise ConfigError(msg)
    model, meta = load_model(model_path)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = out.with_name(f".{out.name}.tmp-export")
    shutil.rmtree(scratch, ignore_errors=True)
    model.export(str(scratch), format="tf_saved_model", verbose=False)
    (scratch / SIDECAR).write_text(json.dumps(describe(model, meta, fmt), indent=2), encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    scratch.rename(out)
    return out
