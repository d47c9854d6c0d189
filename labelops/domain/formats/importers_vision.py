"""Importers of COCO, Pascal VOC and YOLO files, and of ZIP archives of any import format.

Pixel coordinates become Label Studio's percent coordinates with the image's width and height
(from the COCO image record, the VOC ``<size>``, or for YOLO the ``image_sizes`` mapping,
keyed by image URL, exported file name or file stem). A box becomes a rectangle of the first
RectangleLabels control that has its label (else the first one); a COCO segmentation becomes a
polygon when a PolygonLabels control has the label; COCO keypoints become KeyPointLabels points
whose ``parentID`` is their box. A YOLO line is read by its length: ``class cx cy w h`` a box,
plus ``x y v`` per keypoint a pose line (keypoint names from ``notes.json``, else the config),
``class x1 y1 x2 y2 ...`` points: a turned box when they are the 4 corners of a rectangle whose
label a RectangleLabels control has, else a polygon (or the box around them).

Archives are checked before anything is inflated: the uncompressed size of each member and of the
whole archive and each large member's compression ratio must stay within :class:`Limits`, so a
small "zip bomb" is refused at once; members are then read as streams capped at their size.
"""

import io
import json
import math
import posixpath
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any, BinaryIO, Literal

from labelops.domain.errors import TaskImportError
from labelops.domain.formats.base import ImportFormat, ImportTarget, LabelConfig, first_data_field
from labelops.domain.formats.importers import (
    ConllImport,
    CsvImport,
    JsonMinImport,
    LabelStudioJsonImport,
    TsvImport,
    one_result_task,
)
from labelops.domain.formats.regions import FileNames, categories
from labelops.domain.formats.writers_vision import IMAGES, SOURCES
from labelops.domain.records import ResultItem, Task
from labelops.settings import Limits, current_limits, limit_variable

Sizes = Mapping[str, tuple[int, int]] | None
# Members smaller than this are never refused for their ratio (a small file of one repeated
# character compresses far better than any limit, and costs nothing to inflate).
_RATIO_FLOOR = 1024**2


