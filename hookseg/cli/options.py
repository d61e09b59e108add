"""Options several subcommands share."""

from __future__ import annotations

import argparse


def add_workers_option(parser: argparse.ArgumentParser) -> None:
    """``--workers N``: slides in parallel over Ray; 0 = in this process. Default ``$HOOKSEG_WORKERS``, else
    Ray with every CPU (or the cluster at ``$RAY_ADDRESS``)."""
    from hookseg.parallel import default_workers

    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help="parallel slides over Ray; 0 = in process (default: $HOOKSEG_WORKERS, else all CPUs)",
    )
