"""What a prediction task runs in a (Ray) worker: the model is loaded once per process and kept."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from tqdm import tqdm

from hookseg.infer.params import InferParams


@lru_cache(maxsize=2)
def _cached_model(path: str, mtime: float):  # noqa: ANN202 - (keras.Model, ModelMeta)
    from hookseg.model_io import load_model  # noqa: PLC0415

    return load_model(path)


def predict_task(model_path: str, slide_path: str, slide_id: str, mpp: float | None, out_dir: str,
                 params: InferParams, classes_path: str | None) -> dict[str, Any]:
    from hookseg.annotations import ClassMap  # noqa: PLC0415
    from hookseg.infer.slide import predict_slide  # noqa: PLC0415

    model, meta = _cached_model(model_path, Path(model_path).stat().st_mtime)
    class_map = ClassMap.from_yaml(classes_path) if classes_path else ClassMap.default()
    with tqdm(desc=slide_id, unit="tile", leave=False, mininterval=2.0, file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        return predict_slide(model, meta, slide_path, out_dir, params, class_map, slide_id=slide_id, mpp=mpp,
                             progress=progress)
