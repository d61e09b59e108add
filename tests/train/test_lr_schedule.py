"""Learning-rate schedules: the warm-up/cosine shape, the cyclic one kept, and the config switch."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hookseg.train.config import TrainSpec
from hookseg.train.schedule import StepwiseCyclicLR, WarmupCosineLR, make_schedule


def _lrs(schedule, steps) -> np.ndarray:
    return np.array([float(keras.ops.convert_to_numpy(schedule(s))) for s in steps])


def test_warmup_rises_linearly_then_cosine_falls_monotonically_to_the_floor() -> None:
    lr0, total, warm, floor = 0.01, 100, 10, 0.02
    lrs = _lrs(WarmupCosineLR(lr0, total, warm, floor, warmup_start=0.1), range(total + 20))
    np.testing.assert_allclose(lrs[:warm], lr0 * (0.1 + 0.9 * np.arange(warm) / warm), rtol=1e-5)
    assert lrs[warm] == pytest.approx(lr0)  # the peak, reached once
    assert lrs.max() == pytest.approx(lr0)
    assert np.all(np.diff(lrs[warm:total + 1]) <= 1e-9)  # never jumps back up
    mid = warm + (total - warm) // 2
    assert lrs[mid] == pytest.approx(lr0 * (floor + (1 - floor) * 0.5), rel=1e-4)
    np.testing.assert_allclose(lrs[total:], lr0 * floor, rtol=1e-5)  # held at the floor after the stage


def test_no_warmup_starts_at_the_peak() -> None:
    lrs = _lrs(WarmupCosineLR(1e-3, 50, 0, 0.0), [0, 25, 50])
    np.testing.assert_allclose(lrs, [1e-3, 5e-4, 0.0], atol=1e-9)


def test_warmup_cosine_checks_its_steps_and_round_trips() -> None:
    with pytest.raises(ValueError, match="warmup_steps"):
        WarmupCosineLR(1e-3, 10, 10)
    schedule = WarmupCosineLR(1e-3, 60, 6, 0.05)
    again = WarmupCosineLR.from_config(schedule.get_config())
    np.testing.assert_allclose(_lrs(again, range(70)), _lrs(schedule, range(70)))


def test_config_selects_the_schedule_over_the_stage_steps() -> None:
    cyclic = make_schedule(TrainSpec(lr0=0.01, steps_per_cycle=80, steps_per_stair=20))
    assert isinstance(cyclic, StepwiseCyclicLR)  # today's default
    assert _lrs(cyclic, [79, 80])[1] > _lrs(cyclic, [79, 80])[0]  # the cyclic jump back up, kept
    spec = TrainSpec(lr0=0.01, epochs=3, steps_per_epoch=40, schedule="warmup_cosine", warmup_steps=5,
                     lr_floor=0.1)
    schedule = make_schedule(spec)
    assert isinstance(schedule, WarmupCosineLR) and schedule.total_steps == 120
    assert _lrs(schedule, [120])[0] == pytest.approx(0.001)
