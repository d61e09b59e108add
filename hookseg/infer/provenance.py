"""What made a slide's outputs: the model's hashes, the prediction settings and the slide's mpp.

``provenance.json`` sits beside ``summary.json``. A rerun skips a slide only when both exist and the recorded
provenance equals the current one, so a new model or other settings redo the slide instead of leaving stale
outputs that look finished. Slide ids are the manifest's ``slide_id`` or the file stem; two files with the
same stem get the stem plus a hash of the whole path, so their outputs cannot overwrite each other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

PROVENANCE = "provenance.json"


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def model_hashes(path: str | Path) -> dict[str, str]:
    """``model_sha256`` of a ``.keras`` file. For an export folder, that of the graph file its sidecar names
    (as ``sha256sum model.onnx`` prints it) and ``sidecar_sha256``: its fields of view and classes shape the
    outputs too."""
    path = Path(path)
    if not path.is_dir():
        return {"model_sha256": file_sha256(path)}
    from hookseg.model_meta import EXPORT_SIDECAR, read_export

    graph = path / str(read_export(path)["file"])  # predict checked the export names its graph file
    return {"model_sha256": file_sha256(graph), "sidecar_sha256": file_sha256(path / EXPORT_SIDECAR)}


def provenance(model: dict[str, str], params: Any, mpp: float | None) -> dict[str, Any]:
    """``model_hashes``, settings and mpp as JSON would read them back (tuples as lists): a recorded one
    compares equal."""
    settings = json.loads(json.dumps(asdict(params), default=str))
    return {**model, "params": settings, "mpp": mpp}


def is_current(folder: Path, expected: dict[str, Any]) -> bool:
    """The slide's outputs are finished (``summary.json``) and were made by exactly ``expected``."""
    try:
        recorded = json.loads((folder / PROVENANCE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    return (folder / "summary.json").exists() and recorded == expected


def unique_ids(jobs: list[tuple[str, Path, float | None]]) -> list[tuple[str, Path, float | None]]:
    """Ids made unique: a stem shared by different files gets ``-<8 hex of the resolved path>``."""
    paths_of: dict[str, set[Path]] = {}
    for sid, path, _ in jobs:
        paths_of.setdefault(sid, set()).add(Path(path).resolve())
    clashing = {sid for sid, paths in paths_of.items() if len(paths) > 1}
    out, seen = [], set()
    for sid, path, mpp in jobs:
        resolved = Path(path).resolve()
        if sid in clashing:
            sid = f"{sid}-{hashlib.sha256(str(resolved).encode()).hexdigest()[:8]}"
        if (sid, resolved) not in seen:  # the same file given twice is predicted once
            seen.add((sid, resolved))
            out.append((sid, path, mpp))
    return out
