import io
import json
import math
import xml.etree.ElementTree as ET
import zipfile

import pytest

from labelops.domain.formats.options import ExportOptions
from labelops.domain.formats.registry import get_export_format, supported_export_formats
from tests.domain.formats.helpers import IMAGE_BOXES, IMAGE_POSE, TEXT_NER, ann, at, rect, task

# Image 200 x 100 px (non-square). Box r2: x=50% -> 100 px, y=10% -> 10 px, w=20% -> 40 px,
# h=20% -> 20 px, rotated 30 degrees around its top-left corner. Corners in pixels:
# (100, 10), (134.641, 30), (124.641, 47.321), (90, 27.321) -> AABB x 90..134.641, y 10..47.321.
ROT_BBOX = [
    90.0,
    10.0,
    40 * math.cos(math.pi / 6) + 20 * 0.5,
    40 * 0.5 + 20 * math.cos(math.pi / 6),
]

POLY = {
    "id": "p",
    "from_name": "poly",
    "to_name": "image",
    "type": "polygonlabels",
    "original_width": 200,
    "original_height": 100,
    # triangle (0,0) (100,0) (100,50) in pixels: area 2500
    "value": {"points": [[0, 0], [50, 0], [50, 50]], "polygonlabels": ["Road"]},
}

TASKS = [
    task(
        {"image": "s3://b/a/cat.jpg"},
        ann([rect(1, 2, 3, 4, "Car")], id=9, created_at=at(1)),  # older: not exported
        ann(
            [
                # multi-label box: x 20..80 px, y 20..60 px
                rect(10, 20, 30, 40, "Car", "Person", rid="r1"),
                rect(50, 10, 20, 20, "Bike", rotation=30, rid="r2"),
            ],
            id=1,
            created_at=at(2),
        ),
        id=1,
    ),
    # same file name in another folder
    task({"image": "s3://b/b/cat.jpg"}, ann([POLY], id=2), id=2),
    # no annotations
    task({"image": "s3://b/c/empty.jpg"}, id=3),
]


def export_zip(name: str, tasks=TASKS, cfg=IMAGE_BOXES) -> zipfile.ZipFile:
    data = b"".join(get_export_format(name).stream(iter(tasks), cfg, ExportOptions()))
    return zipfile.ZipFile(io.BytesIO(data))


def coco(tasks=TASKS, cfg=IMAGE_BOXES) -> dict:
    return json.loads(export_zip("COCO", tasks, cfg).read("result.json"))


def test_coco_categories_in_config_order_from_zero() -> None:
    assert [(c["id"], c["name"]) for c in coco()["categories"]] == [
        (0, "Car"),
        (1, "Person"),
        (2, "Bike"),
        (3, "Road"),
    ]


def test_coco_category_attribute_sets_the_id() -> None:
    from tests.domain.formats.helpers import config

    cfg = config(
        """<View><Image name="image" value="$image"/><RectangleLabels name="label" toName="image">
        <Label value="Car" category="7"/><Label value="Person"/></RectangleLabels></View>"""
    )
    assert [(c["id"], c["name"]) for c in coco(cfg=cfg)["categories"]] == [
        (1, "Person"),
        (7, "Car"),
    ]


def test_coco_images_have_unique_file_names_and_sizes() -> None:
    images = coco()["images"]
    assert [(i["id"], i["file_name"], i["width"], i["height"]) for i in images] == [
        (0, "images/cat.jpg", 200, 100),
        (1, "images/b_cat.jpg", 200, 100),
        (2, "images/empty.jpg", None, None),
    ]


def test_coco_annotations_read_back_with_consistent_ids_bboxes_and_areas() -> None:
    doc = coco()
    anns = doc["annotations"]
    image_ids = {i["id"] for i in doc["images"]}
    category_ids = {c["id"] for c in doc["categories"]}
    assert [a["id"] for a in anns] == list(range(len(anns)))
    assert all(a["image_id"] in image_ids and a["category_id"] in category_ids for a in anns)
    # multi-label box -> two annotations with the same pixel bbox
    assert [(a["category_id"], a["bbox"], a["area"]) for a in anns[:2]] == [
        (0, [20.0, 20.0, 60.0, 40.0], 2400.0),
        (1, [20.0, 20.0, 60.0, 40.0], 2400.0),
    ]
    rotated = anns[2]
    assert rotated["bbox"] == pytest.approx(ROT_BBOX)
    assert rotated["area"] == pytest.approx(800.0)  # 40 x 20 px, rotation keeps the area
    assert len(rotated["segmentation"][0]) == 8
    polygon = anns[3]
    assert (polygon["image_id"], polygon["category_id"]) == (1, 3)
    assert polygon["bbox"] == [0.0, 0.0, 100.0, 50.0]
    assert polygon["area"] == pytest.approx(2500.0)
    for a in anns:  # every area fits in its bbox
        assert a["area"] <= a["bbox"][2] * a["bbox"][3] + 1e-9


