"""What a prediction task runs in a (Ray) worker: the model is loaded once per process and kept."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

from hookseg.infer.params import InferParams


def predict_task(model_path: str, slide_path: str, slide_id: str, mpp: float | None, out_dir: str,
                 params: InferParams) -> dict[str, Any]:
    """Predict one slide; class names and colours come from the model's own class map."""
    from hookseg.infer.slide import predict_slide
    from hookseg.model_io import load_model_cached

    model, meta = load_model_cached(model_path)
    with tqdm(desc=slide_id, unit="tile", leave=False, mininterval=2.0, file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        return predict_slide(model, meta, slide_path, out_dir, params, slide_id=slide_id, mpp=mpp,
                             progress=progress)
