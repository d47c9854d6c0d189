"""Brush masks in exports: COCO segmentation, and one PNG (or NumPy array) per region in a zip.

``BRUSH_TO_PNG`` and ``BRUSH_TO_NUMPY`` follow Label Studio's converter: every exported annotation
of an image task gives one file per brush region, named
``task-<task>-annotation-<annotation>-by-<annotator>-<control>-<labels>-<n>``, holding the mask as
an 8-bit grayscale image (the alpha channel of the RGBA mask, 255 where painted), ``n`` counting
the regions with the same control and labels from 0.

COCO: Label Studio's converter leaves brush regions out of COCO. We write each labeled brush region
as one annotation whose ``segmentation`` is COCO's uncompressed RLE
(``{"counts": [...], "size": [height, width]}``, column-major, starting with a run of 0s, as
``pycocotools`` reads it), with ``bbox`` and ``area`` from the mask's pixels and ``iscrowd`` 0.

Where we differ from Label Studio's converter:
    * File names keep only letters, digits and ``@ . _ -`` in every part (labels included), so a
      label such as ``a/b`` never makes a folder in the zip; the annotator is named by email when
      the export knows it, else by user id.
    * A brush region whose mask cannot be decoded (an import kept it as Label Studio wrote it)
      is left out of the export instead of stopping it.
"""

import io
import re
import struct
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from labelops.domain.brush_rle import BrushRleError, Mask, decode_mask
from labelops.domain.formats.base import (
    ExportFormat,
    LabelConfig,
    ZipStream,
    data_fields,
    has_control_on,
    object_tags,
)
from labelops.domain.formats.options import ExportOptions, select_annotations
from labelops.domain.formats.regions import Categories
from labelops.domain.records import Annotation, ResultItem, Task

BRUSH_TYPES = frozenset({"brushlabels", "brush"})
_LABEL_KEYS = ("brushlabels", "labels")


@dataclass(frozen=True)
class BrushRegion:
    """One brush region of a result: its control, labels and decoded mask (height x width)."""

    from_name: str
    labels: tuple[str, ...]
    mask: Mask


def brush_regions(result: Iterable[ResultItem]) -> Iterator[BrushRegion]:
    """Yields the brush regions of a result whose masks decode, in result order."""
    for item in result:
        if str(item.get("type", "")).lower() not in BRUSH_TYPES:
            continue
        value = item.get("value")
        if not isinstance(value, Mapping) or not isinstance(value.get("rle"), list):
            continue
        width, height = item.get("original_width"), item.get("original_height")
        if not isinstance(width, int) or not isinstance(height, int):
            continue
        try:
            mask = decode_mask(value["rle"], width, height)
        except BrushRleError:
            continue
        labels: list[Any] = next(
            (value[k] for k in _LABEL_KEYS if isinstance(value.get(k), list)), []
        )
        yield BrushRegion(str(item.get("from_name", "")), tuple(str(v) for v in labels), mask)


def brush_categories(cats: Categories, config: LabelConfig) -> Categories:
    """Returns the categories with the labels of brush controls on an image added after them."""
    objects = object_tags(config)
    ids = dict(cats.ids)
    for ctl in config.controls.values():
        tag = str(ctl.tag).lower()
        if tag in BRUSH_TYPES and any(objects.get(t) == "image" for t in ctl.to_names):
            for item in ctl.labels:
                if item.value not in ids:
                    category = getattr(item, "category", None)
                    ids[item.value] = int(category) if category not in (None, "") else len(ids)
    return Categories(ids, cats.keypoints)


def coco_rle(mask: npt.NDArray[np.generic]) -> dict[str, list[int]]:
    """Returns COCO's uncompressed RLE of a mask: column-major run lengths, 0s first."""
    flat = (np.asarray(mask) > 0).ravel(order="F").astype(np.int8)
    if flat.size == 0:
        return {"counts": [], "size": [int(mask.shape[0]), int(mask.shape[1])]}
    edges = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate(([0], edges, [flat.size]))
    counts = np.diff(bounds).tolist()
    if flat[0]:
        counts.insert(0, 0)
    return {"counts": counts, "size": [int(mask.shape[0]), int(mask.shape[1])]}


