"""``predict_slide``: one slide in, its label map, probabilities, regions, overlay and summary out.

The summary is written last, so its presence means the slide is done: a rerun skips it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hookseg.infer.outputs import SlideOutputs
from hookseg.infer.params import InferParams
from hookseg.infer.postprocess import clean_regions, coarse_probabilities, labels_from_probs
from hookseg.infer.predict import Predictor, RowCheckpoint, predict_probabilities
from hookseg.infer.writers import write_overlay_png, write_probability_tiffs, write_regions_geojson
from hookseg.io import write_json
from hookseg.model_meta import ModelMeta
from hookseg.sampling.labels import write_label_raster
from hookseg.slides import open_slide

__all__ = ["SlideOutputs", "predict_slide"]

log = logging.getLogger(__name__)


def predict_slide(
    model: Predictor, meta: ModelMeta, slide_path: str | Path, out_dir: str | Path, params: InferParams,
    *, slide_id: str | None = None, mpp: float | None = None,
    progress: Callable[[int, int], None] | None = None, resume_key: str | None = None,
) -> dict[str, Any]:
    """Predict one slide into ``out_dir/<slide_id>/``; returns (and writes) its summary.

    With ``resume_key``, a run killed while predicting continues from the tile rows it had finished
    (``predict_probabilities``); scratch probabilities and progress record go once it is done.

    Class names, colours and regions follow the class map saved in the model (``meta.class_map``).
    """
    class_map = meta.class_map
    start = time.perf_counter()
    slide_path = Path(slide_path)
    slide_id = slide_id or slide_path.stem
    outputs = SlideOutputs(Path(out_dir) / slide_id)
    outputs.folder.mkdir(parents=True, exist_ok=True)
    scratch = outputs.folder / ".probabilities.npy"
    with open_slide(slide_path, mpp=mpp) as slide:
        pmap = predict_probabilities(model, meta, slide, scratch, params, progress=progress,
                                     resume_key=resume_key)
        probs = pmap.open()
        out_mpp = pmap.mpp
        factor = max(1, round(params.postprocess_mpp / out_mpp))
        coarse = coarse_probabilities(probs, factor)
        coarse_raw = labels_from_probs(coarse, params, meta.class_names)
        coarse_labels = clean_regions(coarse_raw, coarse, params, (out_mpp * factor) ** 2)
        changed = coarse_raw != coarse_labels
        counts = np.zeros(len(meta.class_names), np.int64)

        def labels_of(x: int, y: int, w: int, h: int) -> np.ndarray:
            labels = labels_from_probs(np.asarray(probs[y : y + h, x : x + w]), params, meta.class_names)
            rows, cols = (y + np.arange(h)) // factor, (x + np.arange(w)) // factor
            override = changed[rows[:, None], cols[None, :]]
            labels[override] = coarse_labels[rows[:, None], cols[None, :]][override]
            counts[:] += np.bincount(labels.ravel(), minlength=len(counts))[: len(counts)]
            return labels

        height, width = pmap.shape[:2]
        write_label_raster(outputs.labels, labels_of, size=(width, height), mpp=out_mpp)
        write_probability_tiffs(outputs.probability_parts(len(meta.class_names)), probs, out_mpp)
        regions = write_regions_geojson(outputs.regions, coarse_labels, out_mpp * factor / slide.mpp,
                                        class_map, params.simplify_um / (out_mpp * factor), slide.dimensions)
        thumbnail, _ = slide.thumbnail(params.overlay_size)
        b = slide.bounds
        s = out_mpp / slide.mpp
        crop = coarse_labels[int(b.y / s / factor) : int(np.ceil((b.y + b.height) / s / factor)),
                             int(b.x / s / factor) : int(np.ceil((b.x + b.width) / s / factor))]
        write_overlay_png(outputs.overlay, thumbnail, crop, class_map.colors)
    RowCheckpoint.path_of(scratch).unlink(missing_ok=True)
    scratch.unlink(missing_ok=True)  # POSIX: the read-only mapping of `probs` stays valid until it is freed
    pixel_mm2 = (out_mpp / 1000.0) ** 2
    area = {name: float(counts[i] * pixel_mm2) for i, name in enumerate(meta.class_names)}
    summary = {
        "slide_id": slide_id,
        "slide": str(slide_path),
        "mpp": out_mpp,
        "tiles": pmap.tiles,
        "tiles_resumed": pmap.resumed_tiles,
        "area_mm2": area,
        **_tumour_fraction(area, meta.class_names),
        "regions": regions,
        "runtime_s": round(time.perf_counter() - start, 2),
        "outputs": {k: getattr(outputs, k).name for k in ("labels", "probabilities", "regions", "overlay")},
    }
    write_json(outputs.summary, summary)
    return summary


def _tumour_fraction(area: dict[str, float], names: tuple[str, ...]) -> dict[str, float]:
    """Tumour share of the area predicted as any non-background class, for models with a ``tumour`` class."""
    if "tumour" not in names:
        return {}
    foreground = sum(v for k, v in area.items() if k != names[0])
    share = float(area["tumour"] / foreground) if foreground > 0 else 0.0
    return {"tumour_fraction_of_non_background": share}
