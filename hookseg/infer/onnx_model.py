"""An ONNX export (``hookseg export --format onnx``) run by onnxruntime, called like the Keras model.

``predict_probabilities`` calls ``predict_on_batch({"target": ..., "context": ...})`` and reads ``final``;
``OnnxModel`` answers that call from the export's graph, and its ``ModelMeta`` (fields of view, class map)
comes from the sidecar, so predicting with an export imports neither Keras nor TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from hookseg.errors import ModelError
from hookseg.model_meta import EXPORT_SIDECAR, ModelMeta, read_export, read_meta


class OnnxModel:
    """An onnxruntime session (CPU) behind ``predict_on_batch``, outputs keyed by their Keras names."""

    # The export's batch dimension is dynamic: a slide's last, short batch runs as it is instead of padded to
    # the batch size (441 tiles in batches of 8 would otherwise send 7 blank tiles through the model).
    takes_any_batch = True

    def __init__(self, folder: str | Path) -> None:
        folder = Path(folder)
        sidecar = read_export(folder)
        source = folder / EXPORT_SIDECAR
        if sidecar["format"] != "onnx" or "file" not in sidecar:
            msg = (f"{source}: format {sidecar['format']!r}; hookseg predict runs a .keras model or an "
                   "`hookseg export --format onnx` folder")
            raise ModelError(msg, path=source)
        try:
            self.inputs = [str(i["name"]) for i in sidecar["inputs"]]
            self.outputs = {str(o["name"]): str(o.get("keras_name", o["name"])) for o in sidecar["outputs"]}
        except (KeyError, TypeError, AttributeError):
            msg = f"{source}: inputs and outputs must be lists of objects with a 'name'; re-export the model"
            raise ModelError(msg, path=source) from None
        self.path = folder / str(sidecar["file"])
        self.session = _session(self.path)
        graph_inputs = sorted(i.name for i in self.session.get_inputs())
        graph_outputs = {o.name for o in self.session.get_outputs()}
        if graph_inputs != sorted(self.inputs) or not set(self.outputs) <= graph_outputs:
            msg = (f"{self.path}: inputs {graph_inputs}, outputs {sorted(graph_outputs)}; {source} names "
                   f"inputs {sorted(self.inputs)}, outputs {sorted(self.outputs)}. Re-export the model")
            raise ModelError(msg, path=self.path)

    def predict_on_batch(self, batch: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Per-class probabilities for a batch of raw 0-255 RGB tiles, keyed like the Keras model's."""
        feeds = {name: np.ascontiguousarray(batch[name], dtype=np.float32) for name in self.inputs}
        values = self.session.run(list(self.outputs), feeds)
        return dict(zip(self.outputs.values(), values, strict=True))


def _session(path: Path) -> Any:
    """A CPU inference session; a missing runtime or an unreadable graph is a one-line error naming it."""
    try:
        import onnxruntime as ort
        from onnxruntime.capi import onnxruntime_pybind11_state as state
    except ImportError as err:
        msg = f"{path}: running an ONNX export needs onnxruntime ({err}); `pip install -e '.[onnx]'`"
        raise ModelError(msg, path=path) from None
    options = ort.SessionOptions()
    # Idle intra-op threads sleep instead of spinning: a spinning pool takes the cores the tile reader and
    # the blending need between batches (whole-slide prediction is a pipeline, not a model in a loop).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except (state.Fail, state.InvalidArgument, state.InvalidGraph, state.InvalidProtobuf, state.NoSuchFile,
            state.NotImplemented) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        msg = f"{path}: onnxruntime cannot load it ({reason}); re-export with `hookseg export --format onnx`"
        raise ModelError(msg, path=path) from None


def load_onnx_model(folder: str | Path) -> tuple[OnnxModel, ModelMeta]:
    """The export's runnable model and its metadata (fields of view and class map from the sidecar)."""
    return OnnxModel(folder), read_meta(folder)


def load_onnx_model_cached(folder: str | Path) -> tuple[OnnxModel, ModelMeta]:
    """``load_onnx_model`` once per process (again if the export changes): Ray workers serve many slides."""
    folder = Path(folder).resolve()
    stamps = tuple(p.stat().st_mtime_ns for p in sorted(folder.iterdir()) if p.is_file())
    return _load_keyed(str(folder), stamps)


@lru_cache(maxsize=2)
def _load_keyed(folder: str, stamps: tuple[int, ...]) -> tuple[OnnxModel, ModelMeta]:
    return load_onnx_model(folder)
