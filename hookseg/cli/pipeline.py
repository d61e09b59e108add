"""``hookseg pipeline run``: `dvc repro` inside one MLflow parent run; every stage logs a child run."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

PARAMS = Path("params.yaml")  # the pipeline spec, beside dvc.yaml in the directory `dvc repro` runs in


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("pipeline", help="run the DVC pipeline under one MLflow parent run")
    commands = parser.add_subparsers(dest="pipeline_command", metavar="ACTION", required=True)
    run_parser = commands.add_parser("run", help="dvc repro [targets] with a parent MLflow run")
    run_parser.add_argument("targets", nargs="*", help="DVC targets (default: the whole pipeline)")
    run_parser.set_defaults(func=run)
    where = commands.add_parser("where", help="print where to look at the results")
    where.set_defaults(func=print_where)


def run(args: argparse.Namespace) -> int:
    import mlflow

    from hookseg.errors import ConfigError
    from hookseg.tracking import start_run
    from pseudo_label.schedule import load_schedule

    load_schedule(PARAMS)  # a bad phase is one line here, not a DVC templating error or a failed stage later
    dvc = shutil.which("dvc", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if dvc is None:
        msg = "dvc not found next to this Python or on PATH; install the project (make setup)"
        raise ConfigError(msg)
    with start_run(stage="pipeline", config={"targets": args.targets or ["all"]}) as parent:
        env = {**os.environ, "HOOKSEG_PARENT_RUN_ID": parent.info.run_id,
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        code = subprocess.call([dvc, "repro", *args.targets], env=env)
        table = Path("metrics/phases.md")
        if table.exists():
            mlflow.log_artifact(str(table))
        mlflow.set_tag("dvc_exit_code", str(code))
    if code == 0:
        print_where(args)
    return code


def print_where(args: argparse.Namespace) -> int:
    from hookseg.tracking import is_server_uri, tracking_uri

    table = Path("metrics/phases.md")
    print("\nResults")
    if table.exists():
        print(table.read_text())
    uri = tracking_uri()
    shown = uri if is_server_uri(uri) else f"mlflow ui --backend-store-uri {uri}"  # a server is its own UI
    print(f"  MLflow runs:        {shown}")
    print("  per-phase metrics:  dvc metrics show   (threshold curves: dvc plots show)")
    print("  evaluation tables:  eval/<model>/tables.csv, eval/<model>/report.md")
    print("  new-domain output:  predictions/new_domain/<slide>/ (labels.tiff, regions.geojson, overlay.png)")
    return 0
