"""Paired batches/s the PatchDataset delivers for a stage of a training config, split into reading and
augmentation, with 1 worker (what ``data.workers: 1`` does: Keras reads in the training thread, so loading
adds to every step) and with 2 threads or processes (loading overlaps the model's step).

Usage: python bench/loader.py [--config configs/demo.yaml] [--stage master] [--manifest M --labels DIR]
       [--batches 10] [--augment basic,color_noise]
Without a manifest it generates a small banded cohort of 4000 x 4000 px slides at 0.5 um/px. Compare the
s/batch with bench/train_step.py's s/step (the model alone): with 1 worker a real step costs their sum.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hookseg.cohort import read_manifest
from hookseg.sampling import IndexParams, PatchDataset, build_index, sources_from_records
from hookseg.train.config import load_stage_config


def measure(dataset: PatchDataset, batches: int) -> float:
    """Seconds per batch through Keras' own PyDataset adapter (the path model.fit uses), workers included."""
    from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

    adapter = PyDatasetAdapter(dataset, shuffle=False)
    adapter.on_epoch_begin()
    iterator = iter(adapter.get_numpy_iterator())
    next(iterator)  # pool start-up and first reads
    start = time.perf_counter()
    for _ in range(batches - 1):
        next(iterator)
    elapsed = time.perf_counter() - start
    adapter.on_epoch_end()
    return elapsed / (batches - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/demo.yaml")
    parser.add_argument("--stage", default="master", choices=("base", "master"))
    parser.add_argument("--manifest", type=Path)
    parser.add_argument("--labels", type=Path)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--augment", default=None, help="comma list of presets (default: the stage's)")
    args = parser.parse_args()
    config = load_stage_config(args.config, args.stage)
    fov, batch = config.fov, config.train.batch_size
    presets = config.train.augment if args.augment is None else [p for p in args.augment.split(",") if p]
    with tempfile.TemporaryDirectory() as tmp:
        if args.manifest is None:
            from tests.factories import banded_cohort

            folder = Path(tmp) / "cohort"
            args.manifest = banded_cohort(folder, {f"s{i}": "train" for i in range(3)}, size=(4000, 4000),
                                          mpp=0.5, label_mpp=config.data.label_mpp)
            args.labels = folder / "labels"
        manifest = read_manifest(args.manifest)
        labels = {p.stem: p for p in Path(args.labels).glob("*.tiff")}
        records = [r for r in manifest.split("train") if r.slide_id in labels]
        params = IndexParams(per_class=config.data.per_class, index_mpp=config.data.index_mpp)
        index = build_index(records, labels, params, Path(tmp) / "index.parquet")
        augment = None
        if presets:
            from hookseg.augment import PairedAugment

            augment = PairedAugment(presets, ratio=fov.context_ratio or 1.0, seed=0)
        print(f"{args.config}:{args.stage}: {len(records)} slides, {len(index)} centres, "
              f"FOV {fov.size} px at {fov.mpp}/{fov.context_mpp} mpp, batch {batch}, augment {presets}")
        sources = sources_from_records(records, labels)
        runs = [("read only", None, 1, False), ("read + augment", augment, 1, False),
                ("read + augment", augment, 2, False), ("read + augment", augment, 2, True)]
        for what, aug, workers, processes in runs:
            if what == "read + augment" and augment is None:
                continue
            dataset = PatchDataset(index, sources, fov, batch_size=batch, steps=args.batches,
                                   ratios=config.data.ratios, seed=0, augment=aug, workers=workers,
                                   use_multiprocessing=processes)
            seconds = measure(dataset, args.batches)
            print(f"  {what:<15} workers={workers} {'processes' if processes else 'threads  '}: "
                  f"{seconds:6.3f} s/batch ({batch / seconds:6.1f} paired samples/s)")


if __name__ == "__main__":
    main()
