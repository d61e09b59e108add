"""``hookseg annotations convert|info`` through the real entry point."""

from __future__ import annotations

import json

from hookseg.annotations import read_annotations
from hookseg.annotations.classes import DEFAULT_CLASSES_PATH
from hookseg.cli import main


def test_convert_dsa_to_qupath_with_clubbing(sample_dsa_json, tmp_path, capsys):
    out = tmp_path / "clubbed.geojson"
    code = main(["annotations", "convert", str(sample_dsa_json), str(out), "--to", "geojson", "--club"])
    assert code == 0
    captured = capsys.readouterr()
    line = captured.out.strip()
    # The file's self-touching rings are repaired and reported in one line naming the file.
    assert captured.err.startswith(f"hookseg annotations: warning: {sample_dsa_json}: repaired 17")
    assert len(captured.err.strip().splitlines()) == 1
    assert line == f"{out}: wrote 98 annotations (tumour 38, ignore 20, other 5, background 35)"
    back = read_annotations(out)
    assert back.label_counts() == {"tumour": 38, "ignore": 20, "other": 5, "background": 35}
    first = json.loads(out.read_text())["features"][0]["properties"]["classification"]
    assert first == {"name": "tumour", "color": [220, 30, 30]}


def test_convert_mask_to_asap_and_info(tmp_path, capsys):
    import numpy as np
    from PIL import Image

    mask = np.zeros((10, 12), np.uint8)
    mask[1:4, 1:5] = 3
    mask[5:9, 6:11] = 8
    Image.fromarray(mask).save(tmp_path / "crop.png")
    codes = tmp_path / "codes.csv"
    codes.write_text("group,GT_code\nDCIS,3\nmostly_stroma,8\n")
    out = tmp_path / "crop.xml"
    assert (
        main(
            [
                "annotations",
                "convert",
                str(tmp_path / "crop.png"),
                str(out),
                "--codes",
                str(codes),
                "--origin",
                "1000",
                "2000",
            ]
        )
        == 0
    )
    assert "wrote 2 annotations (DCIS 1, mostly_stroma 1)" in capsys.readouterr().out
    assert main(["annotations", "info", str(out), "--classes", str(DEFAULT_CLASSES_PATH)]) == 0
    printed = capsys.readouterr().out
    assert "2 annotations, 2 labels, bounds x 1001..1011, y 2001..2009" in printed
    assert "DCIS: 1 (12 px^2) -> other" in printed
    assert "mostly_stroma: 1 (20 px^2) -> background" in printed


def test_unknown_label_with_club_is_one_line_error(tmp_path, capsys):
    src = tmp_path / "in.geojson"
    src.write_text(
        json.dumps(
            [
                {
                    "type": "Feature",
                    "properties": {"classification": {"name": "Cartilage"}},
                    "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 0]]]},
                }
            ]
        )
    )
    code = main(["annotations", "convert", str(src), str(tmp_path / "out.xml"), "--club"])
    err = capsys.readouterr().err.strip()
    assert code == 1  # data error: an unknown label
    assert len(err.splitlines()) == 1
    assert "'Cartilage'" in err and str(src) in err and "classes.yaml" in err
    assert not (tmp_path / "out.xml").exists()
