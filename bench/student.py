"""A distilled student against its teacher: speed through the whole predict pipeline and mean IoU.

Speed: ``bench/wsi_infer.py``'s interleaved rounds on one generated slide, for the teacher and the student, in
Keras and in onnxruntime (the ONNX exports): pipeline tiles/s, model-only tiles/s and their ratio (pipeline
efficiency, goal >= 0.95), then the student's speed-up over the teacher per runtime (goal >= 3x).
Accuracy: mean IoU on the test slides and on the never-seen domain from ``hookseg evaluate``'s
``metrics.json`` of each model (the pipeline's ``eval/<name>/``), and the teacher minus the student (goal:
within 0.03). For the paired CI of that gap read ``metrics/phases.md`` (``hookseg report --students``).

Usage, in a pipeline run's folder (after `make demo`; the defaults are params.yaml's `final` model and
models/student.keras, and without them it says so and stops):
  python bench/student.py [--teacher models/p5.keras] [--student models/student.keras] \
      [--evals eval] [--size 8000] [--repeats 3] [--runtimes keras,onnx]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

COHORTS = ("test", "new_domain")


def accuracy(evals: Path, teacher: str, student: str) -> list[dict]:
    """Mean IoU per cohort of both models from their evaluate metrics, and the gap (teacher - student)."""
    rows = []
    scores = {}
    for name in (teacher, student):
        path = evals / name / "metrics.json"
        if not path.is_file():
            print(f"{path}: no evaluate metrics (run `dvc repro` first)", file=sys.stderr)
            return []
        scores[name] = json.loads(path.read_text())
    for cohort in COHORTS:
        if cohort in scores[teacher] and cohort in scores[student]:
            t, s = scores[teacher][cohort]["mean_iou"], scores[student][cohort]["mean_iou"]
            rows.append({"cohort": cohort, "slides": scores[student][cohort]["slides"],
                         f"{teacher}_mean_iou": t, f"{student}_mean_iou": s, "gap": round(t - s, 4),
                         "within_0.03": t - s <= 0.03})
    return rows


def default_teacher() -> str:
    """models/<final>.keras, ``final`` read from params.yaml in the working folder (the pipeline's)."""
    import yaml

    params = Path("params.yaml")
    final = yaml.safe_load(params.read_text()).get("final", "p5") if params.is_file() else "p5"
    return f"models/{final}.keras"


def speedups(rows: list[dict], teacher: str, student: str) -> list[dict]:
    """The student's pipeline and model-only tiles/s over the teacher's, per runtime."""
    by = {(r["model"], r["runtime"]): r for r in rows}
    out = []
    for runtime in dict.fromkeys(r["runtime"] for r in rows):
        t, s = by[(teacher, runtime)], by[(student, runtime)]
        pipeline = s["pipeline_tiles_per_s"] / t["pipeline_tiles_per_s"]
        model_only = s["model_only_tiles_per_s"] / t["model_only_tiles_per_s"]
        out.append({"runtime": runtime, "pipeline_speedup": round(pipeline, 2),
                    "model_only_speedup": round(model_only, 2)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", default=None, help="teacher (default: models/<final>.keras)")
    parser.add_argument("--student", default="models/student.keras", help="student .keras (hookseg distill)")
    parser.add_argument("--evals", default="eval", help="folder of <model>/metrics.json (default: eval)")
    parser.add_argument("--size", type=int, default=8000, help="generated slide side in pixels (0.5 um/px)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--runtimes", default="keras,onnx", help="keras and/or onnx (onnxruntime)")
    args = parser.parse_args()

    from bench.wsi_infer import throughput

    teacher, student = Path(args.teacher or default_teacher()), Path(args.student)
    missing = [str(p) for p in (teacher, student) if not p.is_file()]
    if missing:
        print(f"bench/student.py: no {' or '.join(missing)}: run `make demo` (or `dvc repro distill`) first")
        return
    with tempfile.TemporaryDirectory(dir=REPO / "bench") as tmp:
        rows = throughput(args.size, 2.0, Path(tmp), args.repeats, args.runtimes.split(","),
                          [str(teacher), str(student)])
    for row in rows:
        print(json.dumps(row))
    for row in speedups(rows, teacher.name, student.name):
        print(json.dumps(row))
    for row in accuracy(Path(args.evals), teacher.stem, student.stem):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
