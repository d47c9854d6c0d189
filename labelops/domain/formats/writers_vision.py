"""Computer-vision exports: COCO, Pascal VOC and the YOLO family (detection, OBB, seg, pose).

All are zip archives written member by member. Each image is one task, labeled by the task's first
selected annotation (the newest one, or the consensus under ``annotations="consensus"``).

Where we differ from Label Studio's converter:
    * Rotated boxes are rotated in pixels, not in percent (see ``geometry``); the COCO/VOC/YOLO box
      of a rotated rectangle is the axis-aligned box of its rotated corners. COCO also keeps the
      rotated corners as the annotation's ``segmentation`` polygon.
    * Category ids follow the labeling config order (or ``category=``) and are the same in COCO
      and YOLO; Label Studio sorts labels by name and ignores ``category`` in COCO.
    * A box with two labels gives one annotation (COCO), object (VOC) or line (YOLO) per label.
    * Two images with the same file name in different folders get distinct names; Label Studio
      lets the second overwrite the first.
    * One image entry per task: Label Studio writes one COCO image per annotation and lets later
      annotations overwrite earlier YOLO/VOC files.
    * VOC coordinates are rounded, and a box is at least 1 pixel wide and high.
    * COCO keypoints keep their float pixel coordinates.
    * A region whose image size is unknown (no ``original_width``/``original_height``) is left
      out, since its pixels cannot be computed.
    * Image paths are relative paths inside the zip, never the app's URLs (which need a login):
      COCO's ``file_name`` is ``images/<name>``, VOC's ``folder``/``filename`` name the same file,
      and YOLO's ``images.txt`` lists ``./images/<name>`` (relative to the file, as Ultralytics
      reads it; labels are in ``labels/``). With ``include_images`` (``ExportOptions.media``) the
      images are in the zip at those paths; ``image_sources.tsv`` maps each path to the task's
      own URL and says whether it was included (an image that could not be read is listed, not
      fatal).
"""

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from labelops.domain.formats.base import (
    ExportFormat,
    LabelConfig,
    ZipStream,
    control_tags,
    data_fields,
    first_data_field,
    has_control_on,
)
from labelops.domain.formats.brush import brush_categories, coco_brush_annotations, first_result
from labelops.domain.formats.geometry import clip, shoelace_area
from labelops.domain.formats.options import ExportOptions, select_annotations
from labelops.domain.formats.regions import (
    Categories,
    FileNames,
    Region,
    categories,
    image_size,
    iter_labeled,
    regions,
)
from labelops.domain.records import Task


@dataclass
class ImageItem:
    """One task's image with its regions, ready to write."""

    task: Task
    url: str
    file_name: str
    size: tuple[int, int] | None
    regions: list[Region]


def image_items(
    tasks: Iterable[Task], config: LabelConfig, options: ExportOptions
) -> Iterator[ImageItem]:
    """Yields each exported task's image, unique file name, size and pixel regions."""
    field = first_data_field(config, "image")
    names = FileNames()
    for task in tasks:
        url = str(task.data.get(field, "")) if field else ""
        selected = select_annotations(task, options)
        if not url or (not selected and not options.download_all_tasks):
            continue
        result = selected[0].result if selected else []
        size = image_size(result)
        found = regions(result, size) if size is not None else []
        yield ImageItem(task, url, names(url), size, found)


class _VisionFormat(ExportFormat):
    media_type = "application/zip"
    extension = ".zip"
    needs: frozenset[str] = frozenset({"rectanglelabels", "polygonlabels"})

    carries_images = True

    def is_supported(self, config: LabelConfig) -> bool:
        """Returns whether one image is labeled by a control this format writes."""
        return len(data_fields(config)) <= 1 and has_control_on(config, set(self.needs), "image")


IMAGES = "images"
SOURCES = "image_sources.tsv"


def image_path(item: ImageItem) -> str:
    """Returns the image's path inside the zip."""
    return f"{IMAGES}/{item.file_name}"


