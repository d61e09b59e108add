"""Paired samples/s the PatchDataset delivers (target + context views and labels read from TIFF slides).

Usage: python bench/loader.py [--manifest M --labels DIR] [--size 512] [--mpp 0.5] [--context-mpp 2.0]
       [--batch 8] [--batches 20] [--augment basic,color_noise]
Without a manifest it generates a small banded cohort of 4000 x 4000 px slides. Compare the samples/s
with bench/train_step.py's steps/s x batch size: the loader must deliver faster than the model consumes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hookseg.cohort import read_manifest
from hookseg.sampling import FieldOfView, IndexParams, PatchDataset, build_index, sources_from_records


def measure(dataset: PatchDataset, batches: int) -> float:
    """Samples/s through Keras' own PyDataset adapter (the path model.fit uses), workers included."""
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
    return (batches - 1) * dataset.batch_size / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path)
    parser.add_argument("--labels", type=Path)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--mpp", type=float, default=0.5)
    parser.add_argument("--context-mpp", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--augment", default="", help="comma list of presets")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.manifest is None:
            from tests.factories import banded_cohort

            folder = Path(tmp) / "cohort"
            args.manifest = banded_cohort(folder, {f"s{i}": "train" for i in range(3)}, size=(4000, 4000),
                                          mpp=0.5, label_mpp=1.0)
            args.labels = folder / "labels"
        manifest = read_manifest(args.manifest)
        labels = {p.stem: p for p in Path(args.labels).glob("*.tiff")}
        records = [r for r in manifest.split("train") if r.slide_id in labels]
        index = build_index(records, labels, IndexParams(per_class=200), Path(tmp) / "index.parquet")
        fov = FieldOfView(size=args.size, mpp=args.mpp, context_size=args.size, context_mpp=args.context_mpp)
        augment = None
        if args.augment:
            from hookseg.augment import PairedAugment

            augment = PairedAugment(args.augment.split(","), ratio=args.context_mpp / args.mpp, seed=0)
        print(
            f"{len(records)} slides, {len(index)} centres, "
            f"FOV {args.size} px at {args.mpp}/{args.context_mpp} mpp, "
            f"batch {args.batch}, augment [{args.augment}]"
        )
        for workers, multiprocessing in ((1, False), (2, True)):
            dataset = PatchDataset(index, sources_from_records(records, labels), fov, batch_size=args.batch,
                                   steps=args.batches, seed=0, augment=augment, workers=workers,
                                   use_multiprocessing=multiprocessing)
            rate = measure(dataset, args.batches)
            print(f"workers={workers} multiprocessing={multiprocessing}: {rate:7.1f} paired samples/s "
                  f"({rate / args.batch:5.2f} batches/s)")


if __name__ == "__main__":
    main()
