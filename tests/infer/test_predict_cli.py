"""``hookseg predict``: a bad slide fails alone with a one-line message; a rerun skips finished slides."""

from __future__ import annotations

import json

from hookseg.cli import main
from tests.factories import banded_slide


def test_bad_slide_fails_alone_and_rerun_skips(colour_model, tmp_path, capsys):
    _, _, model_path = colour_model
    good, _ = banded_slide(tmp_path, "good", size=(768, 512), mpp=1.0)
    bad = tmp_path / "broken.tif"
    bad.write_bytes(b"II*\x00not really a tiff")
    out = tmp_path / "pred"
    code = main(
        ["predict", str(good), str(bad), "--model", str(model_path), "--out", str(out), "--workers", "0"]
    )
    assert code == 1
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("hookseg predict: error:")]
    assert len(errors) == 1
    assert "broken" in errors[0]
    assert (out / "good" / "summary.json").exists()
    failures = json.loads((out / "failures.json").read_text())
    assert [f["item"] for f in failures] == ["broken"]
    stamp = (out / "good" / "labels.tiff").stat().st_mtime_ns
    assert main(["predict", str(good), "--model", str(model_path), "--out", str(out), "--workers", "0"]) == 0
    assert "skipping 1 finished slide(s)" in capsys.readouterr().out
    assert (out / "good" / "labels.tiff").stat().st_mtime_ns == stamp


def test_bad_model_is_one_line_error(tmp_path, capsys):
    slide, _ = banded_slide(tmp_path, "s", size=(512, 512), mpp=1.0)
    assert main(["predict", str(slide), "--model", str(tmp_path / "none.keras"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "none.keras" in err
