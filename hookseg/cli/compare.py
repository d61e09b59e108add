"""``hookseg compare``: recipe B against recipe A, each trained with several seeds, over seeds and slides.

A one-model-per-arm comparison (``hookseg report``'s paired columns) resamples slides only; another seed of
the same recipe can move mean IoU as much as the change under test. Each ``--a``/``--b`` entry is one seed's
``hookseg evaluate --out`` folder (or its ``slides.json``); every entry must have scored the same slides.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare", help="two recipes, several seeds each: difference with CIs over seeds and slides")
    parser.add_argument("--a", required=True,
                        help="comma list: recipe A's evaluate folders (or slides.json), one per seed")
    parser.add_argument("--b", required=True, help="comma list: recipe B's, one per seed")
    parser.add_argument("--names", default="A,B", help="the two recipes' names in the table (default A,B)")
    parser.add_argument("--split", default=None,
                        help="comma list of splits (cohorts) to compare (default: every split scored)")
    parser.add_argument("--out", default=None, help="JSON of the table (written atomically)")
    parser.add_argument("--table", default=None, help="Markdown table (printed either way)")
    parser.add_argument("--bootstrap-samples", type=int, default=2000, help="resamples per CI")
    parser.add_argument("--seed", type=int, default=0, help="resampling seed (CIs are reproducible)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hookseg.errors import ConfigError
    from hookseg.evaluate.paired import Bootstrap
    from hookseg.evaluate.recipes import cohorts_of, compare_table, markdown
    from hookseg.io import atomic_write_text, write_json

    names = args.names.split(",")
    if len(names) != 2 or not all(names):
        msg = f"compare --names: expected two comma-separated names. Received: {args.names!r}"
        raise ConfigError(msg)
    if args.bootstrap_samples < 1:
        msg = f"compare --bootstrap-samples: expected a positive count. Received: {args.bootstrap_samples}"
        raise ConfigError(msg)
    a, b = _recipe(names[0], args.a, "--a"), _recipe(names[1], args.b, "--b")
    cohorts = args.split.split(",") if args.split else cohorts_of([a])
    boot = Bootstrap(samples=args.bootstrap_samples, seed=args.seed)
    table = compare_table(a, b, cohorts, boot)
    text = markdown(table, a.seeds[0].classes, boot)
    if args.out:
        write_json(args.out, table)
    if args.table:
        atomic_write_text(args.table, text)
    print(text, end="")
    return 0


def _recipe(name: str, value: str, option: str):
    from hookseg.errors import ConfigError
    from hookseg.evaluate.per_slide import SLIDES_FILE, read_slides
    from hookseg.evaluate.recipes import Recipe

    entries = [e for e in value.split(",") if e]
    if not entries:
        msg = f"compare {option}: expected at least one evaluate folder. Received: {value!r}"
        raise ConfigError(msg)
    paths = [Path(e) if e.endswith(".json") else Path(e) / SLIDES_FILE for e in entries]
    return Recipe(name, [read_slides(p) for p in paths], [str(p) for p in paths])
