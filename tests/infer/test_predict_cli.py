"""``hookseg predict``: a bad slide fails alone with a one-line message; a rerun skips only what this model
and these settings finished; ids cannot collide; a success clears the failure record."""

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
    assert "skipping 1 slide(s) finished by this model" in capsys.readouterr().out
    assert (out / "good" / "labels.tiff").stat().st_mtime_ns == stamp
    assert not (out / "failures.json").exists()  # this run failed nothing: no stale record stays


def test_another_model_or_force_redoes_and_same_stems_do_not_collide(colour_model, tmp_path, capsys):
    import shutil

    _, _, model_path = colour_model
    first, _ = banded_slide(tmp_path / "a", "slide", size=(512, 512), mpp=1.0, seed=1)
    second, _ = banded_slide(tmp_path / "b", "slide", size=(512, 512), mpp=1.0, seed=2)
    out = tmp_path / "pred"
    argv = ["predict", str(first), str(second), "--out", str(out), "--workers", "0"]
    assert main([*argv, "--model", str(model_path)]) == 0
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(folders) == 2 and all(f.startswith("slide-") for f in folders)  # both kept, neither lost
    assert "2 slide(s) predicted" in capsys.readouterr().out
    other = tmp_path / "other.keras"
    shutil.copyfile(model_path, other)
    with other.open("ab") as f:  # another file (another hash), the same weights: a "new" model
        f.write(b"\0")
    assert main([*argv, "--model", str(other)]) == 0
    assert "2 slide(s) predicted" in capsys.readouterr().out
    assert main([*argv, "--model", str(other)]) == 0
    assert "skipping 2 slide(s)" in capsys.readouterr().out
    assert main([*argv, "--model", str(other), "--force"]) == 0
    assert "2 slide(s) predicted" in capsys.readouterr().out


def test_bad_model_is_one_line_error(tmp_path, capsys):
    slide, _ = banded_slide(tmp_path, "s", size=(512, 512), mpp=1.0)
    # a missing model is bad data: exit 1 (2 is for usage)
    assert main(["predict", str(slide), "--model", str(tmp_path / "none.keras"), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "none.keras" in err
