"""``kill -9`` in the middle of ``hookseg cohort prepare`` (the pipeline's first stage), then a rerun: the
same cohort byte for byte as an uninterrupted run, no temporary left behind, and the finished slides kept.
The kill comes once a slide is finished and another's temporary output exists (observed, not timed)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import yaml

from tests.interrupt import start_hookseg, temporaries


def _prepare(params: Path, out: Path):
    return start_hookseg(["cohort", "prepare", "--params", str(params), "--out", str(out)])


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_kill_9_while_generating_then_rerun_gives_the_same_cohort(tmp_path):
    params = tmp_path / "params.yaml"
    cohort = {"manifest": "", "slides": 3, "unlabelled": 0, "new_domain": 1, "size": 1024, "seed": 5}
    params.write_text(yaml.safe_dump({"cohort": cohort}))
    clean = tmp_path / "clean"
    assert _prepare(params, clean).wait(timeout=300) == 0
    out = tmp_path / "killed"
    process = _prepare(params, out)
    while process.poll() is None and not (list((out / ".done").glob("*.json")) and temporaries(out)):
        time.sleep(0.005)  # polling for the event (a slide finished, another half-written), not a timed guess
    assert process.poll() is None, "the cohort was finished before the kill"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert not (out / "manifest.csv").exists()
    assert _prepare(params, out).wait(timeout=300) == 0
    assert not temporaries(out)
    expected, got = _files(clean), _files(out)
    assert sorted(got) == sorted(expected)
    assert len([n for n in expected if n.endswith(".tiff")]) >= 8  # 4 slides and their ground truth
    for name, data in expected.items():
        if name.endswith(".json"):  # run records: equal but for timings, workers and the slides this run made
            assert _untimed(json.loads(got[name])) == _untimed(json.loads(data)), name
        else:
            assert got[name] == data, name
    assert json.loads(got["cohort.json"])["generated"] < 4, "the rerun made every slide again"


def _untimed(record):
    if isinstance(record, dict):
        return {k: _untimed(v) for k, v in record.items() if k not in ("seconds", "generated", "workers")}
    return [_untimed(v) for v in record] if isinstance(record, list) else record
