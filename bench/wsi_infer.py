"""Whole-slide inference throughput and memory.

1. A generated 20k x 20k slide (0.5 um/px) through ``predict_probabilities`` with the demo m-UNet (B0, random
   init): tiles/s and Mpx/s of the whole pipeline (reads, prefetch, model, blending, disk writes), against the
   model alone on in-memory batches of the same tiles -> pipeline efficiency (goal >= 0.8).
2. Peak RSS of the whole pipeline on a 10k x 10k and a 40k x 40k slide (each in a fresh process, with a
   1x1-conv model so the 40k run takes minutes): memory should not grow with slide area.

Usage: python bench/wsi_infer.py [--size 20000] [--fov-mpp 2.0] [--skip-rss]
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


def throughput(size: int, fov_mpp: float, tmp: Path) -> dict:
    import numpy as np

    from hookseg.infer import InferParams, predict_probabilities
    from hookseg.infer.predict import _read_batch
    from hookseg.model import create_model
    from hookseg.model_io import ModelMeta
    from hookseg.sampling import FieldOfView
    from hookseg.slides import open_slide

    slide_path = make_slide(tmp / "slide.tif", size)
    model = create_model("munet", encoder="b0", input_size=128, context_ratio=4)
    meta = ModelMeta(FieldOfView(size=128, mpp=fov_mpp, context_size=128, context_mpp=fov_mpp * 4))
    params = replace(InferParams.load(), batch_size=8, prefetch=2)
    with open_slide(slide_path) as slide:
        warm = _read_batch(slide, meta, [(0, 0)] * params.batch_size)
        model.predict_on_batch(warm)  # graph built before timing
        start = time.perf_counter()
        pmap = predict_probabilities(model, meta, slide, tmp / "probs.npy", params)
        pipeline_s = time.perf_counter() - start
        # The model alone on in-memory batches of the same tiles (a sample of them).
        batches = [_read_batch(slide, meta, [(x * 96, y * 96) for x in range(8)]) for y in range(24)]
    start = time.perf_counter()
    for batch in batches:
        model.predict_on_batch(batch)
    model_tile_s = (time.perf_counter() - start) / (len(batches) * params.batch_size)
    tiles_per_s = pmap.tiles / pipeline_s
    output_mpx = pmap.shape[0] * pmap.shape[1] / 1e6
    return {"slide_px": size, "fov_mpp": fov_mpp, "tiles": pmap.tiles, "pipeline_s": round(pipeline_s, 1),
            "pipeline_tiles_per_s": round(tiles_per_s, 2),
            "pipeline_slide_mpx_per_s": round(size * size / 1e6 / pipeline_s, 1),
            "output_mpx_per_s": round(output_mpx / pipeline_s, 2),
            "model_only_tiles_per_s": round(1 / model_tile_s, 2),
            "efficiency": round(tiles_per_s * model_tile_s, 3),
            "probs_nonzero": bool(np.asarray(pmap.open()).any())}


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
    parser.add_argument("--rss-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tmp", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, args.fov_mpp, args.tmp)
        return
    with tempfile.TemporaryDirectory(dir=REPO / "bench") as tmp:
        print(json.dumps(throughput(args.size, args.fov_mpp, Path(tmp))))
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
