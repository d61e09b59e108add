"""Slide-level work over Ray: one task per slide, local by default, a cluster when RAY_ADDRESS is set.

A task that raises a HooksegError (bad input) fails alone and is reported; transient failures (a worker
process dying, connection errors) are retried. Results come back as they finish, so one slow slide does not
hold the progress bar of the others.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# Variables a worker needs to behave like the driver (Ray workers on a running cluster do not inherit them).
FORWARDED_ENV = ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL", "MLFLOW_TRACKING_URI", "NO_ALBUMENTATIONS_UPDATE",
                 "HOOKSEG_PARENT_RUN_ID", "PYTHONPATH")


@dataclass(frozen=True)
class TaskFailure:
    item: str
    error: str


def default_workers() -> int | None:
    """``HOOKSEG_WORKERS`` if set (0 = in process, no Ray), else None (Ray with every CPU)."""
    value = os.environ.get("HOOKSEG_WORKERS", "").strip()
    return int(value) if value else None


def init_ray(num_cpus: int | None = None) -> None:
    """Join RAY_ADDRESS's cluster, or start a local one sized to ``num_cpus``; idempotent."""
    import ray

    if ray.is_initialized():
        return
    env = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    address = os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, runtime_env={"env_vars": env}, log_to_driver=True)
        log.info("joined Ray cluster at %s", address)
    else:
        _keep_on_loopback()
        ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, runtime_env={"env_vars": env},
                 object_store_memory=256 * 2**20, log_to_driver=True)
        log.info("started a local Ray runtime on %s", ray.util.get_node_ip_address())


def _keep_on_loopback() -> None:
    """Make the local Ray runtime's node address 127.0.0.1, so its gRPC servers bind loopback only.

    On Linux Ray 2.60 takes the host's routable address as the node address and its GCS, raylet and worker
    servers bind every interface (``::``). Ray's own laptop mode (the macOS and Windows default, switched by
    ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``) uses 127.0.0.1 instead, and each server then binds that address.
    The variable is read when ``ray`` is imported, so a driver that imported it earlier gets the module
    constant set too; the processes Ray starts inherit the variable. Joining a wider cluster goes through
    ``RAY_ADDRESS`` and never comes here.
    """
    from ray._private import ray_constants

    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False


def map_slides(
    fn: Callable[..., Any],
    items: Sequence[str],
    args: Iterable[tuple[Any, ...]],
    *,
    num_cpus: float = 1.0,
    max_retries: int = 2,
    on_result: Callable[[str, Any], None] | None = None,
) -> tuple[dict[str, Any], list[TaskFailure]]:
    """Run ``fn(*args_i)`` for each item as a Ray task; return results by item and the failures."""
    import ray

    from hookseg.errors import HooksegError

    remote = ray.remote(num_cpus=num_cpus, max_retries=max_retries,
                        retry_exceptions=[ConnectionError, TimeoutError])(fn)
    pending = {remote.remote(*a): item for item, a in zip(items, args, strict=True)}
    results: dict[str, Any] = {}
    failures: list[TaskFailure] = []
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        ref = done[0]
        item = pending.pop(ref)
        try:
            results[item] = ray.get(ref)
        except HooksegError as err:  # RayTaskError subclasses the user's exception type
            failures.append(TaskFailure(item, _one_line(err)))
        except ray.exceptions.RayError as err:
            failures.append(
                TaskFailure(item, _one_line(err.cause if hasattr(err, "cause") and err.cause else err))
            )
        else:
            if on_result is not None:
                on_result(item, results[item])
            continue
        log.error("%s failed: %s", item, failures[-1].error)
    return results, failures


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    message = (
        next((line for line in reversed(text) if line.strip()), type(err).__name__)
        if text
        else type(err).__name__
    )
    return message.strip()


def run_slides(
    fn: Callable[..., Any],
    items: Sequence[str],
    args: Sequence[tuple[Any, ...]],
    *,
    workers: int | None = None,
    on_result: Callable[[str, Any], None] | None = None,
) -> tuple[dict[str, Any], list[TaskFailure]]:
    """``map_slides`` over Ray, or in this process when ``workers == 0`` or there is a single slide.

    In process, a HooksegError fails its slide alone, as it does in a Ray task.
    """
    if not items:
        return {}, []
    if workers != 0 and len(items) > 1:
        init_ray(workers)
        return map_slides(fn, items, args, on_result=on_result)
    from hookseg.errors import HooksegError

    results: dict[str, Any] = {}
    failures: list[TaskFailure] = []
    for item, a in zip(items, args, strict=True):
        try:
            results[item] = fn(*a)
        except HooksegError as err:
            failures.append(TaskFailure(item, _one_line(err)))
            log.error("%s failed: %s", item, failures[-1].error)
            continue
        if on_result is not None:
            on_result(item, results[item])
    return results, failures
