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
    from hookseg.infer.params import InferParams
    from hookseg.infer.provenance import PROVENANCE, is_current, model_hashes, provenance
    from hookseg.infer.worker import predict_task
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
    model_hash = model_hashes(args.model)
    made_by = {sid: provenance(model_hash, params, mpp) for sid, _, mpp in jobs}
    todo = [j for j in jobs if args.force or not is_current(out / j[0], made_by[j[0]])]
    if len(todo) < len(jobs):
        print(f"skipping {len(jobs) - len(todo)} slide(s) finished by this model and these settings")
    model = str(Path(args.model).resolve())  # absolute: Ray workers may run in another working folder
    task_args = [(model, str(Path(path).resolve()), sid, mpp, str(out.resolve()), params)
                 for sid, path, mpp in todo]
    from hookseg.parallel import run_slides

    def finished(item: str, result: object) -> None:
        write_json(out / item / PROVENANCE, made_by[item])
        bar.update(1)

    for sid, _, _ in todo:  # outputs of another model or other settings are not "finished" any more
        (out / sid / PROVENANCE).unlink(missing_ok=True)
        if args.force:  # nothing kept, not even the finished rows of a killed run (resumed otherwise)
            for scratch in (out / sid).glob(".probabilities.npy*"):
                scratch.unlink()
    bar = tqdm(total=len(todo), desc="slides", unit="slide", file=sys.stderr)
    _, failures = run_slides(predict_task, [j[0] for j in todo], task_args, workers=args.workers,
                             on_result=finished)
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
