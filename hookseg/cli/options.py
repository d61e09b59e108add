"""Options several subcommands share."""

from __future__ import annotations

import argparse


def add_workers_option(parser: argparse.ArgumentParser) -> None:
    """``--workers N``: slides in parallel over Ray; 0 = in this process. Default ``$HOOKSEG_WORKERS``, else
    Ray with every CPU (or the cluster at ``$RAY_ADDRESS``)."""
    from hookseg.parallel import default_workers

    parser.add_argument(
        "--workers",
        type=workers_arg,
        default=default_workers(),
        help="parallel slides over Ray; 0 = in process (default: $HOOKSEG_WORKERS, else all CPUs)",
    )


def mpp_arg(text: str) -> float:
    """argparse type for ``--mpp``: finite, within [0.05, 100] microns per pixel."""
    from hookseg.slides.integrity import mpp_problem

    problem = mpp_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return float(text)


def workers_arg(text: str) -> int:
    """argparse type for ``--workers``: an integer >= 0 (0 = in process)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        msg = f"expected an integer >= 0 (0 = in process). Received: {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value
