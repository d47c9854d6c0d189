"""Computer-vision exports: COCO, Pascal VOC and the YOLO family (detection, OBB, seg, pose).

YOLO under Label Studio's names writes what Label Studio's converter writes for the config: pose
lines for keypoints, point lists for polygons, else boxes (:class:`YoloFormat`), in its layout
(``images/``, ``labels/``, ``classes.txt``, ``notes.json``); ``*_WITH_IMAGES`` names always hold
the images.

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
    * YOLO of a config with boxes and polygons writes boxes as their 4 corners (Label Studio
      mixes 5-number box lines with point lines, which Ultralytics misreads); YOLO_OBB writes
      boxes that have no ``rotation`` key (Label Studio drops them) and, for a keypoint config,
      oriented boxes (Label Studio writes pose lines).
    * Pose keypoints without ``parentID`` go to the smallest box holding them; their columns
      follow ``model_index`` where set, else config order (Label Studio drops keypoints without
      a ``model_index``), and ``notes.json`` lists that same order.
    * Numbers have 6 decimals; ``notes.json`` has no year, so the same tasks give the same bytes.
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
from typing import Literal

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


YoloLayout = Literal["boxes", "points", "pose"]


class YoloFormat(_VisionFormat):
    """YOLO as Label Studio names it: boxes, polygons as point lists, or pose, by the config.

    A config with keypoints writes the pose layout (``class cx cy w h`` then ``x y v`` per
    keypoint); else one with polygons writes every region as points (``class x1 y1 x2 y2 ...``,
    boxes as their 4 corners); else boxes (``class cx cy w h``). All normalized to 0..1.
    """

    name = "YOLO"
    title = "YOLO"
    description = (
        "YOLO labels, normalized: boxes (class cx cy w h), polygons as point lists, "
        "or boxes with keypoints (pose), by the labeling config; classes.txt, notes.json."
    )

    def is_supported(self, config: LabelConfig) -> bool:
        """Returns whether boxes or polygons label one image (and keypoints have boxes)."""
        if not super().is_supported(config):
            return False
        tags = set(control_tags(config).values())
        return "keypointlabels" not in tags or "rectanglelabels" in tags

    def layout(self, config: LabelConfig) -> YoloLayout:
        """Returns what a line holds for this config (see the class docstring)."""
        if has_control_on(config, {"keypointlabels"}, "image"):
            return "pose"
        if has_control_on(config, {"polygonlabels", "polygon"}, "image"):
            return "points"
        return "boxes"

    def stream(
        self, tasks: Iterable[Task], config: LabelConfig, options: ExportOptions
    ) -> Iterator[bytes]:
        """Yields the zip: ``images/``, ``labels/``, ``classes.txt``, ``notes.json`` and more.

        The first four are Label Studio's layout; ``data.yaml``, ``images.txt`` and
        ``image_sources.tsv`` are added (see the module docstring).
        """
        cats = categories(config)
        layout = self.layout(config)
        archive = ZipStream()
        files = ImageFiles(archive, options)
        paths: list[str] = []
        yield archive.add_folder(IMAGES)
        yield archive.add_folder("labels")
        for item in image_items(tasks, config, options):
            yield files.add(item)
            data = "".join(line + "\n" for line in _LINES[layout](item, cats)).encode()
            paths.append(f"./{image_path(item)}")
            yield archive.add(f"labels/{_stem(item)}.txt", data)
        names = cats.names()
        classes = "".join(f"{names.get(i, '')}\n" for i in range(max(names, default=-1) + 1))
        yield archive.add("classes.txt", classes.encode())
        yield archive.add("notes.json", _notes_json(cats, layout == "pose"))
        yield archive.add("data.yaml", _data_yaml(names, cats.keypoints, layout).encode())
        yield archive.add("images.txt", "".join(p + "\n" for p in paths).encode())
        yield files.close()
        yield archive.close()


def _box_lines(item: ImageItem, cats: Categories) -> list[str]:
    """Returns ``class cx cy w h`` lines: the axis-aligned box of each region, in the image."""
    if item.size is None:
        return []
    width, height = item.size
    out = []
    for category_id, _, region in iter_labeled(item.regions, cats.ids):
        out.append(" ".join([str(category_id), *map(_fmt, _yolo_box(region, width, height))]))
    return out


def _yolo_box(region: Region, width: int, height: int) -> tuple[float, float, float, float]:
    box = clip(region.box, width, height)
    cx = (box.x_min + box.x_max) / 2 / width
    cy = (box.y_min + box.y_max) / 2 / height
    return cx, cy, box.width / width, box.height / height


def _point_lines(item: ImageItem, cats: Categories) -> list[str]:
    """Returns ``class x1 y1 x2 y2 ...`` lines: polygon points, a box's 4 (rotated) corners."""
    if item.size is None:
        return []
    width, height = item.size
    out = []
    for category_id, _, region in iter_labeled(item.regions, cats.ids):
        coords = [c for x, y in region.points for c in (x / width, y / height)]
        out.append(" ".join([str(category_id), *map(_fmt, coords)]))
    return out


