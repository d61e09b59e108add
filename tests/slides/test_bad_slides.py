"""Bad slide input gives one SlideError naming the file, never a traceback from deep inside."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from hookseg.cli import main
from hookseg.errors import SlideError
from hookseg.slides import open_slide, write_pyramid


def test_not_a_slide(tmp_path):
    path = tmp_path / "notes.svs"
    path.write_text("not a slide at all")
    with pytest.raises(SlideError) as err:
        open_slide(path)
    assert str(path) in str(err.value)


def test_unknown_suffix(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("a,b\n")
    with pytest.raises(SlideError, match="not a recognised slide"):
        open_slide(path)


def test_missing_file(tmp_path):
    with pytest.raises(SlideError, match="no such slide file"):
        open_slide(tmp_path / "absent.tif")


def test_truncated_svs_header(sample_svs_jpeg, tmp_path):
    path = tmp_path / "cut.svs"
    path.write_bytes(sample_svs_jpeg.read_bytes()[:3000])
    with pytest.raises(SlideError, match="truncated"):
        open_slide(path)


def test_truncated_pyramid_data_fails_on_read(tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (1024, 1024, 3), dtype=np.uint8)
    full = tmp_path / "full.tif"
    write_pyramid(full, (1024, 1024), lambda x, y, w, h: image[y : y + h, x : x + w], mpp=0.5)
    cut = tmp_path / "cut.tif"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(SlideError, match="truncated") as err, open_slide(cut) as slide:
        slide.read((0, 0), (1024, 1024), 0.5)
    assert str(cut) in str(err.value)


def test_cli_one_line_error_for_bad_file(tmp_path, capsys):
    path = tmp_path / "bad.tif"
    path.write_bytes(b"II*\x00garbage")
    assert main(["info", str(path)]) == 1  # data error
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(path) in err


def test_slide_error_survives_pickling():
    err = SlideError("x.svs: broken", path="x.svs")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is SlideError
    assert str(back) == "x.svs: broken"
    assert back.path == "x.svs"
    assert isinstance(back, OSError)
