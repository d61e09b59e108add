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
    parser.add_argument("--model", required=True, help="trained model (.keras)")
    parser.add_argument("--out", required=True, help="output folder: one subfolder per slide")
    parser.add_argument("--manifest", default=None, help="predict the slides of a manifest instead")
    parser.add_argument("--split", default=None, help="with --manifest: only this split (e.g. new_domain)")
    parser.add_argument("--mpp", type=mpp_arg, default=None, help="microns per pixel for slides that lack it")
    parser.add_argument("--config", default=None, help="prediction settings (default configs/infer.yaml)")
    add_workers_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from hookseg.errors import ConfigError
    from hookseg.infer.outputs import SlideOutputs
    from hookseg.infer.params import InferParams
    from hookseg.infer.worker import predict_task
    from hookseg.io import write_json
    from hookseg.model_meta import read_meta

    read_meta(args.model)  # fail fast, in one line, on a bad model path or a model without a usable class map
    params = InferParams.from_yaml(args.config)
    jobs = _jobs(args)
    if not jobs:
        msg = "no slides given: pass slide files or --manifest"
        raise ConfigError(msg)
    out = Path(args.out)
    todo = [j for j in jobs if not SlideOutputs(out / j[0]).summary.exists()]
    if len(todo) < len(jobs):
        print(f"skipping {len(jobs) - len(todo)} finished slide(s)")
    task_args = [(str(Path(args.model).resolve()), str(path), sid, mpp, str(out), params)
                 for sid, path, mpp in todo]
    from hookseg.parallel import run_slides

    bar = tqdm(total=len(todo), desc="slides", unit="slide", file=sys.stderr)
    _, failures = run_slides(predict_task, [j[0] for j in todo], task_args, workers=args.workers,
                             on_result=lambda item, result: bar.update(1))
    bar.update(len(failures))
    bar.close()
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
    return jobs
