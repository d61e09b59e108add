"""Readers and writers: round trips, QuPath variants, bad geometry and malformed files."""

from __future__ import annotations

import json
import math
import pickle

import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from hookseg.annotations import (
    Annotation,
    AnnotationSet,
    AnnotationWarning,
    read_annotations,
    write_annotations,
)
from hookseg.annotations.asap_xml import read_asap_xml
from hookseg.annotations.geojson import read_geojson
from hookseg.annotations.registry import detect_format
from hookseg.errors import AnnotationError

HOLED = MultiPolygon(
    [
        Polygon(
            [(0, 0), (100.25, 0), (100.25, 80), (0, 80)],
            [[(10, 10), (20, 10), (20, 20), (10, 20)], [(50.123456789, 50), (60, 50), (60, 61.5)]],
        ),
        Polygon([(200, 200), (300.5, 210), (250, 300)]),
    ]
)


def _sample_set() -> AnnotationSet:
    return AnnotationSet(
        [
            Annotation(HOLED, "stroma", color=(255, 125, 0), name="big one"),
            Annotation(box(30, 30, 40, 45), "DCIS"),
            Annotation(Polygon([(1e5 + 0.1, 2e5), (1e5 + 7.7, 2e5 + 0.3), (1e5 + 3, 2e5 + 9)]), "tumour"),
        ]
    )


@pytest.mark.parametrize("suffix", [".geojson", ".xml"])
def test_round_trip_keeps_geometry_and_labels(tmp_path, suffix):
    original = _sample_set()
    path = write_annotations(original, tmp_path / f"out{suffix}")
    back = read_annotations(path)
    assert [a.label for a in back] == [a.label for a in original]
    for a, b in zip(original, back, strict=True):
        assert type(b.geometry) is type(a.geometry)
        assert a.geometry.equals_exact(b.geometry, 1e-6), (a.label, b.geometry.wkt[:200])
    assert back[0].color == (255, 125, 0)
    assert back[0].name == "big one"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"out{suffix}"]  # atomic: no temp files left


def test_geojson_writer_is_qupath_shaped(tmp_path):
    path = write_annotations(_sample_set(), tmp_path / "out.geojson")
    data = json.loads(path.read_text())
    assert data["type"] == "FeatureCollection"
    first = data["features"][0]
    assert first["properties"]["objectType"] == "annotation"
    assert first["properties"]["classification"] == {"name": "stroma", "color": [255, 125, 0]}
    assert first["geometry"]["type"] == "MultiPolygon"


def test_class_map_colours_for_class_names(tmp_path):
    from hookseg.annotations import ClassMap

    cm = ClassMap.default()
    aset = AnnotationSet(
        [Annotation(box(0, 0, 5, 5), "Tumour", color=(1, 2, 3)), Annotation(box(9, 9, 12, 12), "dcis")]
    )
    back = read_annotations(write_annotations(aset, tmp_path / "c.xml", class_map=cm))
    assert back[0].color == cm.color_of(cm.id_of("tumour"))
    assert back[1].color != cm.color_of(1)


