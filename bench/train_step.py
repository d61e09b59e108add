"""Where a training stage's time goes on this machine: graph builds (first train, validation and predict
step) against steady steps, for a stage of a training config compiled exactly as ``hookseg train`` does.

Synthetic in-memory batches, so this is the model alone; ``bench/loader.py`` measures the loader. Compare
with a real run's s/step (``make demo`` logs): the difference is loading, augmentation and callbacks.

    python bench/train_step.py                                  # configs/demo.yaml master: B0 128 px, batch 8
    python bench/train_step.py --stage base
    python bench/train_step.py --no-logits-loss                 # the clipped-probability loss of before
    python bench/train_step.py --steps-per-execution 5 --jit-compile true
    python bench/train_step.py --no-grappler                    # TF: skip graph optimisation (faster build?)
    python bench/train_step.py --config configs/paper.yaml      # ~10 GB RAM, minutes per build
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

from hookseg.annotations import ClassMap
from hookseg.model import create_model, parameter_report
from hookseg.train.config import StageConfig, load_stage_config
from hookseg.train.loop import compile_model


class Synthetic(keras.utils.PyDataset):
    """``steps`` fixed random batches of the stage's shapes (no reading, no augmentation)."""

    def __init__(self, config: StageConfig, steps: int, num_classes: int) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        fov, batch = config.fov, config.train.batch_size
        names = ["target", "context"] if fov.context_mpp is not None else ["target"]
        x = {k: rng.uniform(0, 255, (batch, fov.size, fov.size, 3)).astype("float32") for k in names}
        y = {("final" if k == "target" else k): rng.integers(0, num_classes, (batch, fov.size, fov.size))
             .astype("int32") for k in names}
        self.batch, self.steps = (x, y), steps

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, i: int):
        return self.batch


class Clock(keras.callbacks.Callback):
    """Wall time of every train batch (the first holds the train graph build) and of each validation."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[float] = []
        self.tests: list[float] = []

    def on_train_batch_begin(self, batch, logs=None) -> None:
        self._t = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None) -> None:
        self.batches.append(time.perf_counter() - self._t)

    def on_test_begin(self, logs=None) -> None:
        self._v = time.perf_counter()

    def on_test_end(self, logs=None) -> None:
        self.tests.append(time.perf_counter() - self._v)


def bench(config: StageConfig, steps: int, val_steps: int) -> dict[str, float]:
    class_map = ClassMap.default()
    start = time.perf_counter()
    model = create_model(config.model.arch, **config.model_kwargs(class_map.num_classes))
    build_s = time.perf_counter() - start
    fitted = compile_model(model, config, class_map)
    spe = config.train.steps_per_execution
    clock = Clock()
    train = Synthetic(config, steps, class_map.num_classes)
    val = Synthetic(config, val_steps, class_map.num_classes)
    start = time.perf_counter()
    fitted.fit(train, validation_data=val, epochs=2, callbacks=[clock], verbose=0)
    fit_s = time.perf_counter() - start
    x = train[0][0]
    start = time.perf_counter()
    model.predict_on_batch(x)
    predict_first_s = time.perf_counter() - start
    start = time.perf_counter()
    model.predict_on_batch(x)
    predict_s = time.perf_counter() - start
    steady = clock.batches[2:] or clock.batches[1:]
    step_s = float(np.median(steady)) / spe  # a callback batch is spe steps
    return {
        "model_build_s": build_s,
        "first_train_call_s": clock.batches[0],
        "train_graph_s": clock.batches[0] - step_s * spe,
        "step_s": step_s,
        "first_validation_s": clock.tests[0],
        "validation_graph_s": clock.tests[0] - clock.tests[-1],
        "validation_s": clock.tests[-1],
        "predict_graph_s": predict_first_s - predict_s,
        "fit_s": fit_s,
        "trainable": parameter_report(model)["total_trainable"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/demo.yaml")
    parser.add_argument("--stage", default="master", choices=("base", "master"))
    parser.add_argument("--steps", type=int, default=6, help="train steps per epoch (two epochs run)")
    parser.add_argument("--val-steps", type=int, default=2)
    parser.add_argument("--steps-per-execution", type=int, default=1)
    parser.add_argument("--jit-compile", choices=("auto", "true", "false"), default="auto")
    parser.add_argument("--no-logits-loss", action="store_true")
    parser.add_argument("--no-grappler", action="store_true", help="TF only: disable the meta optimizer")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    if args.no_grappler and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    config = load_stage_config(args.config, args.stage).with_train(
        logits_loss=not args.no_logits_loss, steps_per_execution=args.steps_per_execution,
        jit_compile={"auto": "auto", "true": True, "false": False}[args.jit_compile],
    )
    t, fov = config.train, config.fov
    encoder = config.model.kwargs.get("encoder")
    print(f"== {args.config}:{args.stage} {config.model.arch} {encoder} {fov.size}px "
          f"batch {t.batch_size}, logits_loss={t.logits_loss}, steps_per_execution={t.steps_per_execution}, "
          f"jit_compile={t.jit_compile}, grappler={'off' if args.no_grappler else 'on'} "
          f"({keras.backend.backend()}) ==")
    result = bench(config, args.steps, args.val_steps)
    for key, value in result.items():
        print(f"  {key:<20} {value:10.2f}" if isinstance(value, float) else f"  {key:<20} {value:>10,}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
