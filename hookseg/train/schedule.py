"""The paper's stepwise cyclic learning rate: stairs down within a cycle, a lower peak each new cycle.

lr(step) = lr0 * cycle_decay**cycle * stair_decay**stair, where cycle = step // steps_per_cycle and
stair = (step % steps_per_cycle) // steps_per_stair. Jumping back up at each cycle lets the optimiser leave
a poor basin; the falling peaks let it settle ("a decreased jump at each cycle", paper 003, Table 7).
"""

from __future__ import annotations

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
