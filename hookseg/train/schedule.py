"""The paper's stepwise cyclic learning rate: stairs down within a cycle, a lower peak each new cycle.

lr(step) = lr0 * cycle_decay**cycle * stair_decay**stair, where cycle = step // steps_per_cycle and
stair = (step % steps_per_cycle) // steps_per_stair. Jumping back up at each cycle lets the optimiser leave
a poor basin; the falling peaks let it settle ("a decreased jump at each cycle", paper 003, Table 7).

:class:`WarmupCosineLR` (``train.schedule: warmup_cosine``) is the alternative for a lineage of short
phases that each continue the previous one: warm up, then anneal once to a floor within the stage.
"""

from __future__ import annotations

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="hookseg")
class StepwiseCyclicLR(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(
        self, initial_learning_rate: float, steps_per_cycle: int, steps_per_stair: int,
        stair_decay: float = 0.5, cycle_decay: float = 0.7, min_learning_rate: float = 1e-6,
        name: str = "stepwise_cyclic_lr",
    ) -> None:
        super().__init__()
        if steps_per_cycle <= 0 or steps_per_stair <= 0:
            msg = (f"steps_per_cycle and steps_per_stair must be positive. Received: "
                   f"steps_per_cycle={steps_per_cycle}, steps_per_stair={steps_per_stair}")
            raise ValueError(msg)
        self.initial_learning_rate = float(initial_learning_rate)
        self.steps_per_cycle = int(steps_per_cycle)
        self.steps_per_stair = int(steps_per_stair)
        self.stair_decay = float(stair_decay)
        self.cycle_decay = float(cycle_decay)
        self.min_learning_rate = float(min_learning_rate)
        self.name = name

    def __call__(self, step):
        step = ops.cast(step, "float32")
        cycle = ops.floor(step / self.steps_per_cycle)
        stair = ops.floor((step - cycle * self.steps_per_cycle) / self.steps_per_stair)
        lr = (
            self.initial_learning_rate
            * ops.power(self.cycle_decay, cycle)
            * ops.power(self.stair_decay, stair)
        )
        return ops.maximum(lr, self.min_learning_rate)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "steps_per_cycle": self.steps_per_cycle,
            "steps_per_stair": self.steps_per_stair,
            "stair_decay": self.stair_decay,
            "cycle_decay": self.cycle_decay,
            "min_learning_rate": self.min_learning_rate,
            "name": self.name,
        }


@keras.saving.register_keras_serializable(package="hookseg")
class WarmupCosineLR(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from ``lr0 * warmup_start`` to ``lr0`` over ``warmup_steps``, then a cosine down to
    ``lr0 * floor`` at ``total_steps`` (held there after). One phase anneals once: each phase of the lineage
    starts from the previous one's weights, so it needs a short warm-up (fresh Adam moments) and an end
    at a low rate, not a jump back to its peak."""

    def __init__(
        self, initial_learning_rate: float, total_steps: int, warmup_steps: int = 0, floor: float = 0.01,
        warmup_start: float = 0.1, name: str = "warmup_cosine_lr",
    ) -> None:
        super().__init__()
        if total_steps <= 0 or not 0 <= warmup_steps < total_steps:
            msg = (f"expected 0 <= warmup_steps < total_steps. Received: warmup_steps={warmup_steps}, "
                   f"total_steps={total_steps}")
            raise ValueError(msg)
        self.initial_learning_rate = float(initial_learning_rate)
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)
        self.floor = float(floor)
        self.warmup_start = float(warmup_start)
        self.name = name

    def __call__(self, step):
        step = ops.cast(step, "float32")
        lr0 = self.initial_learning_rate
        warm = max(self.warmup_steps, 1)
        ramp = lr0 * (self.warmup_start + (1.0 - self.warmup_start) * ops.minimum(step / warm, 1.0))
        progress = ops.clip((step - self.warmup_steps) / (self.total_steps - self.warmup_steps), 0.0, 1.0)
        cosine = lr0 * (self.floor + (1.0 - self.floor) * 0.5 * (1.0 + ops.cos(math.pi * progress)))
        return ops.where(step < self.warmup_steps, ramp, cosine)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "floor": self.floor,
            "warmup_start": self.warmup_start,
            "name": self.name,
        }


SCHEDULES = ("cyclic", "warmup_cosine")


def make_schedule(train) -> keras.optimizers.schedules.LearningRateSchedule:
    """The stage's schedule from its TrainSpec: ``cyclic`` (the paper's, the default) or ``warmup_cosine``
    over the stage's ``epochs * steps_per_epoch`` steps."""
    if train.schedule == "warmup_cosine":
        total = train.epochs * train.steps_per_epoch
        return WarmupCosineLR(train.lr0, total, min(train.warmup_steps, total - 1), train.lr_floor)
    return StepwiseCyclicLR(train.lr0, train.steps_per_cycle, train.steps_per_stair, train.stair_decay,
                            train.cycle_decay)
