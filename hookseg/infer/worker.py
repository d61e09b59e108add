"""What a prediction task runs in a (Ray) worker: the model is loaded once per process and kept."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

from hookseg.infer.params import InferParams


def predict_task(model_path: str, slide_path: str, slide_id: str, mpp: float | None, out_dir: str,
                 params: InferParams, classes_path: str | None) -> dict[str, Any]:
    from hookseg.annotations import ClassMap  # noqa: PLC0415
    from hookseg.infer.slide import predict_slide  # noqa: PLC0415
    from hookseg.model_io import load_model_cached  # noqa: PLC0415

    model, meta = load_model_cached(model_path)
    class_map = ClassMap.from_yaml(classes_path) if classes_path else ClassMap.default()
    with tqdm(desc=slide_id, unit="tile", leave=False, mininterval=2.0, file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        return predict_slide(model, meta, slide_path, out_dir, params, class_map, slide_id=slide_id, mpp=mpp,
                             progress=progress)
