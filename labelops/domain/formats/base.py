"""The export and import format interfaces, and helpers shared by the writers and importers.

A format is a small object with a name and one method (``stream`` for exports, ``read`` for
imports); the registries in :mod:`labelops.domain.formats.registry` map names to instances, as
doccano's format registry does, so callers never branch on a format name.
"""

import io
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO, Literal

from labelops.domain.formats.options import ExportOptions
from labelops.domain.records import Task

# The labeling config (labelops.domain.label_config.LabelConfig) is duck-typed here: the formats
# read only its ``objects``, ``controls`` and ``data_fields``.
LabelConfig = Any

ImportTarget = Literal["annotations", "predictions"]

# Fixed timestamp for zip members, so that exporting the same tasks twice gives identical bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class ExportFormat(ABC):
    """One export format: a name, how to download it, and a streaming writer.

    Attributes:
        name: Label Studio's export type name (``"JSON"``, ``"COCO"``...).
        title: Short human name for the export dialog.
        description: One sentence for the export dialog.
        media_type: The HTTP content type of the download.
        extension: File name extension of the download, with the dot.
        carries_images: Whether the export can include the images (``ExportOptions.media``).
        includes_images: Whether the export always includes them (Label Studio's
            ``*_WITH_IMAGES`` names): the caller gives it ``ExportOptions.media``.
    """

    name: str = ""
    title: str = ""
    description: str = ""
    media_type: str = "application/octet-stream"
    extension: str = ""
    carries_images: bool = False
    includes_images: bool = False

    @abstractmethod
    def is_supported(self, config: LabelConfig) -> bool:
        """Returns whether a project with this labeling config can export in this format."""

    @abstractmethod
    def stream(
        self, tasks: Iterable[Task], config: LabelConfig, options: ExportOptions
    ) -> Iterator[bytes]:
        """Yields the export file in chunks, pulling tasks one at a time (constant memory)."""


class ImportFormat(ABC):
    """One import format: a name and a reader from a binary file to tasks.

    Which file is read by which format is the format catalog's decision
    (:func:`labelops.domain.formats.registry.plan_import`).

    Attributes:
        name: The format name (``"JSON"``, ``"COCO"``, ``"ZIP"``...).
    """

    name: str = ""

    @abstractmethod
    def read(
        self,
        source: BinaryIO,
        config: LabelConfig,
        *,
        source_name: str,
        as_: ImportTarget = "annotations",
        image_sizes: Mapping[str, tuple[int, int]] | None = None,
    ) -> Iterator[Task]:
        """Yields the tasks that the file describes, with results as annotations or predictions.

        Raises:
            TaskImportError: The file or one of its items is malformed; names source, row, field.
        """


def object_tags(config: LabelConfig) -> dict[str, str]:
    """Returns ``{object tag name: tag type in lower case}`` (``{"image": "image"}``)."""
    return {name: str(obj.tag).lower() for name, obj in config.objects.items()}


def control_tags(config: LabelConfig) -> dict[str, str]:
    """Returns ``{control tag name: tag type in lower case}`` (``{"label": "rectanglelabels"}``)."""
    return {name: str(ctl.tag).lower() for name, ctl in config.controls.items()}


def data_fields(config: LabelConfig) -> list[str]:
    """Returns the task data fields the config reads, in config order, without duplicates."""
    return list(dict.fromkeys(str(f) for f in config.data_fields))


def first_data_field(config: LabelConfig, object_type: str) -> str | None:
    """Returns the data field of the first object tag of a type (``"image"``), if there is one."""
    for obj in config.objects.values():
        if str(obj.tag).lower() == object_type:
            return str(obj.data_field) if obj.data_field else None
    return None


def has_control_on(config: LabelConfig, control_types: set[str], object_type: str) -> bool:
    """Returns whether a control of one of ``control_types`` labels an object of ``object_type``."""
    objects = object_tags(config)
    for ctl in config.controls.values():
        if str(ctl.tag).lower() in control_types and any(
            objects.get(t) == object_type for t in ctl.to_names
        ):
            return True
    return False


class ZipStream:
    """Writes a zip archive member by member into a buffer that the caller drains.

    zipfile writes to any object with ``write``; without ``tell``/``seek`` it uses data descriptors,
    so the archive never needs to be held whole. Members get a fixed timestamp (reproducible bytes).
    """

    def __init__(self) -> None:
        self._buffer = _Drain()
        self._zip = zipfile.ZipFile(self._buffer, "w", compression=zipfile.ZIP_DEFLATED)

    def add(self, name: str, data: bytes | Iterable[bytes]) -> bytes:
        """Returns the bytes produced by writing one member (data given whole or in chunks)."""
        info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        with self._zip.open(info, "w", force_zip64=True) as member:
            if isinstance(data, bytes):
                member.write(data)
            else:
                for chunk in data:
                    member.write(chunk)
        return self._buffer.drain()

    def add_folder(self, name: str) -> bytes:
        """Returns the bytes of a folder entry (``images/``), so an unpacked zip has the folder."""
        info = zipfile.ZipInfo(name.rstrip("/") + "/", date_time=_ZIP_DATE)
        info.CRC = info.compress_size = info.file_size = 0
        info.external_attr = (0o40755 << 16) | 0x10  # a directory, rwxr-xr-x
        self._zip.mkdir(info)
        return self._buffer.drain()

    def add_stream(self, name: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Yields the archive bytes while writing one member from chunks, draining after each."""
        info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        with self._zip.open(info, "w", force_zip64=True) as member:
            for chunk in chunks:
                member.write(chunk)
                drained = self._buffer.drain()
                if drained:
                    yield drained
        yield self._buffer.drain()

    def close(self) -> bytes:
        """Returns the trailing bytes (central directory) after closing the archive."""
        self._zip.close()
        return self._buffer.drain()


class _Drain(io.RawIOBase):
    """A write-only, non-seekable sink whose content is taken out with :meth:`drain`."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self._chunks.append(data)
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data
