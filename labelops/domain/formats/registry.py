"""The format catalog: export formats by name, and what each imported file is and becomes.

The REST export endpoint, the CLI and the ``labeled_dataset`` asset look export formats up here;
which export formats a project offers follows from its labeling config
(:func:`supported_export_formats`), as Label Studio's ``_get_supported_formats`` does.

Every import entry point (API, import page, CLI, bucket sync) asks :func:`plan_import` what a
file is (by its extension, else its content type) and how it becomes tasks: rows of a task file,
an annotated export read by its importer, or a data file (image, audio, video, a time series
CSV, a PDF...) that becomes one task pointing at the file. No other table decides it.
"""

import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Literal

from labelops.domain.errors import TaskImportError, UnknownFormatError
from labelops.domain.formats.base import ExportFormat, ImportFormat, ImportTarget, LabelConfig
from labelops.domain.formats.brush import BRUSH_FORMATS
from labelops.domain.formats.importers import (
    ConllImport,
    CsvImport,
    JsonMinImport,
    LabelStudioJsonImport,
    TsvImport,
)
from labelops.domain.formats.importers_vision import CocoImport, VocImport, YoloImport, ZipImport
from labelops.domain.formats.readers import (
    RawRows,
    read_csv,
    read_json,
    read_jsonl,
    read_lines,
    read_parquet,
    read_tsv,
)
from labelops.domain.formats.writers_tabular import TABULAR_FORMATS
from labelops.domain.formats.writers_text import (
    ConllFormat,
    CsvFormat,
    JsonFormat,
    JsonMinFormat,
    SpacyFormat,
    TsvFormat,
)
from labelops.domain.formats.writers_vision import VISION_FORMATS

EXPORT_FORMATS: dict[str, ExportFormat] = {
    fmt.name: fmt
    for fmt in (
        JsonFormat(),
        JsonMinFormat(),
        CsvFormat(),
        TsvFormat(),
        ConllFormat(),
        SpacyFormat(),
        *VISION_FORMATS,
        *BRUSH_FORMATS,
        *TABULAR_FORMATS,
    )
}

IMPORT_FORMATS: dict[str, ImportFormat] = {
    fmt.name: fmt
    for fmt in (
        LabelStudioJsonImport(),
        JsonMinImport(),
        CsvImport(),
        TsvImport(),
        CocoImport(),
        VocImport(),
        YoloImport(),
        ConllImport(),
        ZipImport(),
    )
}


def get_export_format(name: str) -> ExportFormat:
    """Returns the export format registered under ``name`` (case-insensitive).

    Raises:
        UnknownFormatError: No export format has that name; the message lists the valid ones.
    """
    try:
        return EXPORT_FORMATS[name.upper()]
    except KeyError:
        raise UnknownFormatError(
            f"unknown export format {name!r}; expected one of {', '.join(EXPORT_FORMATS)}"
        ) from None


def supported_export_formats(config: LabelConfig) -> list[ExportFormat]:
    """Returns the export formats a project with this labeling config offers, in registry order."""
    return [fmt for fmt in EXPORT_FORMATS.values() if fmt.is_supported(config)]


def get_import_format(name: str) -> ImportFormat:
    """Returns the import format registered under ``name`` (case-insensitive).

    Raises:
        UnknownFormatError: No import format has that name; the message lists the valid ones.
    """
    try:
        return IMPORT_FORMATS[name.upper()]
    except KeyError:
        raise UnknownFormatError(
            f"unknown import format {name!r}; expected one of {', '.join(IMPORT_FORMATS)}"
        ) from None


Reads = Literal["rows", "annotated", "data"]


@dataclass(frozen=True)
class FileType:
    """One kind of file an import takes.

    Attributes:
        name: The catalog name (``"json"``, ``"image"``, ``"VOC"``...).
        extensions: File name extensions, lower case with the dot.
        content_types: Content types (``"image/*"`` matches a whole family).
        reads: How the file becomes tasks by default: ``rows`` of a task file, an
            ``annotated`` export read by its importer, or a ``data`` file that one task points at.
    """

    name: str
    extensions: tuple[str, ...]
    content_types: tuple[str, ...]
    reads: Reads


