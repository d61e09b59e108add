"""Slide work over real Ray workers: a worker process that dies (after its retries) becomes a failure record
naming the slide, and the other slides finish; in process, a bad slide fails alone the same way."""

from __future__ import annotations

import os

import pytest

from hookseg.errors import SlideError
from hookseg.parallel import run_slides


def _task_that_kills_its_worker_on(doomed: str):
    """A slide task (defined here, so Ray ships it by value) whose worker process exits on ``doomed``."""

    def task(item: str) -> str:
        if item == doomed:
            os._exit(1)  # a crash no Python handler sees: segfault, OOM kill
        return item.upper()

    return task


def test_a_worker_that_dies_is_a_failure_and_the_others_finish():
    pytest.importorskip("ray")
    items = ["a", "dies", "b"]
    results, failures = run_slides(_task_that_kills_its_worker_on("dies"), items, [(i,) for i in items],
                                   workers=2)
    assert results == {"a": "A", "b": "B"}
    assert [f.item for f in failures] == ["dies"]
    assert "worker" in failures[0].error.lower() or "died" in failures[0].error.lower(), failures[0].error


def test_in_process_a_bad_slide_fails_alone():
    def task(item: str) -> str:
        if item == "bad":
            msg = f"{item}: truncated"
            raise SlideError(msg)
        return item

    results, failures = run_slides(task, ["x", "bad", "y"], [("x",), ("bad",), ("y",)], workers=0)
    assert results == {"x": "x", "y": "y"}
    assert [(f.item, f.error) for f in failures] == [("bad", "bad: truncated")]
