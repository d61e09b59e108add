"""The cohort manifest: one CSV row per slide with its stain, scanner, data source, split and patient.

Validation collects every problem (row, column, what was expected) into one error, because a user fixing a
300-row manifest one error per run gives up. Relative paths resolve against the manifest's folder, so a
cohort folder can be moved as a whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hookseg.errors import ConfigError, ManifestError
from hookseg.slides.integrity import mpp_problem

REQUIRED_COLUMNS = ("slide_id", "path", "stain", "scanner", "source", "split", "patient_id", "annotations")
OPTIONAL_COLUMNS = ("mpp", "ground_truth")
SPLITS = ("train", "val", "test", "new_domain")
TRAINING_SPLITS = ("train", "val")


@dataclass(frozen=True)
class SlideRecord:
    slide_id: str
    path: Path
    stain: str
    scanner: str
    source: str
    split: str
    patient_id: str
    annotations: Path | None
    mpp: float | None = None
    ground_truth: Path | None = None

    def open(self):
        from hookseg.slides import open_slide

        return open_slide(self.path, mpp=self.mpp)


class Manifest:
    """A validated manifest. ``records`` are in file order; paths are absolute."""

    def __init__(self, records: list[SlideRecord], path: Path | None = None) -> None:
        self.records = records
        self.path = path

    def __iter__(self) -> Iterator[SlideRecord]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def split(self, *names: str) -> list[SlideRecord]:
        return [r for r in self.records if r.split in names]

    def select(self, names: list[str], option: str = "--split") -> list[SlideRecord]:
        """The slides of ``names``, refusing a split name that does not exist or that holds no slide."""
        unknown = [n for n in names if n not in SPLITS]
        if unknown or not names:
            msg = f"{option}: expected names from {list(SPLITS)}. Received: {','.join(names)!r}"
            raise ConfigError(msg)  # the flag is wrong, not the manifest
        selected = self.split(*names)
        if not selected:
            present = sorted({r.split for r in self.records})
            msg = f"{self.path}: no slide in split {','.join(names)!r} ({option}). The manifest has {present}"
            raise ManifestError(msg, path=self.path)
        return selected

    def get(self, slide_id: str) -> SlideRecord:
        for record in self.records:
            if record.slide_id == slide_id:
                return record
        msg = f"{self.path}: no slide_id {slide_id!r}"
        raise ManifestError(msg, path=self.path)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([r.__dict__ for r in self.records])


def read_manifest(path: str | Path, *, check_files: bool = True) -> Manifest:
    """Read and validate a manifest CSV; raises one ManifestError listing every problem."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        msg = f"{path}: manifest not found"
        raise ManifestError(msg, path=path) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        msg = f"{path}: not a readable CSV ({str(err).strip()})"
        raise ManifestError(msg, path=path) from None
    return validate_frame(frame, path, check_files=check_files)


def validate_frame(frame: pd.DataFrame, path: Path, *, check_files: bool = True) -> Manifest:
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        msg = (f"{path}: missing column(s) {missing}. Expected columns: {list(REQUIRED_COLUMNS)} "
               f"(+ optional {list(OPTIONAL_COLUMNS)})")
        raise ManifestError(msg, path=path)
    problems: list[str] = []
    records: list[SlideRecord] = []
    base = path.parent
    seen: dict[str, int] = {}
    patient_split: dict[str, tuple[str, int]] = {}
    for index, row in frame.iterrows():
        line = int(index) + 2  # header is line 1
        where = f"line {line}"

        def bad(column: str, problem: str, where: str = where) -> None:
            problems.append(f"{where} column {column}: {problem}")

        values = {c: str(row[c]).strip() for c in frame.columns}
        for column in ("slide_id", "path", "stain", "scanner", "source", "split", "patient_id"):
            if not values[column]:
                bad(column, "empty")
        slide_id = values["slide_id"]
        if slide_id in seen:
            bad("slide_id", f"duplicate {slide_id!r} (first on line {seen[slide_id]})")
        seen.setdefault(slide_id, line)
        if values["split"] and values["split"] not in SPLITS:
            bad("split", f"expected one of {list(SPLITS)}, received {values['split']!r}")
        patient = values["patient_id"]
        if patient and values["split"]:
            first = patient_split.setdefault(patient, (values["split"], line))
            if first[0] != values["split"]:
                bad("patient_id", f"patient {patient!r} is in split {values['split']!r} here and in "
                    f"{first[0]!r} on line {first[1]}: one patient must stay in one split")
        slide_path = _resolve(base, values["path"])
        if check_files and values["path"] and not slide_path.is_file():
            bad("path", f"file not found: {slide_path}")
        annotations = _resolve(base, values["annotations"]) if values["annotations"] else None
        if check_files and annotations is not None and not annotations.is_file():
            bad("annotations", f"file not found: {annotations}")
        ground_truth = _resolve(base, values.get("ground_truth", "")) if values.get("ground_truth") else None
        if check_files and ground_truth is not None and not ground_truth.is_file():
            bad("ground_truth", f"file not found: {ground_truth}")
        mpp = None
        if values.get("mpp"):
            problem = mpp_problem(values["mpp"])
            if problem is None:
                mpp = float(values["mpp"])
            else:
                bad("mpp", problem)
        records.append(SlideRecord(
            slide_id=slide_id, path=slide_path, stain=values["stain"], scanner=values["scanner"],
            source=values["source"], split=values["split"], patient_id=patient, annotations=annotations,
            mpp=mpp, ground_truth=ground_truth,
        ))
    if not records:
        problems.append("no rows")
    if problems:
        msg = f"{path}: {len(problems)} problem(s): " + "; ".join(problems)
        raise ManifestError(msg, path=path)
    return Manifest(records, path)


def _resolve(base: Path, value: str) -> Path:
    candidate = Path(value).expanduser()
    return candidate if candidate.is_absolute() else (base / candidate).resolve()