class ImageFiles:
    """The images of one export: written into its zip when the options read media, and listed."""

    def __init__(self, archive: ZipStream, options: ExportOptions) -> None:
        self._archive = archive
        self._read = options.media
        self._rows: list[str] = []

    def add(self, item: ImageItem) -> bytes:
        """Returns the zip bytes of the item's image (none when images are not included)."""
        data = self._read(item.url) if self._read is not None else None
        included = "yes" if data is not None else "no"
        self._rows.append(f"{image_path(item)}\t{_tsv(item.url)}\t{included}\n")
        return self._archive.add(image_path(item), data) if data is not None else b""

    def close(self) -> bytes:
        """Returns the zip bytes of ``image_sources.tsv``."""
        return self._archive.add(
            SOURCES, ("path\tsource\tincluded\n" + "".join(self._rows)).encode()
        )


def _tsv(value: str) -> str:
    return value.replace("\t", " ").replace("\n", " ").replace("\r", " ")


def _fmt(value: float) -> str:
    return f"{value:.6f}"


class CocoFormat(_VisionFormat):
    """COCO detection/segmentation/keypoints JSON in a zip (``result.json``)."""

    name = "COCO"
    title = "COCO"
    description = "COCO JSON: boxes, polygons and brush masks (segmentation), keypoints, in pixels."
    needs = frozenset({"rectanglelabels", "polygonlabels", "brushlabels"})

    def stream(
        self, tasks: Iterable[Task], config: LabelConfig, options: ExportOptions
    ) -> Iterator[bytes]:
        """Yields a zip holding ``result.json`` (and the images, when included)."""
        archive = ZipStream()
        files = ImageFiles(archive, options)
        cats = brush_categories(categories(config), config)
        images: list[bytes] = []
        annotations: list[bytes] = []
        for image_id, item in enumerate(image_items(tasks, config, options)):
            yield files.add(item)
            width, height = item.size or (None, None)
            image = {
                "id": image_id,
                "file_name": image_path(item),
                "width": width,
                "height": height,
            }
            images.append(json.dumps(image).encode())
            for category_id, _, region in iter_labeled(item.regions, cats.ids):
                coco = _coco_annotation(region, category_id, image_id, len(annotations), cats)
                annotations.append(json.dumps(coco).encode())
            result = first_result(item.task, options)
            for coco in coco_brush_annotations(result, cats, image_id, len(annotations)):
                annotations.append(json.dumps(coco).encode())
        yield from archive.add_stream("result.json", _coco_json(cats, images, annotations))
        yield files.close()
        yield archive.close()


def _coco_json(cats: Categories, images: list[bytes], annotations: list[bytes]) -> Iterator[bytes]:
    yield b'{"info": {"description": "labelops export", "version": "1.0"},\n"categories": '
    yield json.dumps(_coco_categories(cats), ensure_ascii=False).encode()
    yield b',\n"images": ['
    for index, data in enumerate(images):
        yield (b"\n" if index == 0 else b",\n") + data
    yield b'\n],\n"annotations": ['
    for index, data in enumerate(annotations):
        yield (b"\n" if index == 0 else b",\n") + data
    yield b"\n]}\n"


def _coco_categories(cats: Categories) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for category_id, name in cats.names().items():
        entry: dict[str, object] = {"id": category_id, "name": name, "supercategory": ""}
        if cats.keypoints:
            entry["keypoints"] = list(cats.keypoints)
            entry["skeleton"] = []
        out.append(entry)
    return out


def _coco_annotation(
    region: Region, category_id: int, image_id: int, index: int, cats: Categories
) -> dict[str, object]:
    box = region.box
    flat = [c for point in region.points for c in point]
    if region.kind == "polygon":
        area = shoelace_area(region.points)
        segmentation = [flat]
    else:
        (x0, y0), (x1, y1), _, (x3, y3) = region.points
        area = math.hypot(x1 - x0, y1 - y0) * math.hypot(x3 - x0, y3 - y0)
        segmentation = [flat] if region.rotation else []
    out: dict[str, object] = {
        "id": index,
        "image_id": image_id,
        "category_id": category_id,
        "segmentation": segmentation,
        "bbox": [box.x_min, box.y_min, box.width, box.height],
        "area": area,
        "iscrowd": 0,
        "ignore": 0,
    }
    if cats.keypoints:
        keypoints: list[float] = []
        for name in cats.keypoints:
            point = region.keypoints.get(name)
            keypoints.extend([point[0], point[1], 2] if point else [0, 0, 0])
        out["keypoints"] = keypoints
        out["num_keypoints"] = sum(1 for name in cats.keypoints if name in region.keypoints)
    return out


