"""Backend portability check: build the m-UNet, compute the loss and metric, run train steps.

Run it under each backend, e.g. ``KERAS_BACKEND=jax python bench/backend_check.py`` (jax or torch
must be installed; they are not in the default venv). Exits non-zero on any failure.
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

from hookseg.losses import branch_losses, weighted_ce_dice
from hookseg.metrics import iou_metrics
from hookseg.model import create_model, parameter_report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default="b0")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--ratio", type=int, default=4)
    parser.add_argument("--merge", default="pixel_aligned", choices=["pixel_aligned", "hooknet"])
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    backend = keras.backend.backend()
    print(f"backend={backend} keras={keras.__version__}")

    start = time.perf_counter()
    model = create_model(
        "munet", encoder=args.encoder, input_size=args.size, context_ratio=args.ratio, merge=args.merge
    )
    print(f"build {time.perf_counter() - start:.1f}s  params {parameter_report(model)}")

    rng = np.random.default_rng(0)
    shape = (2, args.size, args.size, 3)
    x = {k: rng.uniform(0, 255, shape).astype("float32") for k in ("target", "context")}
    y = {k: rng.integers(0, 3, (2, args.size, args.size)).astype("int32") for k in ("final", "context")}
    y["final"][:, : args.size // 8] = 255

    out = model(x, training=False)
    for key, probs in out.items():
        probs = keras.ops.convert_to_numpy(probs)
        if probs.shape != (2, args.size, args.size, 3) or not np.allclose(probs.sum(-1), 1, atol=1e-4):
            print(f"FAIL: output {key} shape {probs.shape} or not a softmax")
            return 1
        loss = float(keras.ops.convert_to_numpy(weighted_ce_dice(y[key], probs)))
        print(f"loss[{key}] = {loss:.4f}")

    losses, loss_weights = branch_losses(model.output.keys())
    model.compile(optimizer="adam", loss=losses, loss_weights=loss_weights, metrics={"final": iou_metrics(3)})
    for step in range(args.steps):
        start = time.perf_counter()
        logs = model.train_on_batch(x, y, return_dict=True)
        loss = float(logs["loss"])
        print(f"train step {step}: {time.perf_counter() - start:.1f}s loss={loss:.4f}")
        if not np.isfinite(loss):
            print("FAIL: non-finite loss")
            return 1
    print(f"OK {backend}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
