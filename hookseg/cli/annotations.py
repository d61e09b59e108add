"""``hookseg annotations convert|info``: convert between annotation formats, club labels, summarise."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import warnings
from collections.abc import Callable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("annotations", help="convert annotation files, club labels, show counts")
    commands = parser.add_subparsers(dest="annotations_command", metavar="ACTION", required=True)

    convert = commands.add_parser(
        "convert",
        help="read QuPath GeoJSON / ASAP XML / DSA JSON / a label mask; write GeoJSON or ASAP XML",
    )
    convert.add_argument("input", help="annotation file (.geojson/.json/.xml) or label mask (.png/.tif)")
    convert.add_argument("output", help="output file (.geojson/.json or .xml)")
    convert.add_argument(
        "--to", choices=("geojson", "asap"), help="output format (default: from OUT's suffix)"
    )
    convert.add_argument("--classes", help="class map YAML (default: configs/classes.yaml)")
    convert.add_argument(
        "--club",
        action="store_true",
        help="replace fine labels with class names; an unknown label is an error",
    )
    _add_mask_options(convert)
    convert.set_defaults(func=_one_line_warnings(run_convert))

    info = commands.add_parser("info", help="annotation counts per label and bounds")
    info.add_argument("input")
    info.add_argument("--classes", help="class map YAML; with it, also show what each label clubs into")
    _add_mask_options(info)
    info.set_defaults(func=_one_line_warnings(run_info))


def _one_line_warnings(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Show annotation warnings (repaired or skipped geometry) as single lines, like the command's errors."""

    def wrapped(args: argparse.Namespace) -> int:
        from hookseg.annotations.model import AnnotationWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AnnotationWarning)
            try:
                return run(args)
            finally:
                for warning in caught:
                    if issubclass(warning.category, AnnotationWarning):
                        print(f"hookseg annotations: warning: {warning.message}", file=sys.stderr)
                    else:
                        warnings.showwarning(
                            warning.message, warning.category, warning.filename, warning.lineno
                        )

    wrapped.__name__ = run.__name__
    return wrapped


def _add_mask_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--codes", help="label masks: code -> name CSV (default: the *GTcodes.csv beside it)")
    parser.add_argument(
        "--origin",
        nargs=2,
        type=float,
        metavar=("X", "Y"),
        help="label masks: level-0 position of the top-left pixel (default: from the name)",
    )


def _read(args: argparse.Namespace):
    from hookseg.annotations.registry import detect_format, read_annotations

    is_mask = detect_format(args.input) == "mask"
    if is_mask:
        return read_annotations(
            args.input, codes=args.codes, origin=tuple(args.origin) if args.origin else None
        )
    return read_annotations(args.input)


def _class_map(args: argparse.Namespace):
    from hookseg.annotations.classes import ClassMap

    return ClassMap.default(args.classes)


def run_convert(args: argparse.Namespace) -> int:
    from hookseg.annotations.registry import detect_format, write_annotations

    out_format = args.to or detect_format(args.output, writing=True)  # fail before the (slow) read
    annotations = _read(args)
    class_map = _class_map(args)
    if args.club:

        def club(a):
            name = class_map.club_name(a.label, source=a.source)
            return dataclasses.replace(a, label=name, color=class_map.color_of(class_map.id_of(name)))

        annotations = annotations.relabelled(club)
    write_annotations(annotations, args.output, format=out_format, class_map=class_map)
    counts = ", ".join(f"{label} {n}" for label, n in annotations.label_counts().items())
    print(f"{args.output}: wrote {len(annotations)} annotations ({counts or 'none'})")
    return 0


def run_info(args: argparse.Namespace) -> int:
    annotations = _read(args)
    class_map = _class_map(args) if args.classes else None
    bounds = annotations.bounds
    where = (
        "no bounds"
        if bounds is None
        else f"bounds x {bounds[0]:.0f}..{bounds[2]:.0f}, y {bounds[1]:.0f}..{bounds[3]:.0f}"
    )
    print(f"{args.input}: {len(annotations)} annotations, {len(annotations.labels())} labels, {where}")
    areas: dict[str, float] = {}
    for a in annotations:
        areas[a.label] = areas.get(a.label, 0.0) + a.area
    for label, n in annotations.label_counts().items():
        clubbed = ""
        if class_map is not None:
            clubbed = (
                f" -> {class_map.club_name(label, source=args.input)}"
                if class_map.is_known(label)
                else " -> ?"
            )
        print(f"  {label}: {n} ({areas[label]:.0f} px^2){clubbed}")
    return 0