def _write_json(tmp_path, obj, name="in.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps(obj))
    return path


def _feature(coords, **props):
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": coords}, "properties": props}


SQUARE = [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]


def test_qupath_variants(tmp_path):
    features = [
        _feature(SQUARE, classification={"name": "Tumor", "color": [200, 0, 0]}),
        _feature(SQUARE, classification={"name": "Stroma", "color": -16711936}),  # packed ARGB, green
        _feature(SQUARE, classification={"name": "Necrosis", "colorRGB": -256}),  # QuPath 0.2, yellow
        _feature(SQUARE, classification="DCIS"),
        _feature(SQUARE, name="Fold"),
        _feature(SQUARE),
    ]
    got = read_geojson(_write_json(tmp_path, features))  # QuPath's bare list of Features
    assert [a.label for a in got] == ["Tumor", "Stroma", "Necrosis", "DCIS", "Fold", "unclassified"]
    assert [a.color for a in got[:3]] == [(200, 0, 0), (0, 255, 0), (255, 255, 0)]
    single = read_geojson(_write_json(tmp_path, features[0], "one.json"))
    assert len(single) == 1
    assert single[0].geometry.area == 100


def test_self_intersecting_polygon_is_repaired_with_warning(tmp_path):
    bowtie = [[[0, 0], [10, 10], [10, 0], [0, 10], [0, 0]]]
    path = _write_json(
        tmp_path,
        {
            "type": "FeatureCollection",
            "features": [_feature(SQUARE, classification="a"), _feature(bowtie, classification="b")],
        },
    )
    with pytest.warns(AnnotationWarning) as record:
        got = read_geojson(path)
    message = str(record[0].message)
    assert str(path) in message
    assert "feature index 1" in message
    assert got[1].geometry.is_valid
    assert got[1].geometry.geom_type == "MultiPolygon"
    assert math.isclose(got[1].geometry.area, 50.0)


def test_degenerate_geometry_is_skipped_with_warning(tmp_path):
    line = [[[0, 0], [10, 10], [0, 0]]]
    collinear = [[[0, 0], [5, 5], [10, 10], [0, 0]]]
    path = _write_json(
        tmp_path,
        [
            _feature(line, classification="x"),
            _feature(SQUARE, classification="y"),
            _feature(collinear, classification="z"),
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {}},
        ],
    )
    with pytest.warns(AnnotationWarning, match=r"skipped 3 .*feature index 0, 2, 3"):
        got = read_geojson(path)
    assert [a.label for a in got] == ["y"]


def test_truncated_json_names_file(tmp_path):
    path = tmp_path / "cut.geojson"
    path.write_text(json.dumps([_feature(SQUARE, classification="a")])[:40])
    with pytest.raises(AnnotationError) as err:
        read_annotations(path)
    assert str(path) in str(err.value)
    assert "Expected" in str(err.value)


def test_json_with_wrong_structure(tmp_path):
    with pytest.raises(AnnotationError, match="Feature"):
        read_geojson(_write_json(tmp_path, {"type": "Polygon", "coordinates": SQUARE}))


def test_xml_without_annotations(tmp_path):
    path = tmp_path / "empty.xml"
    path.write_text("<?xml version='1.0'?><ASAP_Annotations><AnnotationGroups/></ASAP_Annotations>")
    with pytest.raises(AnnotationError) as err:
        read_annotations(path)
    assert str(path) in str(err.value)
    assert "<Annotations>" in str(err.value)


def test_malformed_xml(tmp_path):
    path = tmp_path / "bad.xml"
    path.write_text("<ASAP_Annotations><Annotations><Annotation>")
    with pytest.raises(AnnotationError, match="not well-formed"):
        read_asap_xml(path)


@pytest.mark.parametrize("doctype", [
    # billion laughs: each entity ten times the one before
    '<!DOCTYPE ASAP_Annotations [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
    '<!DOCTYPE ASAP_Annotations [<!ENTITY a SYSTEM "file:///etc/passwd">]>',  # external entity
])
def test_xml_entities_are_refused_not_expanded(tmp_path, doctype):
    path = tmp_path / "bomb.xml"
    path.write_text(f'<?xml version="1.0"?>{doctype}<ASAP_Annotations><Annotations>'
                    '<Annotation Name="&a;" Type="Polygon" PartOfGroup="tumour"><Coordinates>'
                    '<Coordinate Order="0" X="0" Y="0"/><Coordinate Order="1" X="9" Y="0"/>'
                    '<Coordinate Order="2" X="9" Y="9"/></Coordinates></Annotation></Annotations>'
                    '</ASAP_Annotations>')
    with pytest.raises(AnnotationError, match=r"bomb\.xml: refused XML \(Entities") as err:
        read_asap_xml(path)
    assert "\n" not in str(err.value)


