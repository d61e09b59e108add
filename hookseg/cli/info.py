"""``hookseg info SLIDE``: what a slide is, as the toolkit reads it (backend, levels, mpp, bounds)."""

from __future__ import annotations

import argparse
import json

from hookseg.cli.options import mpp_arg


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("info", help="describe a slide: backend, vendor, levels, mpp, bounds")
    parser.add_argument("slide", nargs="+", help="slide file(s)")
    parser.add_argument("--mpp", type=mpp_arg, default=None,
                        help="microns per pixel: when the file has none, or to override its metadata")
    parser.add_argument("--json", action="store_true", help="print JSON (one object, or a list for many)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hookseg.slides import open_slide

    infos = []
    for path in args.slide:
        with open_slide(path, mpp=args.mpp) as slide:
            infos.append(slide.info())
    if args.json:
        print(json.dumps(infos[0] if len(infos) == 1 else infos, indent=2))
        return 0
    for info in infos:
        b = info["bounds"]
        print(f"{info['path']}\n  backend {info['backend']}, vendor {info['vendor']}, mpp {info['mpp']:.4f}")
        print(f"  dimensions {info['dimensions'][0]} x {info['dimensions'][1]}, "
              f"bounds x={b['x']} y={b['y']} {b['width']} x {b['height']}")
        for i, level in enumerate(info["levels"]):
            print(f"  level {i}: {level['width']} x {level['height']}  downsample {level['downsample']:.4f}"
                  f"  mpp {level['mpp']:.4f}")
    return 0
