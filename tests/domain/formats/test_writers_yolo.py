"""YOLO under Label Studio's names: boxes, point lists or pose by the config, and its zip layout.

Every expected line is computed by hand on a 200 x 100 px image (percent -> pixels -> 0..1).
"""

import io
import json
import zipfile
from typing import Any

import pytest

from labelops.domain.formats.options import ExportOptions
from labelops.domain.formats.registry import (
    get_export_format,
    get_import_format,
    supported_export_formats,
)
from tests.domain.formats.helpers import ann, config, rect, task

BOXES = config(
    """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Car"/><Label value="Person"/>
  </RectangleLabels>
</View>"""
)
POLYGONS = config(
    """<View>
  <Image name="image" value="$image"/>
  <PolygonLabels name="poly" toName="image"><Label value="Road"/></PolygonLabels>
</View>"""
)
BOXES_AND_POLYGONS = config(
    """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image"><Label value="Car"/></RectangleLabels>
  <PolygonLabels name="poly" toName="image"><Label value="Road"/></PolygonLabels>
</View>"""
)
# model_index orders the pose columns: eye (0) before nose (1), unlike the config order
POSE = config(
    """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="person"/></RectangleLabels>
  <KeyPointLabels name="kp" toName="image">
    <Label value="nose" model_index="1"/><Label value="eye" model_index="0"/>
  </KeyPointLabels>
</View>"""
)
KEYPOINTS_AND_POLYGONS = config(
    """<View>
  <Image name="image" value="$image"/>
  <PolygonLabels name="poly" toName="image"><Label value="Road"/></PolygonLabels>
  <KeyPointLabels name="kp" toName="image"><Label value="nose"/></KeyPointLabels>
</View>"""
)

# box x 10%..40% of 200 px = 20..80 px, y 20%..60% of 100 px = 20..60 px
BOX_LINE = "0.250000 0.400000 0.300000 0.400000"  # cx 50/200, cy 40/100, w 60/200, h 40/100
BOX_CORNERS = "0.100000 0.200000 0.400000 0.200000 0.400000 0.600000 0.100000 0.600000"


def polygon(points: list[list[float]], label: str) -> dict[str, Any]:
    return {
        "id": "p",
        "from_name": "poly",
        "to_name": "image",
        "type": "polygonlabels",
        "original_width": 200,
        "original_height": 100,
        "value": {"points": points, "polygonlabels": [label]},
    }


def keypoint(x: float, y: float, label: str, parent: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": f"k-{label}",
        "from_name": "kp",
        "to_name": "image",
        "type": "keypointlabels",
        "original_width": 200,
        "original_height": 100,
        "value": {"x": x, "y": y, "width": 0.5, "keypointlabels": [label]},
    }
    if parent:
        item["parentID"] = parent
    return item


def export_zip(name: str, tasks: list[Any], cfg: Any, media: Any = None) -> zipfile.ZipFile:
    options = ExportOptions(media=media)
    data = b"".join(get_export_format(name).stream(iter(tasks), cfg, options))
    return zipfile.ZipFile(io.BytesIO(data))


def label_lines(z: zipfile.ZipFile, stem: str) -> list[str]:
    return z.read(f"labels/{stem}.txt").decode().splitlines()


def test_yolo_of_a_box_config_has_label_studios_layout_and_box_lines() -> None:
    t = task(
        {"image": "s3://b/photos/dog.jpg"},
        ann(
            [
                rect(10, 20, 30, 40, "Car", rid="a"),
                # 40 x 20 px box at (100, 10) px turned 30 degrees: corners (100, 10),
                # (134.641, 30), (124.641, 47.321), (90, 27.321); its axis-aligned box is
                # x 90..134.641, y 10..47.321 (Label Studio writes the unturned box 0.6 0.2 0.2 0.2)
                rect(50, 10, 20, 20, "Person", rotation=30, rid="b"),
            ],
            id=1,
        ),
    )
    z = export_zip("YOLO", [t], BOXES)
    assert z.namelist() == [
        "images/",
        "labels/",
        "labels/dog.txt",
        "classes.txt",
        "notes.json",
        "data.yaml",
        "images.txt",
        "image_sources.tsv",
    ]
    assert z.getinfo("images/").is_dir() and z.getinfo("labels/").is_dir()
    assert label_lines(z, "dog") == [
        f"0 {BOX_LINE}",
        "1 0.561603 0.286603 0.223205 0.373205",
    ]
    assert z.read("classes.txt") == b"Car\nPerson\n"
    assert z.read("notes.json").decode() == (
        "{\n"
        '  "categories": [\n'
        "    {\n"
        '      "id": 0,\n'
        '      "name": "Car"\n'
        "    },\n"
        "    {\n"
        '      "id": 1,\n'
        '      "name": "Person"\n'
        "    }\n"
        "  ],\n"
        '  "info": {\n'
        '    "version": "1.0",\n'
        '    "contributor": "labelops"\n'
        "  }\n"
        "}"
    )