class VocFormat(_VisionFormat):
    """Pascal VOC: one XML file per image in a zip (``Annotations/<name>.xml``)."""

    name = "VOC"
    title = "Pascal VOC XML"
    description = "One Pascal VOC XML per image with boxes in whole pixels."
    needs = frozenset({"rectanglelabels"})

    def stream(
        self, tasks: Iterable[Task], config: LabelConfig, options: ExportOptions
    ) -> Iterator[bytes]:
        """Yields a zip of XML files."""
        archive = ZipStream()
        files = ImageFiles(archive, options)
        labels = {name: 0 for name in categories(config).ids}
        for item in image_items(tasks, config, options):
            yield files.add(item)
            yield archive.add(f"Annotations/{_stem(item)}.xml", _voc_xml(item, labels))
        yield files.close()
        yield archive.close()


def _stem(item: ImageItem) -> str:
    return item.file_name.rsplit(".", 1)[0] if "." in item.file_name else item.file_name


def _voc_xml(item: ImageItem, labels: dict[str, int]) -> bytes:
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = IMAGES
    ET.SubElement(root, "filename").text = item.file_name
    ET.SubElement(ET.SubElement(root, "source"), "database").text = "labelops"
    size = ET.SubElement(root, "size")
    width, height = item.size or (0, 0)
    ET.SubElement(size, "width").text = str(width)
    ET.SubElement(size, "height").text = str(height)
    ET.SubElement(size, "depth").text = "3"
    ET.SubElement(root, "segmented").text = "0"
    for _, label, region in iter_labeled(item.regions, labels):
        if region.kind != "rectangle":
            continue
        x_min, y_min, x_max, y_max = voc_box(region, width, height)
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = label
        ET.SubElement(obj, "pose").text = "Unspecified"
        ET.SubElement(obj, "truncated").text = "0"
        ET.SubElement(obj, "difficult").text = "0"
        bndbox = ET.SubElement(obj, "bndbox")
        for tag, value in zip(
            ("xmin", "ymin", "xmax", "ymax"), (x_min, y_min, x_max, y_max), strict=True
        ):
            ET.SubElement(bndbox, tag).text = str(value)
    ET.indent(root)
    xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml + b"\n"


def voc_box(region: Region, width: int, height: int) -> tuple[int, int, int, int]:
    """Returns the rounded pixel box, inside the image and at least 1 px wide and high."""
    box = clip(region.box, width, height)
    x_min, y_min = round(box.x_min), round(box.y_min)
    x_max, y_max = max(round(box.x_max), x_min + 1), max(round(box.y_max), y_min + 1)
    if x_max > width:
        x_min, x_max = max(width - 1, 0), width
    if y_max > height:
        y_min, y_max = max(height - 1, 0), height
    return x_min, y_min, x_max, y_max


class YoloFormat(_VisionFormat):
    """YOLO detection: ``labels/<stem>.txt`` with ``class cx cy w h`` normalized, in a zip."""

    name = "YOLO"
    title = "YOLO"
    description = "YOLO detection labels (class cx cy w h, normalized) with classes.txt, data.yaml."

    def stream(
        self, tasks: Iterable[Task], config: LabelConfig, options: ExportOptions
    ) -> Iterator[bytes]:
        """Yields a zip: a label file per image, classes.txt, data.yaml, images.txt (and images)."""
        cats = categories(config)
        archive = ZipStream()
        files = ImageFiles(archive, options)
        paths: list[str] = []
        for item in image_items(tasks, config, options):
            yield files.add(item)
            data = "".join(line + "\n" for line in self.lines(item, cats)).encode()
            paths.append(f"./{image_path(item)}")
            yield archive.add(f"labels/{_stem(item)}.txt", data)
        names = cats.names()
        classes = "".join(f"{names.get(i, '')}\n" for i in range(max(names, default=-1) + 1))
        yield archive.add("classes.txt", classes.encode())
        yield archive.add("data.yaml", _data_yaml(names, cats.keypoints).encode())
        yield archive.add("images.txt", "".join(p + "\n" for p in paths).encode())
        yield files.close()
        yield archive.close()

    def lines(self, item: ImageItem, cats: Categories) -> list[str]:
        """Returns the label lines of one image."""
        if item.size is None:
            return []
        width, height = item.size
        out = []
        for category_id, _, region in iter_labeled(item.regions, cats.ids):
            box = clip(region.box, width, height)
            cx = (box.x_min + box.x_max) / 2 / width
            cy = (box.y_min + box.y_max) / 2 / height
            coords = (cx, cy, box.width / width, box.height / height)
            out.append(" ".join([str(category_id), *map(_fmt, coords)]))
        return out