FILE_TYPES: tuple[FileType, ...] = (
    FileType("json", (".json",), ("application/json",), "rows"),
    FileType("jsonl", (".jsonl", ".ndjson"), ("application/x-ndjson", "application/jsonl"), "rows"),
    FileType("csv", (".csv",), ("text/csv",), "rows"),
    FileType("tsv", (".tsv",), ("text/tab-separated-values",), "rows"),
    FileType("txt", (".txt",), ("text/plain",), "rows"),
    FileType("parquet", (".parquet",), ("application/vnd.apache.parquet",), "rows"),
    FileType("VOC", (".xml",), ("application/xml", "text/xml"), "annotated"),
    FileType("CONLL2003", (".conll",), (), "annotated"),
    FileType("ZIP", (".zip",), ("application/zip", "application/x-zip-compressed"), "annotated"),
    FileType(
        "image",
        (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".svg", ".tif", ".tiff", ".avif"),
        ("image/*",),
        "data",
    ),
    FileType(
        "audio",
        (".wav", ".mp3", ".ogg", ".oga", ".flac", ".m4a", ".aac", ".opus", ".weba"),
        ("audio/*",),
        "data",
    ),
    FileType("video", (".mp4", ".webm", ".mov", ".mkv", ".avi", ".m4v"), ("video/*",), "data"),
    FileType("html", (".html", ".htm"), ("text/html",), "data"),
    FileType("pdf", (".pdf",), ("application/pdf",), "data"),
)
_BY_EXTENSION: Mapping[str, FileType] = {ext: t for t in FILE_TYPES for ext in t.extensions}
_BY_NAME: Mapping[str, FileType] = {t.name.lower(): t for t in FILE_TYPES}

ROW_READERS: Mapping[str, Callable[[IO[bytes], str], RawRows]] = {
    "json": read_json,
    "jsonl": read_jsonl,
    "csv": read_csv,
    "tsv": read_tsv,
    "txt": read_lines,
    "parquet": read_parquet,
}


def url_file_types(tag: str, attrs: Mapping[str, str]) -> frozenset[str]:
    """Returns the file types an object tag reads from a URL in the task data.

    Media tags always read a URL; ``TimeSeries`` (a CSV/TSV), ``Text`` and ``HyperText`` do when
    ``valueType="url"``; ``Pdf`` reads a PDF.
    """
    by_url = attrs.get("valueType") == "url"
    types = {
        "Image": {"image"},
        "Audio": {"audio"},
        "AudioPlus": {"audio"},
        "Video": {"video"},
        "Pdf": {"pdf"},
        "TimeSeries": {"csv", "tsv"} if by_url else set(),
        "HyperText": {"html", "txt"} if by_url else set(),
        "Text": {"txt"} if by_url else set(),
    }.get(tag, set())
    return frozenset(types)


def file_type(file_name: str, content_type: str | None = None) -> FileType:
    """Returns the catalog's type of a file, from its extension, else its content type.

    Raises:
        UnknownFormatError: Neither names a file type the import takes; the message lists them.
    """
    found = _BY_EXTENSION.get(posixpath.splitext(file_name.lower())[1])
    if found is None and content_type:
        media = content_type.split(";", 1)[0].strip().lower()
        family = media.split("/", 1)[0] + "/*"
        found = next(
            (t for t in FILE_TYPES if media in t.content_types or family in t.content_types),
            None,
        )
    if found is None:
        raise UnknownFormatError(
            f"cannot import {file_name!r}: expected one of {', '.join(sorted(_BY_EXTENSION))}"
        )
    return found


def data_file_types(config: LabelConfig) -> list[str]:
    """Returns the data file types (``"image"``, ``"csv"``...) this config's objects read by URL."""
    return sorted(
        {t for obj in config.objects.values() for t in url_file_types(obj.tag, obj.attrs)}
    )


def accepted_extensions(config: LabelConfig) -> list[str]:
    """Returns the file extensions an import into a project with this config takes."""
    data = set(data_file_types(config))
    return [ext for t in FILE_TYPES if t.reads != "data" or t.name in data for ext in t.extensions]


