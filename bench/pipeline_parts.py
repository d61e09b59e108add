"""What each part of the whole-slide pipeline costs the model beside it: efficiency with parts switched off.

``predict_probabilities`` runs the model on the main thread while a reader thread reads tiles from OpenSlide
and a blender thread blends and writes rows; before the first tile the main thread computes the slide's
tissue mask. On two cores each of them takes cycles from the model. Each round times, in shuffled order, the
full pipeline and variants with reads served from memory (``no_read``), blending and writing skipped
(``no_blend``), the tissue mask computed beforehand (``no_tissue``) and all three (``none``), each over the
model alone on in-memory batches, and prints the median efficiency of each. The gap between ``full`` and a
variant is what that part costs; ``none`` is what is left (padding of the last batch, thread hand-offs, the
last rows).

Usage: python bench/pipeline_parts.py [--model S.keras] [--runtime keras|onnx] [--rounds 12] [--size 8000]
Without --model: a random-init model shaped like the demo's student (``bench/pipeline_ab.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    from bench.pipeline_ab import demo_student
    from bench.wsi_infer import _model_and_batches, _onnx_predictor, make_slide
    from hookseg.infer import InferParams
    from hookseg.infer import predict as predict_module
    from hookseg.slides import open_slide

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a .keras model (default: a random-init demo student)")
    parser.add_argument("--runtime", default="keras", choices=("keras", "onnx"))
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--size", type=int, default=8000, help="generated slide side in pixels (0.5 um/px)")
    args = parser.parse_args()
    params = replace(InferParams.load(), batch_size=8, prefetch=2)
    real = {name: getattr(predict_module, name) for name in ("read_batch", "_blend", "tissue_mask")}
    with tempfile.TemporaryDirectory(dir=REPO / "bench") as folder:
        tmp = Path(folder)
        model_path = args.model or str(demo_student(tmp / "student.keras"))
        with open_slide(make_slide(tmp / "slide.tif", args.size)) as slide:
            model, meta, batches = _model_and_batches(model_path, slide)
            predictor = model if args.runtime == "keras" else _onnx_predictor(model_path, tmp / "onnx")
            predictor.predict_on_batch(batches[0])
            mask = real["tissue_mask"](slide)
            read_cache: dict[tuple, dict] = {}

            def read_from_memory(slide, meta, tiles):
                key = tuple(tiles)
                if key not in read_cache:
                    read_cache[key] = real["read_batch"](slide, meta, tiles)
                return read_cache[key]

            no_read = {"read_batch": read_from_memory}
            no_blend = {"_blend": lambda *args: None}
            no_tissue = {"tissue_mask": lambda slide: mask}
            variants = {"full": {}, "no_read": no_read, "no_blend": no_blend, "no_tissue": no_tissue,
                        "none": {**no_read, **no_blend, **no_tissue}}
            out = tmp / "probabilities.npy"

            def run(name: str) -> float:
                """Pipeline tiles/s with ``name``'s parts swapped in."""
                for attribute, value in variants[name].items():
                    setattr(predict_module, attribute, value)
                try:
                    start = time.perf_counter()
                    tiles = predict_module.predict_probabilities(predictor, meta, slide, out, params).tiles
                    return tiles / (time.perf_counter() - start)
                finally:
                    for attribute, value in real.items():
                        setattr(predict_module, attribute, value)

            run("no_read")  # fills the in-memory reads before any round is timed
            ratios: dict[str, list[float]] = {name: [] for name in variants}
            for _ in range(args.rounds):
                start = time.perf_counter()
                for batch in batches:
                    predictor.predict_on_batch(batch)
                model_only = len(batches) * params.batch_size / (time.perf_counter() - start)
                for name in random.sample(list(variants), len(variants)):
                    ratios[name].append(run(name) / model_only)
    print(json.dumps({"model": Path(model_path).name, "runtime": args.runtime, "rounds": args.rounds,
                      "efficiency_median": {k: round(statistics.median(v), 3) for k, v in ratios.items()}}))


if __name__ == "__main__":
    main()