def open_archive(
    source: BinaryIO, source_name: str, limits: Limits | None = None
) -> zipfile.ZipFile:
    """Returns the ZIP archive after checking its declared sizes against the limits.

    zipfile never inflates a member past the size its directory declares, so checking the
    declared sizes bounds what reading the archive can cost.

    Raises:
        TaskImportError: Not a ZIP archive; or a member (named) or the whole archive inflates past
            the limit, or a member's compression ratio is past the limit (a "zip bomb").
    """
    limits = limits or current_limits()
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise TaskImportError(f"not a ZIP archive: {exc}", source=source_name) from exc
    total = 0
    for info in archive.infolist():
        name = f"{source_name}:{info.filename}"
        if info.file_size > limits.max_unzipped_member_bytes:
            raise TaskImportError(
                f"member inflates to {info.file_size} bytes; the limit is "
                f"{limits.max_unzipped_member_bytes} bytes per member "
                f"({limit_variable('max_unzipped_member_bytes')})",
                source=name,
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and ratio > limits.max_zip_ratio:
            raise TaskImportError(
                f"member inflates {ratio:.0f} times its compressed size; the limit is "
                f"{limits.max_zip_ratio} ({limit_variable('max_zip_ratio')})",
                source=name,
            )
        total += info.file_size
    if total > limits.max_unzipped_bytes:
        raise TaskImportError(
            f"archive inflates to {total} bytes; the limit is {limits.max_unzipped_bytes} bytes "
            f"({limit_variable('max_unzipped_bytes')})",
            source=source_name,
        )
    return archive


class _CappedMember(io.RawIOBase):
    """A member read as a stream that fails once it yields more than its declared size."""

    def __init__(self, archive: zipfile.ZipFile, member: str, source_name: str) -> None:
        self._info = archive.getinfo(member)
        self._raw = archive.open(self._info)
        self._source = source_name

    def readable(self) -> bool:
        """Returns True: the member can be read."""
        return True

    def seekable(self) -> bool:
        """Returns whether the member can be re-positioned (when the archive's file can)."""
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Returns the new position after moving to ``offset`` (re-inflating up to it)."""
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        """Returns the position in the inflated member."""
        return self._raw.tell()

    def readinto(self, buffer: Any) -> int:
        """Returns the number of bytes read into ``buffer``.

        Raises:
            TaskImportError: The member yields more than its directory declared.
        """
        data = self._raw.read(len(buffer))
        if self._raw.tell() > self._info.file_size:
            raise TaskImportError(
                "member inflates past the size its archive declares", source=self._source
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        """Closes the member's stream."""
        self._raw.close()
        super().close()


def open_member(archive: zipfile.ZipFile, member: str, source_name: str) -> io.BufferedReader:
    """Returns a buffered stream of one member, capped at its declared (checked) size."""
    return io.BufferedReader(_CappedMember(archive, member, source_name), 1024 * 1024)


def _member_lines(archive: zipfile.ZipFile, member: str, source_name: str) -> Iterator[str]:
    """Yields the lines of a UTF-8 text member, streamed."""
    with io.TextIOWrapper(open_member(archive, member, source_name), encoding="utf-8") as text:
        yield from text


def _control(config: LabelConfig, tag: str, label: str) -> tuple[str, str] | None:
    """Returns (control name, to_name) of the first control of ``tag`` offering ``label``."""
    fallback = None
    for name, ctl in config.controls.items():
        if str(ctl.tag).lower() != tag:
            continue
        pair = (str(name), str(ctl.to_names[0]))
        if label in ctl.label_values():
            return pair
        fallback = fallback or pair
    return fallback


def rect_item(
    config: LabelConfig, label: str, box: tuple[float, float, float, float], size: tuple[int, int]
) -> ResultItem | None:
    """Returns a rectanglelabels result item for a pixel box ``(x, y, w, h)``."""
    target = _control(config, "rectanglelabels", label)
    if target is None:
        return None
    width, height = size
    x, y, w, h = box
    return {
        "from_name": target[0],
        "to_name": target[1],
        "type": "rectanglelabels",
        "original_width": width,
        "original_height": height,
        "image_rotation": 0,
        "value": {
            "x": x * 100 / width,
            "y": y * 100 / height,
            "width": w * 100 / width,
            "height": h * 100 / height,
            "rotation": 0,
            "rectanglelabels": [label],
        },
    }


def _image_task(config: LabelConfig, url: str, result: list[ResultItem], as_: ImportTarget) -> Task:
    field = first_data_field(config, "image") or "image"
    for index, item in enumerate(result):
        item.setdefault("id", f"r{index}")
    return one_result_task({field: url}, result, as_)


class CocoImport(ImportFormat):
    """COCO JSON: one task per image with its boxes, polygons and keypoints."""

    name = "COCO"

    def read(
        self,
        source: BinaryIO,
        config: LabelConfig,
        *,
        source_name: str,
        as_: ImportTarget = "annotations",
        image_sizes: Sizes = None,
    ) -> Iterator[Task]:
        """Yields one task per COCO image."""
        try:
            coco = json.load(source)
            names = {c["id"]: c["name"] for c in coco["categories"]}
            keypoint_names = {c["id"]: c.get("keypoints") or [] for c in coco["categories"]}
            images = coco["images"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise TaskImportError(f"not a COCO file: {exc!r}", source=source_name) from exc
        by_image: dict[Any, list[dict[str, Any]]] = {}
        for ann in coco.get("annotations", []):
            by_image.setdefault(ann.get("image_id"), []).append(ann)
        for row, image in enumerate(images, start=1):
            size = (image.get("width"), image.get("height"))
            if not size[0] or not size[1]:
                raise TaskImportError(
                    f"image {image.get('file_name')!r} has no width/height",
                    source=source_name,
                    row=row,
                    field="images",
                )
            result: list[ResultItem] = []
            for ann in by_image.get(image["id"], []):
                label = names.get(ann.get("category_id"))
                if label is None:
                    raise TaskImportError(
                        f"unknown category_id {ann.get('category_id')!r}",
                        source=source_name,
                        row=row,
                        field=f"annotations[{ann.get('id')}]",
                    )
                result.extend(
                    self._items(config, ann, label, size, keypoint_names[ann["category_id"]])
                )
            yield _image_task(config, image["file_name"], result, as_)

    @staticmethod
    def _items(
        config: LabelConfig,
        ann: dict[str, Any],
        label: str,
        size: tuple[int, int],
        keypoint_names: list[str],
    ) -> list[ResultItem]:
        width, height = size
        seg = ann.get("segmentation")
        polygon = _control(config, "polygonlabels", label)
        region_id = f"coco{ann.get('id')}"
        if seg and isinstance(seg, list) and polygon and label in _labels(config, polygon[0]):
            flat = seg[0]
            points = [
                [flat[i] * 100 / width, flat[i + 1] * 100 / height] for i in range(0, len(flat), 2)
            ]
            return [
                {
                    "id": region_id,
                    "from_name": polygon[0],
                    "to_name": polygon[1],
                    "type": "polygonlabels",
                    "original_width": width,
                    "original_height": height,
                    "value": {"points": points, "polygonlabels": [label]},
                }
            ]
        box = rect_item(config, label, tuple(ann["bbox"]), size)
        if box is None:
            return []
        box["id"] = region_id
        items = [box]
        keypoints = ann.get("keypoints") or []
        for index, name in enumerate(keypoint_names):
            x, y, visible = keypoints[3 * index : 3 * index + 3] or (0, 0, 0)
            target = _control(config, "keypointlabels", name)
            if not visible or target is None:
                continue
            items.append(
                {
                    "id": f"{region_id}-kp{index}",
                    "from_name": target[0],
                    "to_name": target[1],
                    "type": "keypointlabels",
                    "original_width": width,
                    "original_height": height,
                    "parentID": region_id,
                    "value": {
                        "x": x * 100 / width,
                        "y": y * 100 / height,
                        "keypointlabels": [name],
                    },
                }
            )
        return items


def _labels(config: LabelConfig, control: str) -> tuple[str, ...]:
    return tuple(config.controls[control].label_values())


class VocImport(ImportFormat):
    """One Pascal VOC XML file: one task with its boxes."""

    name = "VOC"

    def read(
        self,
        source: BinaryIO,
        config: LabelConfig,
        *,
        source_name: str,
        as_: ImportTarget = "annotations",
        image_sizes: Sizes = None,
    ) -> Iterator[Task]:
        """Yields the task of one VOC annotation file."""
        try:
            root = ET.parse(source).getroot()
            filename = root.findtext("filename") or ""
            size = (int(root.findtext("size/width") or 0), int(root.findtext("size/height") or 0))
        except (ET.ParseError, ValueError) as exc:
            raise TaskImportError(f"not a VOC XML file: {exc}", source=source_name) from exc
        if not size[0] or not size[1]:
            raise TaskImportError(
                f"image {filename!r} has no size", source=source_name, field="size"
            )
        result: list[ResultItem] = []
        for index, obj in enumerate(root.iter("object"), start=1):
            try:
                x0, y0, x1, y1 = (
                    float(obj.findtext(f"bndbox/{k}") or "")
                    for k in ("xmin", "ymin", "xmax", "ymax")
                )
            except ValueError:
                raise TaskImportError(
                    "bndbox needs numeric xmin, ymin, xmax, ymax",
                    source=source_name,
                    row=index,
                    field="object/bndbox",
                ) from None
            item = rect_item(config, obj.findtext("name") or "", (x0, y0, x1 - x0, y1 - y0), size)
            if item is not None:
                result.append(item)
        yield _image_task(config, filename, result, as_)


class YoloImport(ImportFormat):
    """A YOLO zip: ``labels/*.txt``, ``classes.txt`` or ``data.yaml``, optional ``images.txt``."""

    name = "YOLO"

    def read(
        self,
        source: BinaryIO,
        config: LabelConfig,
        *,
        source_name: str,
        as_: ImportTarget = "annotations",
        image_sizes: Sizes = None,
    ) -> Iterator[Task]:
        """Yields one task per label file, sized from ``image_sizes``.

        Raises:
            TaskImportError: No class names, or an image without a known size (named).
        """
        archive = open_archive(source, source_name)
        members = set(archive.namelist())
        classes = _yolo_classes(archive, members, source_name)
        keypoints = _yolo_keypoints(archive, members, config, source_name)
        urls: dict[str, tuple[str, str]] = {}
        sources = _image_sources(archive, members, source_name)
        if "images.txt" in members:
            names = FileNames()
            for line in _member_lines(archive, "images.txt", source_name):
                if line.strip():
                    url = sources.get(line.strip().removeprefix("./"), line.strip())
                    file_name = names(url)
                    urls[posixpath.splitext(file_name)[0]] = (url, file_name)
        sizes = dict(image_sizes or {})
        for member in sorted(m for m in members if m.startswith("labels/") and m.endswith(".txt")):
            stem = posixpath.splitext(posixpath.basename(member))[0]
            url, file_name = urls.get(stem, (stem, stem))
            size = sizes.get(url) or sizes.get(file_name) or sizes.get(stem)
            if size is None:
                raise TaskImportError(
                    f"no image size for {url!r}; pass its (width, height) in image_sizes",
                    source=source_name,
                    field=member,
                )
            result: list[ResultItem] = []
            lines = _member_lines(archive, member, f"{source_name}:{member}")
            for row, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                parts = line.split()
                try:
                    label = classes[int(parts[0])]
                    numbers = [float(v) for v in parts[1:]]
                except (ValueError, KeyError, IndexError):
                    numbers = []
                shape = _yolo_shape(len(numbers), len(keypoints))
                if shape is None:
                    raise TaskImportError(
                        "expected 'class cx cy w h' (plus 'x y v' per keypoint) or "
                        f"'class x1 y1 x2 y2 x3 y3 ...' with a known class, got {line.rstrip()!r}",
                        source=f"{source_name}:{member}",
                        row=row,
                    )
                region_id = f"{stem}-{row}"
                result.extend(
                    _yolo_items(config, label, numbers, shape, size, keypoints, region_id)
                )
            yield _image_task(config, url, result, as_)


YoloShape = Literal["box", "pose", "points"]


def _yolo_shape(count: int, keypoints: int) -> YoloShape | None:
    """Returns what a line of ``count`` numbers after its class is, or None when nothing."""
    if count == 4:
        return "box"
    if keypoints and count == 4 + 3 * keypoints:
        return "pose"
    if count >= 6 and count % 2 == 0:
        return "points"
    return None


def _yolo_items(
    config: LabelConfig,
    label: str,
    numbers: list[float],
    shape: YoloShape,
    size: tuple[int, int],
    keypoints: tuple[str, ...],
    region_id: str,
) -> list[ResultItem]:
    """Returns the result items of one YOLO line (numbers normalized to 0..1)."""
    width, height = size
    if shape == "points":
        points = [(numbers[i] * width, numbers[i + 1] * height) for i in range(0, len(numbers), 2)]
        item = _points_item(config, label, points, size)
        if item is not None:
            item["id"] = region_id
        return [item] if item is not None else []
    cx, cy, w, h = numbers[:4]
    box = rect_item(
        config, label, ((cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height), size
    )
    if box is None:
        return []
    box["id"] = region_id
    items = [box]
    if shape == "pose":
        for index, name in enumerate(keypoints):
            x, y, visible = numbers[4 + 3 * index : 7 + 3 * index]
            items.extend(
                _keypoint_items(
                    config, name, (x * width, y * height), visible, size, region_id, index
                )
            )
    return items


def _points_item(
    config: LabelConfig, label: str, points: list[tuple[float, float]], size: tuple[int, int]
) -> ResultItem | None:
    """Returns a rectangle for the 4 corners of a (turned) box, else a polygon.

    Points whose label only a RectangleLabels control offers give the box around them.
    """
    rect = _control(config, "rectanglelabels", label)
    polygon = _control(config, "polygonlabels", label)
    offers_rect = rect is not None and label in _labels(config, rect[0])
    offers_polygon = polygon is not None and label in _labels(config, polygon[0])
    corners = len(points) == 4 and _is_rectangle(points)
    if offers_rect and (corners or not offers_polygon):
        if corners:
            return _turned_rect_item(config, label, points, size)
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        return rect_item(
            config, label, (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)), size
        )
    if polygon is None:
        return None
    width, height = size
    return {
        "from_name": polygon[0],
        "to_name": polygon[1],
        "type": "polygonlabels",
        "original_width": width,
        "original_height": height,
        "value": {
            "points": [[x * 100 / width, y * 100 / height] for x, y in points],
            "polygonlabels": [label],
        },
    }


def _is_rectangle(points: list[tuple[float, float]]) -> bool:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
    side = math.hypot(x1 - x0, y1 - y0)
    other = math.hypot(x3 - x0, y3 - y0)
    if side == 0 or other == 0:
        return False
    parallelogram = math.hypot(x0 + x2 - x1 - x3, y0 + y2 - y1 - y3) <= 1e-3 * max(side, other)
    cos = ((x1 - x0) * (x3 - x0) + (y1 - y0) * (y3 - y0)) / (side * other)
    clockwise = (x1 - x0) * (y3 - y0) - (y1 - y0) * (x3 - x0) > 0  # on screen, y grows down
    return parallelogram and abs(cos) <= 1e-3 and clockwise


def _turned_rect_item(
    config: LabelConfig, label: str, corners: list[tuple[float, float]], size: tuple[int, int]
) -> ResultItem | None:
    """Returns the rectangle whose corners, clockwise from its top-left, these are."""
    (x0, y0), (x1, y1), _, (x3, y3) = corners
    item = rect_item(
        config, label, (x0, y0, math.hypot(x1 - x0, y1 - y0), math.hypot(x3 - x0, y3 - y0)), size
    )
    if item is not None:
        rotation = math.degrees(math.atan2(y1 - y0, x1 - x0)) % 360
        item["value"]["rotation"] = 0 if min(rotation, 360 - rotation) < 1e-6 else rotation
    return item


def _keypoint_items(
    config: LabelConfig,
    name: str,
    point: tuple[float, float],
    visible: float,
    size: tuple[int, int],
    parent: str,
    index: int,
) -> list[ResultItem]:
    target = _control(config, "keypointlabels", name)
    if not visible or target is None:
        return []
    width, height = size
    return [
        {
            "id": f"{parent}-kp{index}",
            "from_name": target[0],
            "to_name": target[1],
            "type": "keypointlabels",
            "original_width": width,
            "original_height": height,
            "parentID": parent,
            "value": {
                "x": point[0] * 100 / width,
                "y": point[1] * 100 / height,
                "keypointlabels": [name],
            },
        }
    ]


def _image_sources(archive: Any, members: set[str], source_name: str) -> dict[str, str]:
    """Returns ``{path in the zip: the task's own image URL}`` from an export's image list."""
    if SOURCES not in members:
        return {}
    rows = [line.split("\t") for line in _member_lines(archive, SOURCES, source_name)]
    return {row[0]: row[1].rstrip("\r\n") for row in rows[1:] if len(row) >= 2 and row[0]}


def _with_sources(task: Task, sources: Mapping[str, str]) -> Task:
    """Returns the task with an export's image paths pointing at the images' own URLs again.

    COCO names an image ``images/x.jpg``, VOC ``x.jpg``; both are found in ``image_sources.tsv``.
    """
    if not sources:
        return task

    def source(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return sources.get(value) or sources.get(f"{IMAGES}/{value}") or value

    return replace(task, data={k: source(v) for k, v in task.data.items()})


def _yolo_keypoints(
    archive: zipfile.ZipFile, members: set[str], config: LabelConfig, source: str
) -> tuple[str, ...]:
    """Returns the keypoint names of pose lines in column order (notes.json's, else config's)."""
    if "notes.json" in members:
        try:
            notes = json.loads("".join(_member_lines(archive, "notes.json", source)))
            for category in notes.get("categories") or []:
                if category.get("keypoints"):
                    return tuple(str(name) for name in category["keypoints"])
        except (json.JSONDecodeError, AttributeError, TypeError):
            raise TaskImportError("notes.json is not a JSON object", source=source) from None
    return categories(config).keypoints


def _yolo_classes(archive: zipfile.ZipFile, members: set[str], source: str) -> dict[int, str]:
    if "classes.txt" in members:
        lines = _member_lines(archive, "classes.txt", source)
        return {i: name.strip() for i, name in enumerate(lines) if name.strip()}
    if "data.yaml" in members:
        classes: dict[int, str] = {}
        in_names = False
        for line in _member_lines(archive, "data.yaml", source):
            line = line.rstrip("\r\n")
            if line.startswith("names:"):
                inline = line.removeprefix("names:").strip()
                if inline.startswith("["):
                    items = [v.strip().strip("'\"") for v in inline.strip("[]").split(",")]
                    return dict(enumerate(items))
                in_names = True
            elif in_names and line.startswith(" ") and ":" in line:
                key, _, value = line.strip().partition(":")
                value = value.strip()
                classes[int(key)] = json.loads(value) if value.startswith('"') else value
            elif in_names and line.strip():
                in_names = False
        if classes:
            return classes
    raise TaskImportError("YOLO archive has neither classes.txt nor data.yaml names", source=source)


class ZipImport(ImportFormat):
    """A ZIP archive of any importable format, detected from its contents."""

    name = "ZIP"

    def read(
        self,
        source: BinaryIO,
        config: LabelConfig,
        *,
        source_name: str,
        as_: ImportTarget = "annotations",
        image_sizes: Sizes = None,
    ) -> Iterator[Task]:
        """Yields the tasks of every importable member, each member read with its format.

        Raises:
            TaskImportError: The archive holds nothing importable.
        """
        archive = open_archive(source, source_name)
        members = [m for m in archive.namelist() if not m.endswith("/")]
        if any(m.startswith("labels/") for m in members) and (
            {"classes.txt", "data.yaml"} & set(members)
        ):
            source.seek(0)
            yield from YoloImport().read(
                source, config, source_name=source_name, as_=as_, image_sizes=image_sizes
            )
            return
        found = False
        sources = _image_sources(archive, set(members), source_name)
        for member in sorted(members):
            fmt = _detect(archive, member)
            if fmt is None or member == SOURCES:
                continue
            found = True
            name = f"{source_name}:{member}"
            with open_member(archive, member, name) as data:
                for task in fmt.read(
                    data, config, source_name=name, as_=as_, image_sizes=image_sizes
                ):
                    yield _with_sources(task, sources)
        if not found:
            raise TaskImportError("archive holds no importable file", source=source_name)


def _detect(archive: zipfile.ZipFile, member: str) -> ImportFormat | None:
    lower = member.lower()
    if lower.endswith(".xml"):
        return VocImport()
    if lower.endswith(".conll"):
        return ConllImport()
    if lower.endswith(".csv"):
        return CsvImport()
    if lower.endswith(".tsv"):
        return TsvImport()
    if lower.endswith(".json"):
        with archive.open(member) as raw:
            head = raw.read(4096).lstrip()  # at most 4 KiB of the member
        if head.startswith(b"{") and (b'"images"' in head or b'"categories"' in head):
            return CocoImport()
        if head.startswith(b"["):
            full_task = b'"data": {' in head or b'"annotations"' in head
            return LabelStudioJsonImport() if full_task else JsonMinImport()
    return None