def test_yolo_of_a_polygon_config_writes_point_lists_and_boxes_as_corners() -> None:
    # triangle (10%, 10%) (50%, 10%) (30%, 60%) -> 0.1 0.1 0.5 0.1 0.3 0.6, as Label Studio
    road = polygon([[10, 10], [50, 10], [30, 60]], "Road")
    only_polygons = export_zip("YOLO", [task({"image": "r.png"}, ann([road], id=1))], POLYGONS)
    assert label_lines(only_polygons, "r") == [
        "0 0.100000 0.100000 0.500000 0.100000 0.300000 0.600000"
    ]
    # with boxes too, a box is its 4 corners: a file mixing 5-value box lines with point
    # lines is misread by Ultralytics (it reads every line of such a file as points)
    t = task({"image": "m.png"}, ann([rect(10, 20, 30, 40, "Car"), road], id=1))
    assert label_lines(export_zip("YOLO", [t], BOXES_AND_POLYGONS), "m") == [
        f"0 {BOX_CORNERS}",
        "1 0.100000 0.100000 0.500000 0.100000 0.300000 0.600000",
    ]


def test_yolo_of_a_keypoint_config_writes_the_pose_layout_in_model_index_order() -> None:
    t = task(
        {"image": "/data/person.png"},
        ann(
            [
                rect(10, 20, 30, 40, "person", rid="b1", name="box"),
                # nose (20%, 30%) -> 0.2 0.3, linked by parentID
                keypoint(20, 30, "nose", parent="b1"),
                # eye (25%, 35%) -> 0.25 0.35, no parentID: inside box b1 (Label Studio drops it)
                keypoint(25, 35, "eye"),
            ],
            id=1,
        ),
    )
    yolo = export_zip("YOLO", [t], POSE)
    line = f"0 {BOX_LINE} 0.250000 0.350000 2 0.200000 0.300000 2"
    assert label_lines(yolo, "person") == [line]
    assert json.loads(yolo.read("notes.json"))["categories"] == [
        {"id": 0, "name": "person", "keypoints": ["eye", "nose"]}
    ]
    assert "kpt_shape: [2, 3]" in yolo.read("data.yaml").decode()
    # the explicit variant writes the same file
    assert label_lines(export_zip("YOLO_POSE", [t], POSE), "person") == [line]


def test_a_keypoint_config_without_boxes_offers_no_yolo_as_label_studio() -> None:
    names = {f.name for f in supported_export_formats(KEYPOINTS_AND_POLYGONS)}
    assert "YOLO" not in names and "YOLO_POSE" not in names
    assert {"YOLO_OBB", "YOLO_SEG"} <= names


def test_yolo_obb_writes_polygon_configs_and_boxes_without_a_rotation_key() -> None:
    assert "YOLO_OBB" in {f.name for f in supported_export_formats(POLYGONS)}
    box = rect(10, 20, 30, 40, "Car")
    del box["value"]["rotation"]  # Label Studio's YOLO_OBB leaves such a box out
    road = polygon([[10, 10], [50, 10], [30, 60]], "Road")
    z = export_zip(
        "YOLO_OBB", [task({"image": "o.png"}, ann([box, road], id=1))], BOXES_AND_POLYGONS
    )
    assert label_lines(z, "o") == [
        f"0 {BOX_CORNERS}",
        "1 0.100000 0.100000 0.500000 0.100000 0.300000 0.600000",
    ]
    assert z.read("classes.txt") == b"Car\nRoad\n"


