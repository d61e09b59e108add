"""What a prediction task runs in a (Ray) worker: the model is loaded once per process and kept.

A ``.keras`` file runs in Keras; an ONNX export folder runs in onnxruntime, and then Keras is never imported.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from hookseg.infer.params import InferParams

if TYPE_CHECKING:
    from hookseg.infer.predict import Predictor
    from hookseg.model_meta import ModelMeta


def predict_task(model_path: str, slide_path: str, slide_id: str, mpp: float | None, out_dir: str,
                 params: InferParams, resume_key: str | None = None) -> dict[str, Any]:
    """Predict one slide; class names and colours come from the model's own class map. With ``resume_key``
    (``hookseg.infer.batch.resume_key``), a killed run's finished tile rows are kept."""
    from hookseg.infer.slide import predict_slide

    model, meta = load_predictor_cached(model_path)
    with tqdm(desc=slide_id, unit="tile", leave=False, mininterval=2.0, file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        return predict_slide(model, meta, slide_path, out_dir, params, slide_id=slide_id, mpp=mpp,
                             progress=progress, resume_key=resume_key)


def load_predictor_cached(model_path: str | Path) -> tuple[Predictor, ModelMeta]:
    """(model, ModelMeta) for ``predict_on_batch``: Keras for a ``.keras`` file, onnxruntime for an export."""
    if Path(model_path).is_dir():
        from hookseg.infer.onnx_model import load_onnx_model_cached

        return load_onnx_model_cached(model_path)
    from hookseg.model_io import load_model_cached

    return load_model_cached(model_path)
