"""Exports: a project's tasks streamed through a format writer, in constant memory."""

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from labelops.db.models import ProjectRow
from labelops.domain.consensus import consensus_result
from labelops.domain.formats.options import ExportOptions
from labelops.domain.formats.registry import (
    EXPORT_FORMATS,
    ExportFormat,
    get_export_format,
    supported_export_formats,
)
from labelops.domain.label_config import LabelConfig, parse_label_config
from labelops.domain.records import ResultItem, Task
from labelops.services.tasks import iter_task_records


def export_options(
    config: LabelConfig,
    *,
    annotations: str = "all",
    include_predictions: bool = True,
    annotators: frozenset[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ExportOptions:
    """Returns export options; the 'consensus' policy gets the project's consensus function.

    Raises:
        ValueError: Unknown annotation policy (the message lists the valid ones).
    """
    consensus = None
    if annotations == "consensus":
        controls = {name: control.result_type for name, control in config.controls.items()}
        order = {name: control.label_values() for name, control in config.controls.items()}

        def consensus(task: Task) -> list[ResultItem] | None:
            label = consensus_result(task, controls, label_order=order)
            return label.result if label is not None else None

    return ExportOptions(
        annotations=annotations,  # type: ignore[arg-type]
        include_predictions=include_predictions,
        annotators=annotators,
        since=since,
        until=until,
        consensus=consensus,
    )


def all_formats() -> list[ExportFormat]:
    """Returns every registered export format."""
    return list(EXPORT_FORMATS.values())


def available_formats(project: ProjectRow) -> list[ExportFormat]:
    """Returns the export formats the project's labeling config supports, as Label Studio offers."""
    return supported_export_formats(parse_label_config(project.label_config))


def export_project(
    session: Session,
    project: ProjectRow,
    format_name: str,
    *,
    download_all_tasks: bool = False,
    options: ExportOptions | None = None,
) -> tuple[ExportFormat, Iterator[bytes]]:
    """Returns the format and a lazy stream of the export's bytes.

    Args:
        session: A session that stays open while the stream is consumed.
        project: The project to export.
        format_name: A registered export format name (case-insensitive).
        download_all_tasks: Include tasks without annotations (Label Studio's flag).
        options: Which annotations to include and how.

    Raises:
        UnknownFormatError: No such format.
        ValueError: The format does not fit the project's labeling config.
    """
    config = parse_label_config(project.label_config)
    fmt = get_export_format(format_name)
    if not fmt.is_supported(config):
        offered = ", ".join(f.name for f in supported_export_formats(config))
        raise ValueError(
            f"export format {fmt.name} does not fit this project's labeling config; "
            f"offered: {offered}"
        )
    options = replace(options or ExportOptions(), download_all_tasks=download_all_tasks)
    tasks = iter_task_records(session, project.id, only_annotated=not download_all_tasks)
    return fmt, fmt.stream(tasks, config, options)
