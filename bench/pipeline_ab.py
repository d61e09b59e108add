"""Paired A/B of the whole-slide pipeline: ``predict_probabilities`` of another commit against this tree's.

On a shared 2-core machine one efficiency median moves by 0.05 between runs (``bench/wsi_infer.py``), more
than most changes to the pipeline. Here both versions and the model alone run in the same process, on the
same model, slide and in-memory batches, in a shuffled order each round, so drift hits them alike; the change
is the mean of the per-round differences in efficiency (pipeline over model-only tiles/s) with a bootstrap
95% CI. Only ``hookseg/infer/predict.py`` comes from the other commit (what it imports is this tree's).

Usage: python bench/pipeline_ab.py [--base HEAD] [--model M.keras] [--runtime keras|onnx] [--rounds 20]
       [--size 8000]
Without --model: a random-init student of the demo's shape (MobileNetV3-Small U-Net, 128 px at 2 um/px), the
model fast enough for the pipeline around it to show. Without --base: the last commit against the working
tree.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def module_at(rev: str, tmp: Path):
    """``hookseg/infer/predict.py`` as it was at ``rev``, imported under another name."""
    shown = subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:hookseg/infer/predict.py"],
                           capture_output=True, text=True)
    if shown.returncode != 0:
        msg = f"--base {rev}: expected a commit that has hookseg/infer/predict.py ({shown.stderr.strip()})"
        raise SystemExit(msg)
    source = shown.stdout
    path = tmp / "predict_at_base.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("predict_at_base", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def demo_student(path: Path) -> Path:
    """A random-init model shaped like the demo's distilled student (params.yaml ``distill``)."""
    from hookseg.model import create_model
    from hookseg.model_io import ModelMeta, save_model
    from hookseg.sampling import FieldOfView

    model = create_model("unet", encoder="mnv3s", input_size=128, decoder_filters=[32, 24, 16, 16, 8])
    return save_model(model, path, ModelMeta(FieldOfView(size=128, mpp=2.0, context_mpp=None)))


def main() -> None:
    import numpy as np

    from bench.wsi_infer import _model_and_batches, _onnx_predictor, make_slide
    from hookseg.infer import InferParams
    from hookseg.infer import predict as current
    from hookseg.slides import open_slide

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD", help="the commit to compare against (e.g. HEAD~1)")
    parser.add_argument("--model", default=None, help="a .keras model (a random-init one times the same)")
    parser.add_argument("--runtime", default="keras", choices=("keras", "onnx"))
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--size", type=int, default=8000, help="generated slide side in px at 0.5 um/px")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=REPO / "bench") as name:
        tmp = Path(name)
        versions = {"base": module_at(args.base, tmp), "this": current}
        slide_path = make_slide(tmp / "slide.tif", args.size)
        model_path = args.model or str(demo_student(tmp / "student.keras"))
        params = replace(InferParams.load(), batch_size=8, prefetch=2)
        rates: dict[str, list[float]] = {"base": [], "this": [], "model": []}
        with open_slide(slide_path) as slide:
            model, meta, batches = _model_and_batches(model_path, slide)
            if args.runtime == "onnx":
                model = _onnx_predictor(model_path, tmp / "onnx")
            for version in versions.values():  # warm both alike: graph, caches, first-call costs
                version.predict_probabilities(model, meta, slide, tmp / "p.npy", params)
            for round_ in range(args.rounds):
                order = list(rates)
                random.Random(round_).shuffle(order)
                for key in order:
                    start = time.perf_counter()
                    if key == "model":
                        for batch in batches:
                            model.predict_on_batch(batch)
                        tiles = len(batches) * params.batch_size
                    else:
                        pmap = versions[key].predict_probabilities(model, meta, slide, tmp / "p.npy", params)
                        tiles = pmap.tiles
                    rates[key].append(tiles / (time.perf_counter() - start))
    efficiency = {k: [a / m for a, m in zip(rates[k], rates["model"], strict=True)] for k in ("base", "this")}
    diff = np.subtract(efficiency["this"], efficiency["base"])
    rng = np.random.default_rng(0)
    boot = rng.choice(diff, (5000, len(diff))).mean(axis=1)
    print(json.dumps({
        "model": Path(model_path).name, "runtime": args.runtime, "base": args.base, "rounds": args.rounds,
        "tiles_per_s": {k: round(statistics.median(v), 1) for k, v in rates.items()},
        "efficiency_median": {k: round(statistics.median(v), 3) for k, v in efficiency.items()},
        "efficiency_change": round(float(diff.mean()), 3),
        "efficiency_change_ci95": [round(float(np.percentile(boot, q)), 3) for q in (2.5, 97.5)],
    }))


if __name__ == "__main__":
    main()
