"""Train-step throughput of the m-UNet on this machine, plus its parameter budget per part.

Demo scale: munet B0, 256 px, batch 4. Paper scale: munet B4 (B4 context truncated at stride 16),
512 px, batch 2. Synthetic inputs; the first step (graph tracing, 60-120 s on TF) is reported apart
and the steady rate is measured after ``--warmup`` steps.

    python bench/train_step.py                 # demo scale
    python bench/train_step.py --scale paper   # ~3-4 min on 2 cores, ~10 GB RAM
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

from hookseg.losses import branch_losses
from hookseg.model import create_model, parameter_report

SCALES = {
    "demo": {"encoder": "b0", "input_size": 256, "batch": 4},
    "paper": {"encoder": "b4", "input_size": 512, "batch": 2},
}


def bench(scale: str, warmup: int, steps: int) -> dict[str, float]:
    cfg = SCALES[scale]
    size, batch = cfg["input_size"], cfg["batch"]
    start = time.perf_counter()
    model = create_model("munet", encoder=cfg["encoder"], input_size=size)
    build_s = time.perf_counter() - start
    report = parameter_report(model)
    losses, loss_weights = branch_losses(model.output.keys())
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=losses, loss_weights=loss_weights)

    rng = np.random.default_rng(0)
    x = {k: rng.uniform(0, 255, (batch, size, size, 3)).astype("float32") for k in ("target", "context")}
    y = {k: rng.integers(0, 3, (batch, size, size)).astype("int32") for k in ("final", "context")}
    start = time.perf_counter()
    model.train_on_batch(x, y)
    first_s = time.perf_counter() - start
    for _ in range(warmup):
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    step_s = (time.perf_counter() - start) / steps

    print(f"\n== {scale}: munet {cfg['encoder']} {size}px batch {batch} ({keras.backend.backend()}) ==")
    for part, count in report.items():
        print(f"  {part:<16} {count:>12,}")
    print(f"  build {build_s:.1f}s, first step {first_s:.1f}s")
    print(f"  steady: {step_s:.2f} s/step = {1 / step_s:.2f} steps/s = {batch / step_s:.2f} patches/s")
    return {"step_s": step_s, "first_s": first_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=[*SCALES, "both"], default="demo")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    for scale in SCALES if args.scale == "both" else [args.scale]:
        bench(scale, args.warmup, args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
