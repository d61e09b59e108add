"""``hookseg export --model M.keras --format savedmodel|onnx --out DIR``: a model for QuPath, TF Serving,
onnxruntime, ..."""

from __future__ import annotations

import argparse

from hookseg.export import FORMATS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="export a model as a SavedModel or ONNX + its I/O JSON")
    parser.add_argument("--model", required=True, help="trained model (.keras)")
    parser.add_argument("--format", default="savedmodel", choices=FORMATS)
    parser.add_argument("--out", required=True, help="export folder (replaced)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hookseg.export import SIDECAR, export_model
    from hookseg.model_meta import read_meta

    read_meta(args.model)  # a bad model path fails here, in one line
    out = export_model(args.model, args.out, args.format)
    print(f"{out}: {args.format}, inputs and classes in {out / SIDECAR}")
    return 0
