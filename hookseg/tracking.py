"""MLflow tracking: a local SQLite store by default, ``MLFLOW_TRACKING_URI`` for a server.

Runs are tagged with the stage, the config hash and the git commit so a metric can be traced to the code
and settings that produced it. A run id is kept beside a stage's checkpoints so a resumed stage logs into
the run it started.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_EXPERIMENT = "hookseg"


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else ``sqlite:///<cwd>/mlflow.db`` (3.17 refuses the file store)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd().resolve() / 'mlflow.db'}"


def is_server_uri(uri: str) -> bool:
    """An MLflow tracking server (http or https), as opposed to a local store such as the SQLite default."""
    return uri.startswith(("http://", "https://"))


def check_server(uri: str | None = None, timeout: float = 5.0) -> None:
    """Fail now, in one line, when an http(s) tracking URI does not answer.

    MLflow's client retries a dead server with backoff for minutes and then raises from deep inside a stage
    that may have trained for an hour; a stage that logs only at its end calls this before its work.
    Any HTTP answer counts as alive (an auth proxy may refuse ``/health``); only a connection that fails does
    not. Other URIs (the SQLite default, ``databricks``) pass unchecked.
    """
    from hookseg.errors import ConfigError

    uri = uri or tracking_uri()
    if not is_server_uri(uri):
        return
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout):
            return
    except urllib.error.HTTPError:
        return
    except (OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        msg = (f"MLFLOW_TRACKING_URI: expected an MLflow server answering at {uri}; GET /health failed "
               f"({reason}). Start one (mlflow server --host 127.0.0.1 --port N) or unset "
               "MLFLOW_TRACKING_URI to log to ./mlflow.db")
        raise ConfigError(msg) from None


def config_hash(config: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:12]


def git_commit(cwd: str | Path | None = None) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=cwd, check=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config -> ``{"train.lr0": 0.01, ...}`` for ``log_params``."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


@contextmanager
def start_run(
    *, stage: str, config: Mapping[str, Any], run_id_file: Path | None = None,
    tags: Mapping[str, str] | None = None, experiment: str | None = None,
) -> Iterator[Any]:
    """An MLflow run for a stage; resumed when ``run_id_file`` names an unfinished run.

    Nested under the run in ``HOOKSEG_PARENT_RUN_ID`` when set (a pipeline's parent run).
    """
    import mlflow

    check_server()
    mlflow.set_tracking_uri(tracking_uri())
    mlflow.set_experiment(experiment or os.environ.get("HOOKSEG_EXPERIMENT", DEFAULT_EXPERIMENT))
    run_id = None
    if run_id_file is not None and run_id_file.exists():
        run_id = run_id_file.read_text().strip() or None
    all_tags = {
        "stage": stage,
        "config_hash": config_hash(config),
        "git_commit": git_commit(),
        **(tags or {}),
    }
    parent = os.environ.get("HOOKSEG_PARENT_RUN_ID")
    if parent:
        all_tags["mlflow.parentRunId"] = parent
    with mlflow.start_run(run_id=run_id, run_name=None if run_id else stage, tags=all_tags) as run:
        if run_id_file is not None:
            run_id_file.parent.mkdir(parents=True, exist_ok=True)
            run_id_file.write_text(run.info.run_id)
        if run_id is None:
            params = {k: str(v)[:500] for k, v in flatten(config).items()}
            mlflow.log_params(params)
        else:
            log.info("resuming MLflow run %s", run_id)
        yield run