def test_plain_asap_file(tmp_path):
    path = tmp_path / "asap.xml"
    path.write_text("""<?xml version="1.0"?>
<ASAP_Annotations><Annotations>
 <Annotation Name="A1" Type="Polygon" PartOfGroup="tumor" Color="#F4FA58"><Coordinates>
  <Coordinate Order="2" X="10" Y="10"/><Coordinate Order="0" X="0" Y="0"/>
  <Coordinate Order="1" X="10,5" Y="0"/><Coordinate Order="3" X="0" Y="10"/></Coordinates></Annotation>
 <Annotation Name="D" Type="Dot" PartOfGroup="tumor">
  <Coordinates><Coordinate Order="0" X="1" Y="1"/></Coordinates></Annotation>
 <Annotation Name="A2" Type="Rectangle" PartOfGroup="None"><Coordinates>
  <Coordinate Order="0" X="20" Y="20"/><Coordinate Order="1" X="30" Y="20"/>
  <Coordinate Order="2" X="30" Y="30"/><Coordinate Order="3" X="20" Y="30"/></Coordinates></Annotation>
</Annotations>
<AnnotationGroups><Group Name="tumor" Color="#ff0000"/></AnnotationGroups></ASAP_Annotations>""")
    with pytest.warns(AnnotationWarning, match="Dot"):
        got = read_asap_xml(path)
    assert [a.label for a in got] == ["tumor", "unclassified"]
    assert got[0].geometry.equals_exact(Polygon([(0, 0), (10.5, 0), (10, 10), (0, 10)]), 1e-9)
    assert got[0].color == (0xF4, 0xFA, 0x58)
    assert got[1].geometry.area == 100


def test_dsa_rectangle_and_open_polyline(tmp_path):
    doc = {
        "annotation": {
            "name": "doc",
            "elements": [
                {
                    "type": "rectangle",
                    "center": [100, 50, 0],
                    "width": 20,
                    "height": 10,
                    "rotation": math.pi / 2,
                    "group": "tumor",
                    "lineColor": "rgb(255,0,0)",
                },
                {
                    "type": "polyline",
                    "closed": False,
                    "points": [[0, 0, 0], [5, 5, 0], [9, 0, 0]],
                    "group": "x",
                },
                {
                    "type": "polyline",
                    "closed": True,
                    "points": [[0, 0, 0], [5, 5, 0], [9, 0, 0]],
                    "label": {"value": "stroma"},
                },
            ],
        }
    }
    path = _write_json(tmp_path, [doc], "dsa.json")
    assert detect_format(path) == "dsa"
    with pytest.warns(AnnotationWarning, match="open polyline"):
        got = read_annotations(path)
    assert [a.label for a in got] == ["tumor", "stroma"]
    assert got[0].geometry.bounds == pytest.approx((95, 40, 105, 60))  # rotated a quarter turn
    assert got[0].color == (255, 0, 0)


def test_json_sniffing_and_format_errors(tmp_path):
    geo = _write_json(tmp_path, [_feature(SQUARE, classification="a")], "qupath.json")
    assert detect_format(geo) == "geojson"
    with pytest.raises(AnnotationError, match=r"\.geojson"):
        detect_format(tmp_path / "notes.txt")
    with pytest.raises(AnnotationError, match=r"Expected one of \['asap', 'dsa', 'geojson', 'mask'\]"):
        read_annotations(geo, format="qupath")
    with pytest.raises(AnnotationError, match="label masks only"):
        read_annotations(geo, origin=(1, 2))
    with pytest.raises(AnnotationError, match="not found"):
        read_annotations(tmp_path / "missing.json")


def test_annotation_set_operations():
    aset = _sample_set()
    assert aset.labels() == ["stroma", "DCIS", "tumour"]
    assert aset.bounds == pytest.approx((0, 0, 1e5 + 7.7, 2e5 + 9))
    moved = aset.translated(5, -2).scaled(0.5)
    assert moved.bounds == pytest.approx((2.5, -1, (1e5 + 12.7) / 2, (2e5 + 7) / 2))
    assert moved[0].geometry.area == pytest.approx(HOLED.area / 4)
    assert len(moved) == 3 and isinstance(moved[:2], AnnotationSet)
    assert AnnotationSet().bounds is None
    assert pickle.loads(pickle.dumps(aset))[0] == aset[0]  # crosses Ray / worker boundaries
    with pytest.raises(AnnotationError):
        Annotation(box(0, 0, 1, 1).exterior, "x")
