"""``hookseg cohort check|split``: validate a manifest; assign patient-level splits."""

from __future__ import annotations

import argparse
from collections import Counter

from hookseg.errors import ManifestError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("cohort", help="check a cohort manifest or assign patient-level splits")
    commands = parser.add_subparsers(dest="cohort_command", metavar="ACTION", required=True)
    check = commands.add_parser("check", help="validate a manifest: columns, ids, files, splits, slides open")
    check.add_argument("manifest")
    check.add_argument("--no-open", action="store_true", help="skip opening every slide (faster)")
    check.set_defaults(func=run_check)
    split = commands.add_parser("split", help="write a copy of the manifest with patient-level splits")
    split.add_argument("manifest")
    split.add_argument("--out", required=True, help="output CSV")
    split.add_argument("--train", type=float, default=0.7)
    split.add_argument("--val", type=float, default=0.15)
    split.add_argument("--test", type=float, default=0.15)
    split.add_argument("--seed", type=int, default=0)
    split.add_argument("--stratify", default="stain", help="column to balance within (empty: none)")
    split.set_defaults(func=run_split)
    prepare = commands.add_parser("prepare", help="the pipeline's cohort stage: demo cohort or your manifest")
    prepare.add_argument("--params", required=True, help="params.yaml (reads its `cohort` key)")
    prepare.add_argument("--out", required=True, help="folder; OUT/manifest.csv is what later stages read")
    prepare.set_defaults(func=run_prepare)


def run_check(args: argparse.Namespace) -> int:
    from hookseg.cohort import read_manifest
    from hookseg.errors import SlideError

    manifest = read_manifest(args.manifest)
    unreadable = []
    if not args.no_open:
        for record in manifest:
            try:
                record.open().close()
            except SlideError as err:
                unreadable.append(f"{record.slide_id}: {err}")
    if unreadable:
        msg = f"{args.manifest}: {len(unreadable)} slide(s) cannot be read: " + "; ".join(unreadable)
        raise ManifestError(msg, path=args.manifest)
    splits = Counter(r.split for r in manifest)
    stains = Counter(r.stain for r in manifest)
    scanners = Counter(r.scanner for r in manifest)
    print(f"{args.manifest}: OK, {len(manifest)} slides, {len({r.patient_id for r in manifest})} patients")
    print("  splits:   " + ", ".join(f"{k} {v}" for k, v in sorted(splits.items())))
    print("  stains:   " + ", ".join(f"{k} {v}" for k, v in sorted(stains.items())))
    print("  scanners: " + ", ".join(f"{k} {v}" for k, v in sorted(scanners.items())))
    return 0


def run_split(args: argparse.Namespace) -> int:
    import pandas as pd

    from hookseg.cohort import assign_patient_splits
    from hookseg.io import atomic_path

    frame = pd.read_csv(args.manifest, dtype=str, keep_default_na=False)
    for column in ("patient_id", *([args.stratify] if args.stratify else [])):
        if column not in frame.columns:
            msg = f"{args.manifest}: column {column!r} is missing; it is needed to split by patient"
            raise ManifestError(msg, path=args.manifest)
    fractions = {"train": args.train, "val": args.val, "test": args.test}
    strata = frame[args.stratify].tolist() if args.stratify else None
    frame["split"] = assign_patient_splits(
        frame["patient_id"].tolist(), fractions, seed=args.seed, strata=strata
    )
    with atomic_path(args.out) as tmp:
        frame.to_csv(tmp, index=False)
    print(
        f"{args.out}: " + ", ".join(f"{k} {v}" for k, v in frame["split"].value_counts().sort_index().items())
    )
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    """Generate the demo cohort, or validate the user's manifest and copy it with absolute paths."""
    from pathlib import Path

    from hookseg.cli import main
    from hookseg.config import load_yaml
    from hookseg.errors import ConfigError

    cohort = load_yaml(args.params).get("cohort")
    if not isinstance(cohort, dict):
        msg = f"{args.params}: missing `cohort` mapping"
        raise ConfigError(msg, path=args.params)
    out = Path(args.out)
    if cohort.get("manifest"):
        import pandas as pd

        from hookseg.cohort import read_manifest
        from hookseg.io import atomic_path

        manifest = read_manifest(cohort["manifest"])
        frame = manifest.to_frame()
        for column in ("path", "annotations", "ground_truth"):
            frame[column] = frame[column].map(lambda v: "" if v is None or pd.isna(v) else str(v))
        frame["mpp"] = frame["mpp"].map(lambda v: "" if v is None or pd.isna(v) else v)
        out.mkdir(parents=True, exist_ok=True)
        with atomic_path(out / "manifest.csv") as tmp:
            frame.to_csv(tmp, index=False)
        print(f"{out / 'manifest.csv'}: {len(manifest)} slides from {cohort['manifest']}")
        return 0
    options = []
    for key, flag in (
        ("slides", "--slides"),
        ("new_domain", "--new-domain"),
        ("unlabelled", "--unlabelled"),
        ("size", "--size"),
        ("seed", "--seed"),
    ):
        if key in cohort:
            options += [flag, str(cohort[key])]
    return main(["demo-cohort", str(out), *options])
