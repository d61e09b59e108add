"""Whole-slide inference throughput and memory.

1. A generated 20k x 20k slide (0.5 um/px) through ``predict_probabilities`` with the demo m-UNet (B0, random
   init, or ``--model``), in Keras and in onnxruntime (its ONNX export): tiles/s of the whole pipeline (reads,
   prefetch, model, blending, disk writes) against the model alone on in-memory batches of the same kind of
   tiles -> pipeline efficiency (goal: median >= 0.95), as the median and range of interleaved repeats.
2. Peak RSS of the whole pipeline on a 10k x 10k and a 40k x 40k slide (each in a fresh process, with a
   1x1-conv model so the 40k run takes minutes): memory should not grow with slide area.

Usage: python bench/wsi_infer.py [--size 20000] [--fov-mpp 2.0] [--repeats 5] [--runtimes keras,onnx]
       [--model M.keras [--model S.keras]] [--skip-rss]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def make_slide(path: Path, size: int) -> Path:
    from bench.read_regions import tissue_like_tiles
    from hookseg.slides import write_pyramid

    return write_pyramid(path, (size, size), tissue_like_tiles(), mpp=0.5)


def throughput(size: int, fov_mpp: float, tmp: Path, repeats: int, runtimes: list[str],
               model_paths: list[str] | None = None) -> list[dict]:
    """Pipeline vs model-only tiles/s per model and runtime over ``repeats`` interleaved rounds (on a shared
    machine one run can be off by 20%): the median of each, and the median and range of their ratio (the
    efficiency). Several models (a teacher and its student) share the rounds, so drift hits them alike."""
    import statistics

    import numpy as np

    from hookseg.infer import InferParams
    from hookseg.model import create_model
    from hookseg.model_io import ModelMeta, save_model
    from hookseg.sampling import FieldOfView
    from hookseg.slides import open_slide

    slide_path = make_slide(tmp / "slide.tif", size)
    if not model_paths:
        model = create_model("munet", encoder="b0", input_size=128, context_ratio=4)
        meta = ModelMeta(FieldOfView(size=128, mpp=fov_mpp, context_size=128, context_mpp=fov_mpp * 4))
        model_paths = [str(save_model(model, tmp / "m.keras", meta))]
    params = replace(InferParams.load(), batch_size=8, prefetch=2)
    runs: dict[tuple[str, str], dict] = {}
    with open_slide(slide_path) as slide:
        for index, path in enumerate(model_paths):
            model, meta, batches = _model_and_batches(path, slide)
            for runtime in runtimes:
                predictor = model if runtime == "keras" else _onnx_predictor(path, tmp / f"onnx{index}")
                predictor.predict_on_batch(batches[0])  # graph built / session warmed before timing
                runs[(path, runtime)] = {"predictor": predictor, "meta": meta, "batches": batches,
                                         "pipeline": [], "model": []}
        for _ in range(repeats):
            for (path, _runtime), run in runs.items():  # interleaved: drift hits every model and runtime
                pmap = _time_pipeline(run, slide, tmp / "probs.npy", params)
                assert np.asarray(pmap.open()).any(), path
                start = time.perf_counter()
                for batch in run["batches"]:  # the model alone on in-memory batches of the same kind of tiles
                    run["predictor"].predict_on_batch(batch)
                seconds = time.perf_counter() - start
                run["model"].append(len(run["batches"]) * params.batch_size / seconds)
                run["tiles"], run["shape"] = pmap.tiles, pmap.shape
    rows = []
    for (path, runtime), r in runs.items():
        ratios = [a / b for a, b in zip(r["pipeline"], r["model"], strict=True)]
        rows.append({"model": Path(path).name, "runtime": runtime, "slide_px": size,
                     "fov_mpp": r["meta"].fov.mpp, "tiles": r["tiles"],
                     "output_mpx": round(r["shape"][0] * r["shape"][1] / 1e6, 2), "repeats": repeats,
                     "pipeline_tiles_per_s": round(statistics.median(r["pipeline"]), 2),
                     "model_only_tiles_per_s": round(statistics.median(r["model"]), 2),
                     "efficiency_median": round(statistics.median(ratios), 3),
                     "efficiency_min": round(min(ratios), 3), "efficiency_max": round(max(ratios), 3)})
    return rows


def _model_and_batches(path: str, slide) -> tuple:
    """The Keras model, its metadata and in-memory batches read as predict reads them (once per model)."""
    from hookseg.infer.tile_reads import read_batch
    from hookseg.model_io import load_model

    model, meta = load_model(path)
    stride = meta.fov.size * 3 // 4
    batches = [read_batch(slide, meta, [(x * stride, y * stride) for x in range(8)]) for y in range(24)]
    return model, meta, batches


def _onnx_predictor(path: str, onnx_dir: Path):
    """The model's ONNX export, run by onnxruntime."""
    from hookseg.export import export_model
    from hookseg.infer.onnx_model import OnnxModel

    return OnnxModel(export_model(path, onnx_dir, "onnx"))


