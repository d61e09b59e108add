"""`hookseg augment` and `hookseg augment-gallery`, driven through their argparse registration."""

from __future__ import annotations

import argparse

import cv2
import numpy as np
import pytest

from hookseg.cli import augment as cli
from hookseg.errors import HooksegError


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_augment_one_image(tmp_path):
    src = tmp_path / "patch.png"
    image = cli.synthetic_ihc_patch(128, seed=1)
    cv2.imwrite(str(src), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    outs = []
    for seed in (0, 0, 1):
        out = tmp_path / f"out{len(outs)}.png"
        assert (
            _run(
                [
                    "augment",
                    str(src),
                    "--preset",
                    "basic",
                    "--preset",
                    "heavy_color",
                    "--force",
                    "--seed",
                    str(seed),
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
        outs.append(cv2.imread(str(out)))
    assert outs[0].shape == (128, 128, 3)
    np.testing.assert_array_equal(outs[0], outs[1])  # same seed, same picture
    assert not np.array_equal(outs[0], outs[2])
    assert not np.array_equal(cv2.cvtColor(outs[0], cv2.COLOR_BGR2RGB), image)


def test_gallery_has_a_row_per_preset(tmp_path):
    out = tmp_path / "gallery.png"
    assert _run(["augment-gallery", "--out", str(out), "--samples", "2", "--cell", "48"]) == 0
    grid = cv2.imread(str(out))
    from hookseg.augment import load_config

    assert grid.shape == ((len(load_config().presets) + 1) * 48, 2 * 48, 3)


def test_unreadable_image_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image", encoding="utf-8")
    with pytest.raises(HooksegError, match="cannot read the image"):
        _run(["augment", str(bad), "--preset", "basic", "--out", str(tmp_path / "o.png")])
