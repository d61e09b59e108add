"""The ``hookseg`` command: one subcommand group per module, imported lazily.

Each module in ``COMMAND_MODULES`` defines ``register(subparsers)``, which adds its parser(s) and sets
``func`` (taking the parsed args, returning an exit code). Importing a module only when its command runs
keeps ``hookseg info`` fast: TensorFlow is never imported for a slide query.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from hookseg.errors import HooksegError

# Order is the order of --help. Each entry: (module, the subcommand names it registers).
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "hookseg.cli.info": ("info",),
    "hookseg.cli.annotations": ("annotations",),
    "hookseg.cli.cohort": ("cohort",),
    "hookseg.cli.demo_cohort": ("demo-cohort",),
    "hookseg.cli.augment": ("augment", "augment-gallery"),
    "hookseg.cli.train": ("train",),
    "hookseg.cli.distill": ("distill",),
    "hookseg.cli.predict": ("predict",),
    "hookseg.cli.export": ("export",),
    "hookseg.cli.evaluate": ("evaluate", "tissue-coverage"),
    "pseudo_label.cli": ("pseudo-label",),
    "stylegan_aug.cli": ("stylegan",),
    "hookseg.cli.report": ("report",),
    "hookseg.cli.compare": ("compare",),
    "hookseg.cli.pipeline": ("pipeline",),
}

log = logging.getLogger("hookseg")


class OneLineParser(argparse.ArgumentParser):
    """A usage error is one line on stderr and exit 2, like a bad config (``--help`` shows usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = OneLineParser(prog="hookseg", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and full tracebacks")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name, commands in COMMAND_MODULES.items():
        if only is not None and only not in commands:
            # Still list it in --help without importing it.
            for name in commands:
                subparsers.add_parser(name, help=f"(see `hookseg {name} --help`)")
            continue
        importlib.import_module(module_name).register(subparsers)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    known = {name for names in COMMAND_MODULES.values() for name in names}
    return next((arg for arg in argv if arg in known), None)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=_command_of(argv))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        _clean_outputs(args)
        return int(args.func(args) or 0)
    except HooksegError as err:
        if args.verbose:
            raise
        print(f"hookseg {args.command}: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"hookseg {args.command}: interrupted", file=sys.stderr)
        return 130


def _clean_outputs(args: argparse.Namespace) -> None:
    """Remove what a killed earlier run left in this command's output folders (``--out``, ``--work``, and
    the demo cohort's folder): temporaries of processes that are gone. A file output's folder is scanned
    flat; an output folder as a whole."""
    from pathlib import Path

    from hookseg.io import remove_stale_temporaries

    for name in ("out", "work"):
        value = getattr(args, name, None)
        if not value:
            continue
        path = Path(value)
        removed = (remove_stale_temporaries(path.parent, recursive=False) if path.suffix
                   else remove_stale_temporaries(path))
        if removed:
            log.info("removed %d temporaries an interrupted run left in %s", removed, path)


if __name__ == "__main__":
    sys.exit(main())