def kp(x: float, y: float, label: str, parent: str | None = None) -> dict:
    item = {
        "id": f"k{x}-{y}",
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


# two people: box A x 0..40% y 0..80%, box B x 50..90% y 10..90%; keypoints by containment
# for A and by parentID for B (its nose lies inside both boxes' overlap? no: 55% is only in B)
POSE_TASK = task(
    {"image": "/data/pose.png"},
    ann(
        [
            rect(0, 0, 40, 80, "person", rid="A", name="box"),
            rect(50, 10, 40, 80, "person", rid="B", name="box"),
            kp(10.5, 20.25, "nose"),
            kp(12, 15, "left_eye"),
            kp(55, 30, "nose", parent="B"),
            kp(60, 25, "right_eye", parent="B"),
        ],
        id=1,
    ),
    id=1,
)


def test_coco_keypoints_linked_to_their_box_as_floats() -> None:
    doc = coco([POSE_TASK], IMAGE_POSE)
    assert doc["categories"] == [
        {
            "id": 0,
            "name": "person",
            "supercategory": "",
            "keypoints": ["nose", "left_eye", "right_eye"],
            "skeleton": [],
        }
    ]
    a, b = doc["annotations"]
    # nose at 10.5% of 200 = 21.0 px, 20.25% of 100 = 20.25 px (float kept)
    assert a["keypoints"] == [21.0, 20.25, 2, 24.0, 15.0, 2, 0, 0, 0]
    assert a["num_keypoints"] == 2
    assert b["keypoints"] == [110.0, 30.0, 2, 0, 0, 0, 120.0, 25.0, 2]
    assert b["num_keypoints"] == 2


def test_yolo_pose_lines() -> None:
    z = export_zip("YOLO_POSE", [POSE_TASK], IMAGE_POSE)
    a, b = z.read("labels/pose.txt").decode().splitlines()
    assert a == (
        "0 0.200000 0.400000 0.400000 0.800000 "
        "0.105000 0.202500 2 0.120000 0.150000 2 0.000000 0.000000 0"
    )
    assert b.split()[:5] == ["0", "0.700000", "0.500000", "0.400000", "0.800000"]
    assert "kpt_shape: [3, 3]" in z.read("data.yaml").decode()


def test_voc_rounds_and_writes_rotated_boxes_as_pixel_aabb() -> None:
    z = export_zip("VOC")
    assert z.namelist() == [
        "Annotations/cat.xml",
        "Annotations/b_cat.xml",
        "Annotations/empty.xml",
        "image_sources.tsv",
    ]
    root = ET.fromstring(z.read("Annotations/cat.xml"))
    boxes = [
        (
            o.findtext("name"),
            *(int(o.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax")),
        )
        for o in root.iter("object")
    ]
    # rotated: 134.64 -> 135, 47.32 -> 47 (rounded, not truncated)
    assert boxes == [("Car", 20, 20, 80, 60), ("Person", 20, 20, 80, 60), ("Bike", 90, 10, 135, 47)]


@pytest.mark.parametrize(
    ("x", "w", "expected"),
    [
        # 0.2% of 200 px = 0.4 px wide box at 10.0 px: never zero-size
        (5.0, 0.2, (10, 11)),
        # 99.9%..100%: at the right edge, still 1 px inside the image
        (99.9, 0.1, (199, 200)),
        # 10.3 px .. 30.7 px rounds to 10..31
        (5.15, 10.2, (10, 31)),
    ],
)
def test_voc_boxes_are_rounded_and_at_least_one_pixel(x: float, w: float, expected) -> None:
    t = task({"image": "x.jpg"}, ann([rect(x, 10, w, 10, "Car")], id=1))
    root = ET.fromstring(export_zip("VOC", [t]).read("Annotations/x.xml"))
    obj = root.find("object")
    assert (int(obj.findtext("bndbox/xmin")), int(obj.findtext("bndbox/xmax"))) == expected


def test_yolo_zip_lists_labels_classes_yaml_and_images() -> None:
    # IMAGE_BOXES has polygons: YOLO writes every region as points, boxes as their 4 corners
    z = export_zip("YOLO")
    assert z.namelist() == [
        "images/",
        "labels/",
        "labels/cat.txt",
        "labels/b_cat.txt",
        "labels/empty.txt",
        "classes.txt",
        "notes.json",
        "data.yaml",
        "images.txt",
        "image_sources.tsv",
    ]
    assert z.read("classes.txt").decode().splitlines() == ["Car", "Person", "Bike", "Road"]
    assert "nc: 4" in z.read("data.yaml").decode()
    # paths relative to images.txt (as Ultralytics reads them), not the images' URLs
    assert z.read("images.txt").decode().splitlines() == [
        "./images/cat.jpg",
        "./images/b_cat.jpg",
        "./images/empty.jpg",
    ]
    assert z.read("image_sources.tsv").decode().splitlines() == [
        "path\tsource\tincluded",
        "images/cat.jpg\ts3://b/a/cat.jpg\tno",
        "images/b_cat.jpg\ts3://b/b/cat.jpg\tno",
        "images/empty.jpg\ts3://b/c/empty.jpg\tno",
    ]
    # box r1: x 20..80 px, y 20..60 px of 200 x 100 -> corners (0.1, 0.2) (0.4, 0.2) ...
    assert z.read("labels/cat.txt").decode().splitlines() == [
        "0 0.100000 0.200000 0.400000 0.200000 0.400000 0.600000 0.100000 0.600000",
        "1 0.100000 0.200000 0.400000 0.200000 0.400000 0.600000 0.100000 0.600000",
        "2 0.500000 0.100000 0.673205 0.300000 0.623205 0.473205 0.450000 0.273205",
    ]
    assert z.read("labels/b_cat.txt").decode() == (
        "3 0.000000 0.000000 0.500000 0.000000 0.500000 0.500000\n"
    )
    assert z.read("labels/empty.txt") == b""


def test_yolo_class_indices_equal_coco_category_ids() -> None:
    names = export_zip("YOLO").read("classes.txt").decode().splitlines()
    assert {c["name"]: c["id"] for c in coco()["categories"]} == {n: i for i, n in enumerate(names)}


def test_yolo_obb_corners_are_rotated_in_pixel_space() -> None:
    lines = export_zip("YOLO_OBB").read("labels/cat.txt").decode().splitlines()
    assert lines[2] == "2 0.500000 0.100000 0.673205 0.300000 0.623205 0.473205 0.450000 0.273205"


def test_yolo_seg_polygons_normalized() -> None:
    z = export_zip("YOLO_SEG")
    assert z.read("labels/b_cat.txt").decode() == (
        "3 0.000000 0.000000 0.500000 0.000000 0.500000 0.500000\n"
    )


@pytest.mark.parametrize("name", ["COCO", "VOC", "YOLO", "YOLO_OBB", "YOLO_SEG"])
def test_exporting_twice_gives_identical_bytes(name: str) -> None:
    fmt = get_export_format(name)
    first = b"".join(fmt.stream(iter(TASKS), IMAGE_BOXES, ExportOptions()))
    second = b"".join(fmt.stream(iter(TASKS), IMAGE_BOXES, ExportOptions()))
    assert first == second


def test_no_state_leaks_between_exports() -> None:
    # a first export takes "cat.jpg"; a second export of only the b/ image gets it back
    fmt = get_export_format("COCO")
    b"".join(fmt.stream(iter(TASKS), IMAGE_BOXES, ExportOptions()))
    data = b"".join(fmt.stream(iter(TASKS[1:2]), IMAGE_BOXES, ExportOptions()))
    doc = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("result.json"))
    assert doc["images"][0]["file_name"] == "images/cat.jpg"
    assert doc["annotations"][0]["id"] == 0


def test_image_project_offers_vision_formats() -> None:
    names = {f.name for f in supported_export_formats(IMAGE_BOXES)}
    assert {"COCO", "VOC", "YOLO", "YOLO_OBB", "YOLO_SEG", "PARQUET", "HF_DATASET"} <= names
    assert "YOLO_POSE" not in names and "CONLL2003" not in names
    assert "YOLO_POSE" in {f.name for f in supported_export_formats(IMAGE_POSE)}
    assert "COCO" not in {f.name for f in supported_export_formats(TEXT_NER)}


@pytest.mark.parametrize("name", ["COCO", "VOC", "YOLO", "YOLO_OBB"])
def test_vision_exports_include_the_images_at_the_paths_they_name(name: str) -> None:
    stored = {"s3://b/a/cat.jpg": b"cat-a", "s3://b/b/cat.jpg": b"cat-b"}  # empty.jpg unreadable
    options = ExportOptions(media=stored.get)
    z = zipfile.ZipFile(
        io.BytesIO(b"".join(get_export_format(name).stream(iter(TASKS), IMAGE_BOXES, options)))
    )
    if name == "COCO":
        paths = [i["file_name"] for i in json.loads(z.read("result.json"))["images"]]
    elif name == "VOC":
        paths = []
        for member in sorted(m for m in z.namelist() if m.startswith("Annotations/")):
            root = ET.fromstring(z.read(member))
            paths.append(f"{root.findtext('folder')}/{root.findtext('filename')}")
    else:
        paths = [p.removeprefix("./") for p in z.read("images.txt").decode().splitlines()]
    included = [p for p in paths if p in z.namelist()]
    assert sorted(z.read(p) for p in included) == [b"cat-a", b"cat-b"]
    # the image that could not be read is listed as left out, and nothing else is missing
    assert "images/empty.jpg\ts3://b/c/empty.jpg\tno" in z.read("image_sources.tsv").decode()
    assert set(paths) - set(included) == {"images/empty.jpg"}


def test_an_image_named_dot_dot_stays_inside_the_zip() -> None:
    t = task({"image": "s3://b/x/.."}, ann([rect(1, 1, 2, 2, "Car")], id=1))
    options = ExportOptions(media=lambda url: b"x")
    z = zipfile.ZipFile(
        io.BytesIO(b"".join(get_export_format("YOLO").stream(iter([t]), IMAGE_BOXES, options)))
    )
    assert "images/image" in z.namelist()
    assert not any(".." in name.split("/") for name in z.namelist())