def _pose_lines(item: ImageItem, cats: Categories) -> list[str]:
    """Returns ``class cx cy w h`` plus ``x y v`` per keypoint (``0 0 0`` when missing) per box."""
    if item.size is None:
        return []
    width, height = item.size
    out = []
    for category_id, _, region in iter_labeled(item.regions, cats.ids):
        if region.kind != "rectangle":
            continue
        parts = [str(category_id), *map(_fmt, _yolo_box(region, width, height))]
        for name in cats.keypoints:
            point = region.keypoints.get(name)
            if point is None:
                parts.append(f"{_fmt(0.0)} {_fmt(0.0)} 0")
            else:
                parts.append(f"{_fmt(point[0] / width)} {_fmt(point[1] / height)} 2")
        out.append(" ".join(parts))
    return out


_LINES = {"boxes": _box_lines, "points": _point_lines, "pose": _pose_lines}


def _notes_json(cats: Categories, pose: bool) -> bytes:
    """Returns Label Studio's ``notes.json``: the categories (with the keypoint names for pose)."""
    notes: list[dict[str, object]] = []
    for category_id, name in cats.names().items():
        entry: dict[str, object] = {"id": category_id, "name": name}
        if pose:
            entry["keypoints"] = list(cats.keypoints)
        notes.append(entry)
    info = {"version": "1.0", "contributor": "labelops"}
    return json.dumps({"categories": notes, "info": info}, ensure_ascii=False, indent=2).encode()


def _data_yaml(names: dict[int, str], keypoints: tuple[str, ...], layout: YoloLayout) -> str:
    lines = ["path: .", "train: images.txt", "val: images.txt", f"nc: {len(names)}", "names:"]
    lines += [f"  {i}: {json.dumps(name, ensure_ascii=False)}" for i, name in names.items()]
    if layout == "pose":
        lines.append(f"kpt_shape: [{len(keypoints)}, 3]")
    return "\n".join(lines) + "\n"


class YoloObbFormat(YoloFormat):
    """YOLO oriented boxes: a box's 4 corners (rotated in pixels), a polygon's points."""

    name = "YOLO_OBB"
    title = "YOLOv8 OBB"
    description = (
        "YOLO oriented boxes: each box's 4 corners, rotated in pixel space, and each "
        "polygon's points, normalized."
    )

    def is_supported(self, config: LabelConfig) -> bool:
        """Returns whether boxes or polygons label one image."""
        return _VisionFormat.is_supported(self, config)

    def layout(self, config: LabelConfig) -> YoloLayout:
        """Returns ``points``: every region as its corners or points."""
        return "points"


class YoloSegFormat(YoloFormat):
    """YOLO segmentation: ``class x1 y1 x2 y2 ...`` normalized polygons (boxes as corners)."""

    name = "YOLO_SEG"
    title = "YOLO segmentation"
    description = "YOLO segmentation labels: normalized polygon points per object."
    needs = frozenset({"polygonlabels"})

    def is_supported(self, config: LabelConfig) -> bool:
        """Returns whether polygons label one image."""
        return _VisionFormat.is_supported(self, config)

    def layout(self, config: LabelConfig) -> YoloLayout:
        """Returns ``points``."""
        return "points"


class YoloPoseFormat(YoloFormat):
    """YOLO pose: ``class cx cy w h`` then ``x y v`` per keypoint label."""

    name = "YOLO_POSE"
    title = "YOLO pose"
    description = "YOLO pose labels: box plus normalized keypoints with visibility."
    needs = frozenset({"keypointlabels"})

    def is_supported(self, config: LabelConfig) -> bool:
        """Returns whether the config has keypoints and boxes to link them to on one image."""
        return (
            _VisionFormat.is_supported(self, config)
            and "rectanglelabels" in control_tags(config).values()
        )

    def layout(self, config: LabelConfig) -> YoloLayout:
        """Returns ``pose``."""
        return "pose"


class CocoWithImagesFormat(CocoFormat):
    """Label Studio's ``COCO_WITH_IMAGES``: COCO with the images in ``images/``."""

    name = "COCO_WITH_IMAGES"
    title = "COCO with Images"
    description = "COCO JSON with the images in the zip."
    includes_images = True


class YoloWithImagesFormat(YoloFormat):
    """Label Studio's ``YOLO_WITH_IMAGES``: YOLO with the images in ``images/``."""

    name = "YOLO_WITH_IMAGES"
    title = "YOLO with Images"
    description = "YOLO labels as the YOLO format writes them, with the images in the zip."
    includes_images = True


class YoloObbWithImagesFormat(YoloObbFormat):
    """Label Studio's ``YOLO_OBB_WITH_IMAGES``: YOLO_OBB with the images in ``images/``."""

    name = "YOLO_OBB_WITH_IMAGES"
    title = "YOLOv8 OBB with Images"
    description = "YOLO oriented boxes with the images in the zip."
    includes_images = True


VISION_FORMATS: tuple[ExportFormat, ...] = (
    CocoFormat(),
    VocFormat(),
    YoloFormat(),
    YoloObbFormat(),
    YoloSegFormat(),
    YoloPoseFormat(),
    CocoWithImagesFormat(),
    YoloWithImagesFormat(),
    YoloObbWithImagesFormat(),
)
