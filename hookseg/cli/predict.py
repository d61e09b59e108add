"""``hookseg predict``: whole-slide prediction for many slides, one Ray task per slide.

Classes, colours and the fields of view all come from the model file's metadata.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hookseg.cli.options import add_workers_option, mpp_arg


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("predict", help="predict slides: label/probability TIFFs, GeoJSON, PNG")
    parser.add_argument("slides", nargs="*", help="slide files (or use --manifest)")
    parser.add_argument("--model", required=True,
                        help="trained model (.keras), or an ONNX export folder (runs in onnxruntime)")
    parser.add_argument("--out", required=True, help="output folder: one subfolder per slide")
    parser.add_argument("--manifest", default=None, help="predict the slides of a manifest instead")
    parser.add_argument("--split", default=None, help="with --manifest: only this split (e.g. new_domain)")
    parser.add_argument("--mpp", type=mpp_arg, default=None,
                        help="microns per pixel of every slide given: for slides that lack it, or to "
                             "override wrong metadata (a warning says when it differs by more than 5%%)")
    parser.add_argument("--config", default=None, help="prediction settings (default configs/infer.yaml)")
    parser.add_argument("--force", action="store_true",
                        help="redo every slide (default: skip slides finished by this model and settings)")
    add_workers_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from hookseg.errors import ConfigError
    from hookseg.infer.batch import SlideBatch
    from hookseg.infer.params import InferParams
    from hookseg.io import write_json
    from hookseg.model_meta import read_meta

    read_meta(args.model)  # fail fast, in one line, on a bad model path or a model without a usable class map
    if Path(args.model).is_dir():  # an export: its graph must load too (cheap in onnxruntime)
        from hookseg.infer.onnx_model import OnnxModel

        OnnxModel(args.model)
    params = InferParams.from_yaml(args.config)
    jobs = _jobs(args)
    if not jobs:
        msg = "no slides given: pass slide files or --manifest"
        raise ConfigError(msg)
    out = Path(args.out)
    batch = SlideBatch(args.model, jobs, out, params, force=args.force)
    todo = batch.todo
    if batch.skipped:
        print(f"skipping {batch.skipped} slide(s) finished by this model and these settings")
    bar = tqdm(total=len(todo), desc="slides", unit="slide", file=sys.stderr)
    failures = batch.run(args.workers, on_finished=lambda _: bar.update(1))
    bar.update(len(failures))
    bar.close()
    (out / "failures.json").unlink(missing_ok=True)  # a record of this run's failures only
    if failures:
        write_json(out / "failures.json", [f.__dict__ for f in failures])
        for failure in failures:
            print(f"hookseg predict: error: {failure.item}: {failure.error}", file=sys.stderr)
        done = len(todo) - len(failures)
        print(f"{done} slide(s) predicted, {len(failures)} failed (see {out / 'failures.json'})")
        return 1
    print(f"{len(todo)} slide(s) predicted into {out}")
    return 0


def _jobs(args: argparse.Namespace) -> list[tuple[str, Path, float | None]]:
    """(slide_id, path, mpp) per slide to predict."""
    jobs = [(Path(s).stem, Path(s), args.mpp) for s in args.slides]
    if args.manifest:
        from hookseg.cohort import read_manifest

        records = read_manifest(args.manifest)
        selected = records.select(args.split.split(",")) if args.split else list(records)
        jobs += [(r.slide_id, r.path, r.mpp or args.mpp) for r in selected]
    from hookseg.infer.provenance import unique_ids

    return unique_ids(jobs)