def _data_yaml(names: dict[int, str], keypoints: tuple[str, ...]) -> str:
    lines = ["path: .", "train: images.txt", "val: images.txt", f"nc: {len(names)}", "names:"]
    lines += [f"  {i}: {json.dumps(name, ensure_ascii=False)}" for i, name in names.items()]
    if keypoints:
        lines.append(f"kpt_shape: [{len(keypoints)}, 3]")
    return "\n".join(lines) + "\n"


class YoloObbFormat(YoloFormat):
    """YOLO oriented boxes: ``class x1 y1 x2 y2 x3 y3 x4 y4`` normalized (pixel-space rotation)."""

    name = "YOLO_OBB"
    title = "YOLOv8 OBB"
    description = "YOLO oriented boxes: the 4 corners, normalized, rotated in pixel space."
    needs = frozenset({"rectanglelabels"})

    def lines(self, item: ImageItem, cats: Categories) -> list[str]:
        """Returns one line of 4 normalized corners per labeled rectangle."""
        return _point_lines(item, cats, kinds=frozenset({"rectangle"}))


class YoloSegFormat(YoloFormat):
    """YOLO segmentation: ``class x1 y1 x2 y2 ...`` normalized polygons."""

    name = "YOLO_SEG"
    title = "YOLO segmentation"
    description = "YOLO segmentation labels: normalized polygon points per object."
    needs = frozenset({"polygonlabels"})

    def lines(self, item: ImageItem, cats: Categories) -> list[str]:
        """Returns one polygon line per labeled region (rectangles as their 4 corners)."""
        return _point_lines(item, cats, kinds=None)


def _point_lines(item: ImageItem, cats: Categories, *, kinds: frozenset[str] | None) -> list[str]:
    """Returns ``class x1 y1 x2 y2 ...`` lines of normalized points, for regions of ``kinds``."""
    if item.size is None:
        return []
    width, height = item.size
    out = []
    for category_id, _, region in iter_labeled(item.regions, cats.ids):
        if kinds is not None and region.kind not in kinds:
            continue
        coords = [c for x, y in region.points for c in (x / width, y / height)]
        out.append(" ".join([str(category_id), *map(_fmt, coords)]))
    return out


class YoloPoseFormat(YoloFormat):
    """YOLO pose: ``class cx cy w h`` then ``x y v`` per keypoint label in config order."""

    name = "YOLO_POSE"
    title = "YOLO pose"
    description = "YOLO pose labels: box plus normalized keypoints with visibility."
    needs = frozenset({"keypointlabels"})

    def is_supported(self, config: LabelConfig) -> bool:
        """Returns whether the config has keypoints and boxes to link them to on one image."""
        return super().is_supported(config) and "rectanglelabels" in control_tags(config).values()

    def lines(self, item: ImageItem, cats: Categories) -> list[str]:
        """Returns one line per labeled box with its keypoints (0 0 0 for a missing one)."""
        if item.size is None:
            return []
        width, height = item.size
        out = []
        for line, (_, _, region) in zip(
            super().lines(item, cats), iter_labeled(item.regions, cats.ids), strict=True
        ):
            if region.kind != "rectangle":
                continue
            parts = [line]
            for name in cats.keypoints:
                point = region.keypoints.get(name)
                coords = (point[0] / width, point[1] / height, 2) if point else (0.0, 0.0, 0)
                parts.append(f"{_fmt(coords[0])} {_fmt(coords[1])} {coords[2]}")
            out.append(" ".join(parts))
        return out


VISION_FORMATS: tuple[ExportFormat, ...] = (
    CocoFormat(),
    VocFormat(),
    YoloFormat(),
    YoloObbFormat(),
    YoloSegFormat(),
    YoloPoseFormat(),
)