def _time_pipeline(run: dict, slide, out: Path, params):
    from hookseg.infer import predict_probabilities

    start = time.perf_counter()
    pmap = predict_probabilities(run["predictor"], run["meta"], slide, out, params)
    run["pipeline"].append(pmap.tiles / (time.perf_counter() - start))
    return pmap


def rss_child(size: int, fov_mpp: float, tmp: str) -> None:
    """Runs in a fresh process: prints JSON with peak RSS of predicting one slide with a 1x1-conv model."""
    import resource

    import keras

    from hookseg.infer import InferParams, predict_probabilities
    from hookseg.model_io import ModelMeta
    from hookseg.sampling import FieldOfView
    from hookseg.slides import open_slide

    slide_path = Path(tmp) / f"slide{size}.tif"
    target = keras.Input((128, 128, 3), name="target")
    context = keras.Input((128, 128, 3), name="context")
    head = keras.layers.Conv2D(3, 1, activation="softmax", name="final")
    model = keras.Model([target, context], {"final": head(target)})
    meta = ModelMeta(FieldOfView(size=128, mpp=fov_mpp, context_size=128, context_mpp=fov_mpp * 4))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    with open_slide(slide_path) as slide:
        pmap = predict_probabilities(model, meta, slide, Path(tmp) / f"probs{size}.npy",
                                     replace(InferParams.load(), batch_size=16))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"slide_px": size, "tiles": pmap.tiles, "seconds": round(time.perf_counter() - start, 1),
                      "rss_mib_after_imports": round(before), "peak_rss_mib": round(peak)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--fov-mpp", type=float, default=2.0)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds per runtime")
    parser.add_argument("--runtimes", default="keras,onnx", help="keras and/or onnx (onnxruntime)")
    parser.add_argument("--model", action="append", default=None,
                        help="a trained .keras; repeat to interleave several (default: a random-init m-UNet)")
    parser.add_argument("--rss-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tmp", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, args.fov_mpp, args.tmp)
        return
    with tempfile.TemporaryDirectory(dir=REPO / "bench") as tmp:
        for row in throughput(args.size, args.fov_mpp, Path(tmp), args.repeats, args.runtimes.split(","),
                              args.model):
            print(json.dumps(row))
        if not args.skip_rss:
            for size in (10000, 40000):
                # Written by a separate process: the writer's memmaps must not count in the measured RSS.
                subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO)!r}); "
                                f"from bench.wsi_infer import make_slide; from pathlib import Path; "
                                f"make_slide(Path({tmp!r}) / 'slide{size}.tif', {size})"], check=True)
                out = subprocess.run([sys.executable, __file__, "--rss-child", str(size), "--fov-mpp",
                                      str(args.fov_mpp), "--tmp", tmp],
                                     capture_output=True, text=True, check=True)
                print(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
