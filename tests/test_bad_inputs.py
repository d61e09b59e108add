"""Bad input, tried as a user would: every case exits non-zero with one line on stderr that names the file or
field at fault, and writes nothing. Slides, annotations, manifests, configs, CLI flags and model files.

Runs the real ``hookseg`` entry point in process (the parser, the commands and their error handling); the
cases that need a trained model use a saved one (``colour_model``), none is mocked.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from hookseg.cli import main
from tests.factories import banded_cohort, write_manifest_rows

REPO = Path(__file__).resolve().parents[1]
XML_HEAD = '<?xml version="1.0"?>'
POLYGON = ('<Annotation Name="a" Type="Polygon" PartOfGroup="tumour"><Coordinates>'
           '<Coordinate Order="0" X="0" Y="0"/><Coordinate Order="1" X="90" Y="0"/>'
           '<Coordinate Order="2" X="90" Y="90"/></Coordinates></Annotation>')


@dataclass(frozen=True)
class World:
    """Files the cases point at: a good cohort and one broken thing per case."""

    root: Path
    slide: Path
    manifest: Path
    model: Path

    def file(self, name: str, text: str | bytes) -> str:
        path = self.root / "bad" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
        return str(path)

    def manifest_with(self, name: str, **change: str) -> str:
        """The good manifest with the first row changed (``drop=column`` removes a column)."""
        import csv

        rows = list(csv.DictReader(self.manifest.open()))
        drop = change.pop("drop", None)
        rows[0].update(change)
        if drop:
            rows = [{k: v for k, v in row.items() if k != drop} for row in rows]
        path = self.manifest.parent / name  # beside the good one: its relative paths still resolve
        write_manifest_rows(path, rows)
        return str(path)

    @property
    def out(self) -> Path:
        return self.root / "out"


@pytest.fixture(scope="module")
def world(tmp_path_factory, colour_model) -> World:
    root = tmp_path_factory.mktemp("bad_inputs")
    manifest = banded_cohort(root / "cohort", {"a": "train", "b": "val", "c": "test"}, size=(512, 384))
    slide = root / "cohort" / "a.tif"
    return World(root, slide, manifest, colour_model[2])


def _truncated(w: World) -> str:
    data = w.slide.read_bytes()
    return w.file("cut.tif", data[: len(data) * 2 // 3])


def _folder(w: World) -> str:
    (w.root / "bad" / "folder.svs").mkdir(parents=True, exist_ok=True)
    return str(w.root / "bad" / "folder.svs")


def _zip_without_meta(w: World) -> str:
    path = w.root / "bad" / "bare.keras"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
    return str(path)


def _export(w: World, name: str, sidecar: str | None = None, graph: bytes | None = None) -> str:
    """An export folder holding ``sidecar`` (default: a good ONNX one) and ``graph`` as model.onnx."""
    import json

    from hookseg.annotations import ClassMap

    folder = w.root / "bad" / name
    folder.mkdir(parents=True, exist_ok=True)
    if sidecar is None:
        sidecar = json.dumps({
            "format": "onnx", "file": "model.onnx",
            "inputs": [{"name": "target"}], "outputs": [{"name": "final"}],
            "fields_of_view": {"size": 64, "mpp": 2.0, "context_size": 64, "context_mpp": None},
            "classes": [{"id": i, "name": n} for i, n in enumerate(ClassMap.default().names)]})
    (folder / "hookseg-export.json").write_text(sidecar)
    if graph is not None:
        (folder / "model.onnx").write_bytes(graph)
    return str(folder)


def _out_under_a_file(w: World) -> str:
    """An output folder that cannot exist: its parent is a file (tests run as root, so modes do not bind)."""
    return str(Path(w.file("plain-file", "x")) / "x.geojson")


def _config_with(w: World, text: str) -> str:
    return w.file("profile.yaml", text)


def _params_with(w: World, **phase: object) -> str:
    import yaml

    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["phases"]["p1"].update(phase)
    return w.file("params.yaml", yaml.safe_dump(params, sort_keys=False))


def _info(path_of: Callable[[World], str], *extra: str) -> Callable[[World], list[str]]:
    return lambda w: ["info", path_of(w), *extra]


def _predict(*extra: str, model: Callable[[World], str] | None = None) -> Callable[[World], list[str]]:
    return lambda w: ["predict", str(w.slide), "--model", model(w) if model else str(w.model),
                      "--out", str(w.out), *extra]


def _check(manifest: Callable[[World], str]) -> Callable[[World], list[str]]:
    return lambda w: ["cohort", "check", manifest(w)]


def _pseudo(*extra: str) -> Callable[[World], list[str]]:
    return lambda w: ["pseudo-label", "--model", str(w.model), "--manifest", str(w.manifest),
                      "--out", str(w.out), "--no-mlflow", "--workers", "0", *extra]


def _train(*extra: str, config: Callable[[World], str] | None = None) -> Callable[[World], list[str]]:
    return lambda w: ["train", "--config", config(w) if config else str(REPO / "configs" / "smoke.yaml"),
                      "--manifest", str(w.manifest), "--out", str(w.out / "m.keras"),
                      "--metrics", str(w.out / "m.json"), "--work", str(w.out / "work"), *extra]


def _annotations(text: str, name: str = "a.xml", action: str = "info") -> Callable[[World], list[str]]:
    def argv(w: World) -> list[str]:
        path = w.file(name, text)
        return ["annotations", action, path] + (["--to", "geojson", str(w.out / "x.geojson")]
                                                if action == "convert" else [])
    return argv


ASAP_OK = f"{XML_HEAD}<ASAP_Annotations><Annotations>{POLYGON}</Annotations></ASAP_Annotations>"
CASES: dict[str, tuple[Callable[[World], list[str]], str]] = {
    # slides
    "slide missing": (_info(lambda w: str(w.root / "nope.svs")), "no such slide file"),
    "slide is a folder": (_info(_folder), "a folder, not a slide file"),
    "slide truncated": (_info(_truncated), "truncated"),
    "slide empty": (_info(lambda w: w.file("empty.tif", b"")), "empty.tif"),
    "slide is text": (_info(lambda w: w.file("text.svs", "not a slide")), "text.svs"),
    "slide unknown suffix": (_info(lambda w: w.file("x.xyz", b"\x00" * 64)), "not a recognised slide"),
    "slide png garbage": (_info(lambda w: w.file("junk.png", b"\x89PNG junk")), "junk.png"),
    "info mpp nan": (_info(lambda w: str(w.slide), "--mpp", "nan"), "--mpp"),
    "info mpp inf": (_info(lambda w: str(w.slide), "--mpp", "inf"), "--mpp"),
    "info mpp huge": (_info(lambda w: str(w.slide), "--mpp", "1e6"), "--mpp"),
    "info mpp negative": (_info(lambda w: str(w.slide), "--mpp", "-1"), "--mpp"),
    "info mpp tiny": (_info(lambda w: str(w.slide), "--mpp", "0.001"), "--mpp"),
    "info mpp text": (_info(lambda w: str(w.slide), "--mpp", "half"), "--mpp"),
    "predict mpp nan": (_predict("--mpp", "nan"), "--mpp"),
    "predict mpp huge": (_predict("--mpp", "1e6"), "--mpp"),
    "predict split unknown": (lambda w: ["predict", "--manifest", str(w.manifest), "--split", "holdout",
                                         "--model", str(w.model), "--out", str(w.out)], "holdout"),
    "predict split empty": (lambda w: ["predict", "--manifest", str(w.manifest), "--split", "new_domain",
                                       "--model", str(w.model), "--out", str(w.out)], "new_domain"),
    # annotations
    "annotations missing": (lambda w: ["annotations", "info", str(w.root / "none.geojson")], "none.geojson"),
    "asap malformed": (_annotations("<ASAP_Annotations><Annotations><Annotation>"), "not well-formed"),
    "asap wrong root": (_annotations(f"{XML_HEAD}<Other/>", "o.xml"), "no <Annotations>"),
    "asap entity bomb": (_annotations(
        f'{XML_HEAD}<!DOCTYPE r [<!ENTITY a "x"><!ENTITY b "&a;&a;&a;&a;">]>'
        f"<ASAP_Annotations><Annotations>{POLYGON}</Annotations></ASAP_Annotations>", "bomb.xml"),
        "refused XML"),
    "asap external entity": (_annotations(
        f'{XML_HEAD}<!DOCTYPE r [<!ENTITY a SYSTEM "file:///etc/passwd">]>'
        f"<ASAP_Annotations><Annotations>{POLYGON}</Annotations></ASAP_Annotations>", "ext.xml"),
        "refused XML"),
    "geojson truncated": (_annotations('{"type": "FeatureCollection", "features": [', "t.geojson"),
                          "t.geojson"),
    "geojson wrong structure": (_annotations('{"hello": 1}', "w.geojson"), "w.geojson"),
    "annotations binary": (_annotations("\x00\x01\x02", "b.json"), "b.json"),
    "annotations unknown suffix": (_annotations("x", "a.txt"), "a.txt"),
    "convert unknown format": (lambda w: ["annotations", "convert", w.file("ok.xml", ASAP_OK), "--to",
                                          "svg", str(w.out / "x.svg")], "--to"),
    "convert into an impossible folder": (lambda w: ["annotations", "convert", w.file("ok.xml", ASAP_OK),
                                                     "--to", "geojson", _out_under_a_file(w)], "plain-file"),
    # manifests
    "manifest missing": (_check(lambda w: str(w.root / "none.csv")), "none.csv"),
    "manifest empty": (_check(lambda w: w.file("empty.csv", "")), "empty.csv"),
    "manifest header only": (_check(lambda w: w.file("header.csv", "slide_id,path,stain,scanner,source,split,"
                                                      "patient_id,annotations\n")), "no rows"),
    "manifest binary": (_check(lambda w: w.file("bin.csv", b"\xff\xfe\x00\x01")), "bin.csv"),
    "manifest missing column": (_check(lambda w: w.manifest_with("m1.csv", drop="patient_id")), "patient_id"),
    "manifest unknown split": (_check(lambda w: w.manifest_with("m2.csv", split="holdout")), "split"),
    "manifest duplicate id": (_check(lambda w: w.manifest_with("m3.csv", slide_id="b")), "slide_id"),
    "manifest patient in two splits": (_check(lambda w: w.manifest_with("m4.csv", patient_id="P1")),
                                       "patient_id"),
    "manifest mpp text": (_check(lambda w: w.manifest_with("m5.csv", mpp="fine")), "mpp"),
    "manifest mpp huge": (_check(lambda w: w.manifest_with("m6.csv", mpp="1e6")), "mpp"),
    "manifest mpp nan": (_check(lambda w: w.manifest_with("m7.csv", mpp="nan")), "mpp"),
    "manifest slide missing": (_check(lambda w: w.manifest_with("m8.csv", path="gone.tif")), "gone.tif"),
    "manifest annotations missing": (_check(lambda w: w.manifest_with("m9.csv", annotations="gone.json")),
                                     "gone.json"),
    "manifest slide truncated": (_check(lambda w: w.manifest_with("m10.csv", path=_truncated(w))),
                                 "truncated"),
    "split negative fraction": (lambda w: ["cohort", "split", str(w.manifest), "--out", str(w.out / "s.csv"),
                                           "--train", "-1"], "fractions"),
    # configs and params
    "train config missing": (_train(config=lambda w: str(w.root / "none.yaml")), "none.yaml"),
    "train config not yaml": (_train(config=lambda w: _config_with(w, "base: [unclosed")), "profile.yaml"),
    "train config unknown key": (_train(config=lambda w: _config_with(
        w, (REPO / "configs" / "smoke.yaml").read_text().replace("  train:", "  trian: {}\n  train:", 1))),
        "trian"),
    "train config no stage": (_train("--stage", "master", config=lambda w: _config_with(w, "base: {}\n")),
                              "master"),
    "train stage unknown": (_train("--stage", "student"), "--stage"),
    "train epochs text": (_train("--epochs", "many"), "--epochs"),
    "train class weights bad": (_train("--class-weights", "1,x,1"), "--class-weights"),
    "train init missing": (_train("--init", "/nonexistent/m.keras"), "m.keras"),
    "train gan without a bank": (_train("--augment", "basic,gan", "--style-bank", "none"), "`gan` preset"),
    "train augment preset unknown": (_train("--augment", "basic,sparkle"), "sparkle"),
    "pseudo threshold above 1": (_pseudo("--threshold", "1.5"), "--threshold"),
    "pseudo threshold 0": (_pseudo("--threshold", "0"), "--threshold"),
    "pseudo threshold negative": (_pseudo("--threshold", "-0.1"), "--threshold"),
    "pseudo no threshold": (_pseudo(), "--threshold"),
    "pseudo tta bad": (_pseudo("--threshold", "0.9", "--tta", "3"), "--tta"),
    "params phase unknown": (_pseudo("--params", str(REPO / "params.yaml"), "--phase", "p9"), "p9"),
    "params threshold above 1": (lambda w: _pseudo("--params", _params_with(w, threshold=1.5), "--phase",
                                                   "p1")(w), "phases.p1.threshold"),
    "params epochs zero": (lambda w: _pseudo("--params", _params_with(w, epochs=0), "--phase", "p1")(w),
                           "phases.p1.epochs"),
    "params unknown key": (lambda w: _pseudo("--params", _params_with(w, thresold=0.5), "--phase", "p1")(w),
                           "thresold"),
    "augment preset unknown": (lambda w: ["augment", str(w.slide), "--preset", "sparkle", "--out",
                                          str(w.out / "a.png")], "sparkle"),
    # CLI flags
    "predict workers negative": (_predict("--workers", "-1"), "--workers"),
    "predict workers text": (_predict("--workers", "two"), "--workers"),
    "evaluate split unknown": (lambda w: ["evaluate", "--model", str(w.model), "--manifest", str(w.manifest),
                                          "--split", "holdout", "--out", str(w.out), "--workers", "0",
                                          "--no-mlflow"], "holdout"),
    "demo-cohort unknown stain": (lambda w: ["demo-cohort", str(w.out), "--stains", "ER,CD8"], "CD8"),
    "demo-cohort no slides": (lambda w: ["demo-cohort", str(w.out), "--slides", "0"], "slides"),
    "demo-cohort tiny size": (lambda w: ["demo-cohort", str(w.out), "--size", "10"], "size"),
    "demo-cohort workers 0": (lambda w: ["demo-cohort", str(w.out), "--workers", "0"], "--workers"),
    "unknown command": (lambda w: ["segment", str(w.slide)], "segment"),
    # model files
    "model missing": (_predict(model=lambda w: str(w.root / "none.keras")), "none.keras"),
    "model is text": (_predict(model=lambda w: w.file("text.keras", "not a model")), "text.keras"),
    "model zip without metadata": (_predict(model=_zip_without_meta), "bare.keras"),
    "evaluate model missing": (lambda w: ["evaluate", "--model", str(w.root / "gone.keras"), "--manifest",
                                          str(w.manifest), "--split", "test", "--out", str(w.out),
                                          "--workers", "0", "--no-mlflow"], "gone.keras"),
    # ONNX export folders
    "onnx export without model.onnx": (_predict(model=lambda w: _export(w, "no-graph")), "model.onnx"),
    "onnx export sidecar not json": (_predict(model=lambda w: _export(w, "bad-json", "{format: onnx", b"x")),
                                     "hookseg-export.json"),
    "onnx export sidecar missing": (_predict(model=lambda w: _folder(w)), "hookseg-export.json"),
    "onnx export graph corrupt": (_predict(model=lambda w: _export(w, "corrupt", graph=b"\x08\x07junk")),
                                  "model.onnx"),
    "export from an export folder": (lambda w: ["export", "--model", _export(w, "again", graph=b"x"),
                                                "--format", "onnx", "--out", str(w.out / "x")], "--model"),
}


# Bad data (slides, annotations, manifests, models, output folders) exits 1; a bad request (flags, config and
# params files, unknown presets or commands) exits 2, as argparse's usage errors do.
DATA_CASES = ("slide ", "manifest ", "annotations ", "asap ", "geojson ", "model ", "onnx export ",
              "evaluate model ", "train init missing", "convert into ", "export from ",
              "predict split empty")  # the flag names a real split; this manifest has no slide in it


def expected_exit(case: str) -> int:
    return 1 if case.startswith(DATA_CASES) else 2


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_clear_line_and_writes_nothing(case, world, capsys):
    argv_of, names = CASES[case]
    shutil.rmtree(world.out, ignore_errors=True)
    argv = argv_of(world)
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse: usage errors
        code = exit_.code
    err = capsys.readouterr().err.strip()
    assert code not in (0, None), f"accepted: hookseg {' '.join(argv)}"
    assert code == expected_exit(case), (code, err[-500:])
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err[-2000:]
    assert names in lines[0], lines[0]
    assert "Traceback" not in err
    written = [p for p in world.out.rglob("*") if p.is_file()] if world.out.exists() else []
    assert not written, written


def test_there_are_at_least_sixty_cases():
    assert len(CASES) >= 60