@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("YOLO_WITH_IMAGES", "YOLO"),
        ("YOLO_OBB_WITH_IMAGES", "YOLO_OBB"),
        ("COCO_WITH_IMAGES", "COCO"),
    ],
)
def test_label_studios_with_images_names_are_the_format_with_its_images(
    name: str, base: str
) -> None:
    fmt = get_export_format(name)
    assert fmt.includes_images and not get_export_format(base).includes_images
    assert name in {f.name for f in supported_export_formats(BOXES)}
    t = task({"image": "s3://b/photos/dog.jpg"}, ann([rect(10, 20, 30, 40, "Car")], id=1))
    with_images = export_zip(name, [t], BOXES, media=lambda url: b"JPEG " + url.encode())
    assert with_images.read("images/dog.jpg") == b"JPEG s3://b/photos/dog.jpg"
    same = export_zip(base, [t], BOXES, media=lambda url: b"JPEG " + url.encode())
    assert with_images.namelist() == same.namelist()
    for member in same.namelist():
        assert with_images.read(member) == same.read(member)


def read_yolo(data: bytes, cfg: Any, sizes: dict[str, tuple[int, int]]) -> list[Any]:
    fmt = get_import_format("YOLO")
    return list(fmt.read(io.BytesIO(data), cfg, source_name="y.zip", image_sizes=sizes))


def stream(name: str, tasks: list[Any], cfg: Any) -> bytes:
    return b"".join(get_export_format(name).stream(iter(tasks), cfg, ExportOptions()))


def test_yolo_point_lines_import_back_as_polygons_and_turned_boxes() -> None:
    road = polygon([[10, 10], [50, 10], [30, 60]], "Road")
    turned = rect(50, 10, 20, 20, "Car", rotation=30, rid="t")
    data = stream("YOLO", [task({"image": "m.png"}, ann([turned, road], id=1))], BOXES_AND_POLYGONS)
    (t,) = read_yolo(data, BOXES_AND_POLYGONS, {"m.png": (200, 100)})
    box, poly = t.annotations[0].result
    assert box["type"] == "rectanglelabels" and box["value"]["rectanglelabels"] == ["Car"]
    got = [box["value"][k] for k in ("x", "y", "width", "height", "rotation")]
    assert got == pytest.approx([50, 10, 20, 20, 30], abs=1e-3)
    assert poly["type"] == "polygonlabels" and poly["value"]["polygonlabels"] == ["Road"]
    flat = [c for point in poly["value"]["points"] for c in point]
    assert flat == pytest.approx([10, 10, 50, 10, 30, 60], abs=1e-4)


def test_yolo_pose_lines_import_back_with_keypoints_on_their_box() -> None:
    t = task(
        {"image": "p.png"},
        ann(
            [
                rect(10, 20, 30, 40, "person", rid="b1", name="box"),
                keypoint(20, 30, "nose", parent="b1"),
                keypoint(25, 35, "eye", parent="b1"),
            ],
            id=1,
        ),
    )
    (back,) = read_yolo(stream("YOLO", [t], POSE), POSE, {"p.png": (200, 100)})
    box, *points = back.annotations[0].result
    assert [box["value"][k] for k in ("x", "y", "width", "height")] == pytest.approx(
        [10, 20, 30, 40]
    )
    # notes.json gives the column order: eye, then nose
    assert [(p["value"]["keypointlabels"], p["parentID"]) for p in points] == [
        (["eye"], box["id"]),
        (["nose"], box["id"]),
    ]
    coords = [c for p in points for c in (p["value"]["x"], p["value"]["y"])]
    assert coords == pytest.approx([25, 35, 20, 30])


def test_yolo_obb_of_a_keypoint_config_writes_oriented_boxes() -> None:
    t = task(
        {"image": "k.png"},
        ann([rect(10, 20, 30, 40, "person", rid="b1", name="box"), keypoint(20, 30, "nose", "b1")]),
    )
    assert label_lines(export_zip("YOLO_OBB", [t], POSE), "k") == [f"0 {BOX_CORNERS}"]


def test_keypoint_columns_without_a_whole_model_index_follow_the_config() -> None:
    cfg = config(
        """<View><Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="person"/></RectangleLabels>
  <KeyPointLabels name="kp" toName="image">
    <Label value="nose" model_index="x"/><Label value="eye"/><Label value="ear" model_index="0"/>
  </KeyPointLabels></View>"""
    )
    notes = json.loads(export_zip("YOLO", [], cfg).read("notes.json"))
    # ear has index 0; nose (not a whole number) and eye (none) follow in config order
    assert notes["categories"][0]["keypoints"] == ["ear", "nose", "eye"]