def coco_brush_annotations(
    result: Iterable[ResultItem], cats: Categories, image_id: int, first_id: int
) -> list[dict[str, object]]:
    """Returns one COCO annotation per label of each painted brush region of a result."""
    out: list[dict[str, object]] = []
    for region in brush_regions(result):
        painted = region.mask > 0
        area = int(painted.sum())
        if not area:
            continue
        rows = np.flatnonzero(painted.any(axis=1))
        cols = np.flatnonzero(painted.any(axis=0))
        bbox = [
            int(cols[0]),
            int(rows[0]),
            int(cols[-1] - cols[0] + 1),
            int(rows[-1] - rows[0] + 1),
        ]
        segmentation = coco_rle(painted)
        for label in region.labels:
            if label not in cats.ids:
                continue
            out.append(
                {
                    "id": first_id + len(out),
                    "image_id": image_id,
                    "category_id": cats.ids[label],
                    "segmentation": segmentation,
                    "bbox": bbox,
                    "area": area,
                    "iscrowd": 0,
                    "ignore": 0,
                }
            )
    return out


def png_gray(mask: Mask) -> bytes:
    """Returns an 8-bit grayscale PNG of a mask (height x width values 0..255)."""
    pixels = np.ascontiguousarray(mask, dtype=np.uint8)
    height, width = pixels.shape
    rows = np.zeros((height, width + 1), dtype=np.uint8)  # filter byte 0 before each row
    rows[:, 1:] = pixels

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def _npy(mask: Mask) -> bytes:
    out = io.BytesIO()
    np.save(out, np.ascontiguousarray(mask, dtype=np.uint8))
    return out.getvalue()


_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]")


def _safe(part: str) -> str:
    return _UNSAFE.sub("", part)


def _annotator(annotation: Annotation) -> str:
    if annotation.completed_by_email:
        return _safe(annotation.completed_by_email)
    return str(annotation.completed_by) if annotation.completed_by is not None else ""


def mask_files(task: Task, annotation: Annotation) -> Iterator[tuple[str, Mask]]:
    """Yields ``(file stem, mask)`` per brush region of one annotation (see the module doc)."""
    counters: dict[str, int] = defaultdict(int)
    prefix = f"task-{task.id}-annotation-{annotation.id}-by-{_annotator(annotation)}"
    for region in brush_regions(annotation.result):
        name = "-".join(
            [_safe(region.from_name), *(_safe(v) for v in region.labels or ("no_label",))]
        )
        index = counters[name]
        counters[name] += 1
        yield f"{prefix}-{name}-{index}", region.mask


class BrushMaskFormat(ExportFormat):
    """Brush masks in a zip, one file per region, each written by ``encode`` (PNG or NumPy)."""

    media_type = "application/zip"
    extension = ".zip"

    def __init__(
        self, name: str, title: str, description: str, suffix: str, encode: Callable[[Mask], bytes]
    ) -> None:
        self.name = name
        self.title = title
        self.description = description
        self.suffix = suffix
        self.encode = encode

    def is_supported(self, config: LabelConfig) -> bool:
        """Returns whether brush masks are drawn on the config's one image."""
        return len(data_fields(config)) <= 1 and has_control_on(config, set(BRUSH_TYPES), "image")

    def stream(
        self, tasks: Iterable[Task], config: LabelConfig, options: ExportOptions
    ) -> Iterator[bytes]:
        """Yields a zip with one file per brush region of each exported annotation."""
        archive = ZipStream()
        for task in tasks:
            for annotation in select_annotations(task, options):
                for stem, mask in mask_files(task, annotation):
                    yield archive.add(f"{stem}{self.suffix}", self.encode(mask))
        yield archive.close()


BRUSH_FORMATS: tuple[ExportFormat, ...] = (
    BrushMaskFormat(
        "BRUSH_TO_NUMPY",
        "Brush labels to NumPy",
        "Brush masks as NumPy 2-D uint8 arrays: one .npy file per region and label.",
        ".npy",
        _npy,
    ),
    BrushMaskFormat(
        "BRUSH_TO_PNG",
        "Brush labels to PNG",
        "Brush masks as PNG images: one grayscale image per region and label.",
        ".png",
        png_gray,
    ),
)


def first_result(task: Task, options: ExportOptions) -> list[ResultItem]:
    """Returns the result of the task's first selected annotation (the one COCO writes)."""
    selected = select_annotations(task, options)
    return list(selected[0].result) if selected else []
