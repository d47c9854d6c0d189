"""Registries of export and import formats by name, as doccano's format registry.

The REST export endpoint, the CLI and the ``labeled_dataset`` asset look formats up here; which
export formats a project offers follows from its labeling config (:func:`supported_export_formats`),
as Label Studio's ``_get_supported_formats`` does.
"""

from labelops.domain.errors import UnknownFormatError
from labelops.domain.formats.base import ExportFormat, ImportFormat, LabelConfig
from labelops.domain.formats.importers import (
    ConllImport,
    CsvImport,
    JsonMinImport,
    LabelStudioJsonImport,
    TsvImport,
)
from labelops.domain.formats.importers_vision import CocoImport, VocImport, YoloImport, ZipImport
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