@dataclass(frozen=True)
class ImportPlan:
    """How one file becomes tasks.

    Attributes:
        reads: ``rows`` (a task file read by :data:`ROW_READERS`), ``annotated`` (an export read
            by ``importer``) or ``data`` (one task whose ``data_field`` holds the file's URL).
        format: The file type or importer name kept on the import batch.
        data_field: For ``data``, the field of the URL; for plain text rows, the line's field.
        importer: The importer of an ``annotated`` file.
    """

    reads: Reads
    format: str
    data_field: str | None = None
    importer: ImportFormat | None = None


def plan_import(
    file_name: str,
    config: LabelConfig,
    *,
    format_name: str | None = None,
    content_type: str | None = None,
    as_: ImportTarget = "annotations",
    as_tasks_list: bool | None = None,
    header: Callable[[], Sequence[str]] | None = None,
) -> ImportPlan:
    """Returns how a file becomes tasks in a project with this labeling config.

    Args:
        file_name: The file (or object key) name; its extension decides the type.
        config: The project's parsed labeling config.
        format_name: A format the caller names (``"COCO"``, ``"csv"``...), overriding the name.
        content_type: The file's content type, used when the extension is unknown.
        as_: What imported results become; predictions need an annotated-format importer.
        as_tasks_list: For a CSV/TSV/text file that an object of the config can also read by
            URL (a ``TimeSeries`` CSV, a ``Text valueType="url"``): True reads it as a task list,
            False makes it one data file; None decides (a CSV whose header names the object's
            field is a task list, any other is data, as is a text file).
        header: Returns the column names of a CSV/TSV file, when the plan needs them.

    Raises:
        UnknownFormatError: The format or file type is not one the import takes.
        TaskImportError: A data file that no object of the config reads (an ``.mp3`` in a text
            project), or a plain-text file for a config with several data fields (names the file).
    """
    name = (format_name or "").strip()
    if name:
        kind = _BY_NAME.get(name.lower())
        if kind is None or kind.reads == "data":
            return _annotated(name)
    else:
        kind = file_type(file_name, content_type)
    if kind.reads == "annotated":
        return _annotated(kind.name)
    field = _url_field(config, kind.name)
    if kind.reads == "data":
        if field is None:
            raise TaskImportError(
                f"the labeling config has no object tag reading {kind.name} files by URL "
                f"(such as {_EXAMPLE_TAGS[kind.name]}), so {kind.name} files cannot become "
                "tasks in this project",
                source=file_name,
            )
        return ImportPlan("data", kind.name, field)
    if field is not None and not name and _reads_as_data(kind.name, field, as_tasks_list, header):
        return ImportPlan("data", kind.name, field)
    if as_ == "predictions":
        return _annotated(kind.name)
    if kind.name == "txt":
        return ImportPlan("rows", "txt", _single_field(config, file_name))
    return ImportPlan("rows", kind.name)


_EXAMPLE_TAGS: Mapping[str, str] = {
    "image": "<Image>",
    "audio": "<Audio>",
    "video": "<Video>",
    "pdf": "<Pdf>",
    "html": '<HyperText valueType="url">',
}


def _annotated(name: str) -> ImportPlan:
    importer = get_import_format("JSON" if name.lower() == "json" else name)
    return ImportPlan("annotated", importer.name, importer=importer)


def _url_field(config: LabelConfig, type_name: str) -> str | None:
    for obj in config.objects.values():
        if obj.data_field and type_name in url_file_types(obj.tag, obj.attrs):
            return str(obj.data_field)
    return None


def _reads_as_data(
    type_name: str,
    field: str,
    as_tasks_list: bool | None,
    header: Callable[[], Sequence[str]] | None,
) -> bool:
    if as_tasks_list is not None:
        return not as_tasks_list
    if type_name in ("csv", "tsv") and header is not None:
        return field not in header()
    return True


def _single_field(config: LabelConfig, file_name: str) -> str:
    fields = list(dict.fromkeys(config.data_fields))
    if len(fields) != 1:
        raise TaskImportError(
            "a plain-text file gives one value per line, but the labeling config reads "
            f"{len(fields)} data fields ({', '.join(fields) or 'none'}); import JSON or CSV",
            source=file_name,
        )
    return str(fields[0])
