"""Brush masks in exports: COCO's uncompressed RLE, PNG and NumPy masks per region."""

import io
import json
import zipfile

import numpy as np
from PIL import Image

from labelops.domain.formats.brush import coco_rle, png_gray
from labelops.domain.formats.options import ExportOptions
from labelops.domain.formats.registry import get_export_format, supported_export_formats
from labelops.domain.label_config import parse_label_config
from tests.domain.formats.helpers import ann, brush, task

CONFIG = parse_label_config(
    """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="Car"/></RectangleLabels>
  <BrushLabels name="tag" toName="image"><Label value="Road"/><Label value="a/b"/></BrushLabels>
</View>"""
)
W, H = 8, 5


def _mask(rows: slice, cols: slice) -> np.ndarray:
    mask = np.zeros((H, W), dtype=np.uint8)
    mask[rows, cols] = 1
    return mask


ROAD = _mask(slice(1, 3), slice(2, 6))  # 2 rows x 4 columns = 8 px
SLASH = _mask(slice(4, 5), slice(0, 1))
TASKS = [
    task(
        {"image": "s3://bucket/scene.jpg"},
        ann(
            [
                brush(ROAD, "Road", rid="b1"),
                brush(SLASH, "a/b", rid="b2"),
                brush(ROAD, "Road", rid="b3"),
                # not a mask at all: left out of every export
                {**brush(ROAD, "Road", rid="bad"), "original_width": W + 1},
            ],
            id=7,
            completed_by=3,
            completed_by_email="ann@example.com",
        ),
        id=4,
    )
]


def _zip(name: str) -> zipfile.ZipFile:
    data = b"".join(get_export_format(name).stream(TASKS, CONFIG, ExportOptions()))
    return zipfile.ZipFile(io.BytesIO(data))


def _coco_decode(segmentation: dict) -> np.ndarray:
    height, width = segmentation["size"]
    flat = np.zeros(height * width, dtype=np.uint8)
    position, value = 0, 0
    for count in segmentation["counts"]:
        flat[position : position + count] = value
        position += count
        value = 1 - value
    assert position == height * width
    return flat.reshape((height, width), order="F")


def test_brush_configs_offer_coco_png_and_numpy():
    names = {fmt.name for fmt in supported_export_formats(CONFIG)}
    assert {"COCO", "BRUSH_TO_PNG", "BRUSH_TO_NUMPY"} <= names
    boxes_only = parse_label_config(
        '<View><Image name="i" value="$i"/>'
        '<RectangleLabels name="b" toName="i"><Label value="x"/></RectangleLabels></View>'
    )
    assert "BRUSH_TO_PNG" not in {fmt.name for fmt in supported_export_formats(boxes_only)}


def test_coco_rle_is_column_major_and_starts_with_zeros():
    mask = np.array([[1, 0], [1, 1]], dtype=np.uint8)
    assert coco_rle(mask) == {"counts": [0, 2, 1, 1], "size": [2, 2]}
    assert coco_rle(np.zeros((2, 3))) == {"counts": [6], "size": [2, 3]}


def test_coco_writes_brush_regions_as_rle_segmentation():
    coco = json.loads(_zip("COCO").read("result.json"))
    names = {c["id"]: c["name"] for c in coco["categories"]}
    assert set(names.values()) == {"Car", "Road", "a/b"}
    brush = [a for a in coco["annotations"] if isinstance(a["segmentation"], dict)]
    assert [names[a["category_id"]] for a in brush] == ["Road", "a/b", "Road"]
    road = brush[0]
    assert road["bbox"] == [2, 1, 4, 2]
    assert road["area"] == 8
    assert road["iscrowd"] == 0
    assert (_coco_decode(road["segmentation"]) == ROAD).all()
    assert [a["id"] for a in coco["annotations"]] == list(range(len(coco["annotations"])))


def test_png_export_has_one_grayscale_mask_per_region_named_as_label_studio_does():
    archive = _zip("BRUSH_TO_PNG")
    prefix = "task-4-annotation-7-by-ann@example.com-tag"
    assert archive.namelist() == [
        f"{prefix}-Road-0.png",
        f"{prefix}-ab-0.png",
        f"{prefix}-Road-1.png",
    ]
    image = Image.open(io.BytesIO(archive.read(f"{prefix}-Road-0.png")))
    assert image.mode == "L" and image.size == (W, H)
    assert (np.array(image) == ROAD * 255).all()


def test_numpy_export_holds_the_same_masks():
    archive = _zip("BRUSH_TO_NUMPY")
    name = "task-4-annotation-7-by-ann@example.com-tag-ab-0.npy"
    array = np.load(io.BytesIO(archive.read(name)))
    assert array.dtype == np.uint8 and (array == SLASH * 255).all()


def test_png_writer_round_trips_through_pillow():
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, size=(33, 47), dtype=np.uint8)
    assert (np.array(Image.open(io.BytesIO(png_gray(pixels)))) == pixels).all()
