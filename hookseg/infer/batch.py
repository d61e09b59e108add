"""Predict many slides into one folder, redoing only what this model and these settings did not make.

``hookseg predict`` and ``evaluate`` share it. A slide is skipped when its ``provenance.json`` records exactly
this model and these settings (``provenance.is_current``). A slide to redo loses its provenance first (and the
caches named in ``stale``), so a run killed now never leaves old outputs looking finished; its provenance is
written back once its prediction has finished. Each task's resume key is derived from the same provenance,
so a killed slide continues from its finished tile rows without the model being hashed again per slide.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hookseg.infer.params import InferParams
from hookseg.infer.provenance import PROVENANCE, is_current, model_hashes, provenance
from hookseg.io import write_json

Job = tuple[str, Path, float | None]  # slide_id, slide path, mpp (None: the slide's own)


class SlideBatch:
    """The jobs of one run: what this model and these settings already made, and what is left to do."""

    def __init__(self, model_path: str | Path, jobs: Sequence[Job], out: str | Path, params: InferParams,
                 *, force: bool = False) -> None:
        self.model_path, self.out, self.params, self.force = Path(model_path), Path(out), params, force
        model_hash = model_hashes(model_path)
        self.made_by = {sid: provenance(model_hash, params, mpp) for sid, _, mpp in jobs}
        self.todo = [j for j in jobs if force or not is_current(self.out / j[0], self.made_by[j[0]])]
        self.skipped = len(jobs) - len(self.todo)

    def run(self, workers: int | None, *, stale: Sequence[str] = (),
            on_finished: Callable[[str], None] | None = None) -> list[Any]:
        """Predict ``todo`` (over Ray unless ``workers == 0``); returns the failures."""
        from hookseg.infer.worker import predict_task
        from hookseg.parallel import run_slides

        for sid, _, _ in self.todo:  # outputs of another model or other settings are not "finished" any more
            folder = self.out / sid
            for name in (PROVENANCE, *stale):
                (folder / name).unlink(missing_ok=True)
            if self.force:  # nothing kept, not even the finished rows of a killed run (resumed otherwise)
                for scratch in folder.glob(".probabilities.npy*"):
                    scratch.unlink()

        def finished(item: str, result: object) -> None:
            write_json(self.out / item / PROVENANCE, self.made_by[item])
            if on_finished is not None:
                on_finished(item)

        # absolute paths: a Ray worker on another node or with another working folder gets the same files
        model, out = str(self.model_path.resolve()), str(self.out.resolve())
        args = [(model, str(Path(path).resolve()), sid, mpp, out, self.params,
                 resume_key(self.made_by[sid], path)) for sid, path, mpp in self.todo]
        return run_slides(predict_task, [j[0] for j in self.todo], args, workers=workers,
                          on_result=finished)[1]


def resume_key(made_by: dict[str, Any], slide_path: str | Path) -> str:
    """What the finished rows of a killed run must share with this one to be kept: the slide's provenance
    (model, settings, mpp) and the slide file."""
    identity = {**made_by, "slide": str(Path(slide_path).resolve())}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
