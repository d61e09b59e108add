"""Export a hookseg model where pathologists' tools can load it: a TensorFlow SavedModel (QuPath's DJL
engine, TF Serving) or ONNX (``model.onnx``: onnxruntime, DJL, ``hookseg predict`` without Keras), with
``hookseg-export.json`` beside it saying everything a consumer needs.

The graph takes raw RGB pixels, float32 in [0, 255], NHWC with a dynamic batch dimension: the encoders'
rescaling and ImageNet normalisation are inside it. Inputs are named as in the Keras model (``target``,
and ``context`` for the dual-resolution m-UNet), each with its size in pixels and its mpp; outputs are
per-class probabilities (softmax), ``final`` at the target's field of view (and ``context`` for the m-UNet;
named ``context_output`` in ONNX, where an output cannot share the ``context`` input's name). The sidecar
also holds the whole class map, so ``read_meta`` reads an export folder like a ``.keras`` file.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from hookseg.errors import ConfigError, ModelError
from hookseg.model_meta import EXPORT_SIDECAR, ModelMeta

FORMATS = ("savedmodel", "onnx")
SIDECAR = EXPORT_SIDECAR


def describe(model: Any, meta: ModelMeta, fmt: str, names: dict[str, str] | None = None,
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The sidecar: inputs (name, shape, mpp, channels, range), outputs (``names``: Keras -> exported) and
    the class map; ``extra`` (the model file, the opset) goes in after ``format``."""
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
    names = names or {}
    return {
        "format": fmt,
        **(extra or {}),
        "hookseg_stage": meta.stage,
        "inputs": inputs,
        "outputs": [{"name": names.get(k, k), "keras_name": k, "shape": ["batch", *map(int, v.shape[1:])],
                     "dtype": "float32", "meaning": meaning} for k, v in outputs.items()],
        "classes": [{"id": i, "name": n, "color": list(c)}
                    for i, (n, c) in enumerate(zip(class_map.names, class_map.colors, strict=True))],
        "ignore_id": class_map.ignore_id,
        "fields_of_view": {"size": fov.size, "mpp": fov.mpp, "context_size": fov.context_size,
                           "context_mpp": fov.context_mpp},
        "class_map": class_map.to_dict(),
        "tissue": meta.tissue,  # the tissue-mask parameters it trained with (hookseg predict tiles by them)
    }


def export_model(model_path: str | Path, out: str | Path, fmt: str = "savedmodel") -> Path:
    """Write the export folder ``out`` (replaced whole, via a temporary folder beside it)."""
    if fmt not in FORMATS:
        msg = f"--format: expected one of {list(FORMATS)}. Received: {fmt!r}"
        raise ConfigError(msg)
    if Path(model_path).is_dir():
        msg = f"--model: expected a trained .keras file. Received: {model_path}, a folder (an export?)"
        raise ModelError(msg, path=model_path)
    from hookseg.model_io import load_model

    model, meta = load_model(model_path)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = out.with_name(f".{out.name}.tmp-export")
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        sidecar = _write_graph(model, meta, fmt, scratch)
        (scratch / SIDECAR).write_text(json.dumps(sidecar, indent=2), encoding="utf-8")
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)  # no half-written folder left beside the output
        raise
    if out.exists():
        shutil.rmtree(out)
    scratch.rename(out)
    return out


def _write_graph(model: Any, meta: ModelMeta, fmt: str, folder: Path) -> dict[str, Any]:
    """The graph in ``fmt`` into ``folder``; returns the sidecar describing it."""
    if fmt == "onnx":
        from hookseg.export_onnx import ONNX_FILE, OPSET, write_onnx

        folder.mkdir()
        names = write_onnx(model, folder / ONNX_FILE)
        return describe(model, meta, fmt, names, {"file": ONNX_FILE, "opset": OPSET})
    model.export(str(folder), format="tf_saved_model", verbose=False)
    return describe(model, meta, fmt)
