"""Exports: a project's tasks streamed through a format writer, in constant memory.

A download can last as long as its client takes to read it, so the web app streams with
:func:`open_export`: at most ``LABELOPS_MAX_CONCURRENT_EXPORTS`` exports run at once in a
process (the next one gets :class:`ExportsBusyError`), and the tasks are read in keyset batches,
each in its own short transaction on a connection that goes back to the pool before the batch is
handed to the client. A client that stops reading holds an export slot, never a connection or a
transaction.
"""

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from labelops.db.models import ProjectRow
from labelops.domain.consensus import consensus_result
from labelops.domain.errors import InvalidInputError, LabelopsError
from labelops.domain.formats.base import ExportFormat
from labelops.domain.formats.options import ExportOptions, MediaReader
from labelops.domain.formats.registry import (
    EXPORT_FORMATS,
    get_export_format,
    supported_export_formats,
)
from labelops.domain.label_config import LabelConfig, parse_label_config
from labelops.domain.records import ResultItem, Task
from labelops.services.tasks import iter_task_records, prefetched, task_records_after
from labelops.settings import current_limits, limit_variable

RETRY_AFTER_SECONDS = 10
_slots_lock = threading.Lock()
_active_exports = 0


class ExportsBusyError(LabelopsError):
    """As many exports as the limit allows are already streaming; try again later."""

    status = 503
    code = "exports_busy"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"{limit} exports are already in progress, the limit "
            f"({limit_variable('max_concurrent_exports')}); retry in {RETRY_AFTER_SECONDS} s"
        )
        self.limit = limit
        self.retry_after = RETRY_AFTER_SECONDS

    def details(self) -> dict[str, object]:
        """Returns the limit of concurrent exports that was reached."""
        return {"limit": self.limit}


def export_options(
    config: LabelConfig,
    *,
    annotations: str = "all",
    include_predictions: bool = True,
    annotators: frozenset[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    media: MediaReader | None = None,
) -> ExportOptions:
    """Returns export options; the 'consensus' policy gets the project's consensus function.

    ``media`` reads a task's image: the vision formats then include the images
    (``include_images``); the caller decides what it may read.

    Raises:
        InvalidInputError: Unknown annotation policy (the message lists the valid ones).
    """
    consensus = None
    if annotations == "consensus":
        controls = {name: control.result_type for name, control in config.controls.items()}

        def consensus(task: Task) -> list[ResultItem] | None:
            label = consensus_result(task, controls)
            return label.result if label is not None else None

    return ExportOptions(
        annotations=annotations,  # type: ignore[arg-type]
        include_predictions=include_predictions,
        annotators=annotators,
        since=since,
        until=until,
        consensus=consensus,
        media=media,
    )


def reads_images(format_name: str, include_images: bool) -> bool:
    """Returns whether an export reads the tasks' images.

    It does when they are asked for (``include_images``) or when its format always holds them
    (Label Studio's ``YOLO_WITH_IMAGES``, ``YOLO_OBB_WITH_IMAGES``, ``COCO_WITH_IMAGES``). An
    unknown format name reads none (the export then refuses the name).
    """
    if include_images:
        return True
    fmt = EXPORT_FORMATS.get(format_name.upper())
    return fmt is not None and fmt.includes_images


def export_file_name(project_id: int, fmt: ExportFormat, now: datetime) -> str:
    """Returns an export's file name, which says the format: ``project-3-COCO-20261129-021500.zip``.

    JSON and JSON_MIN (both ``.json``) and the zip formats are told apart by the name alone.
    """
    return f"project-{project_id}-{fmt.name}-{now:%Y%m%d-%H%M%S}{fmt.extension}"


def all_formats() -> list[ExportFormat]:
    """Returns every registered export format."""
    return list(EXPORT_FORMATS.values())


def available_formats(project: ProjectRow) -> list[ExportFormat]:
    """Returns the export formats the project's labeling config supports, as Label Studio offers."""
    return supported_export_formats(parse_label_config(project.label_config))


def checked_format(
    format_name: str, config: LabelConfig, options: ExportOptions | None = None
) -> ExportFormat:
    """Returns the registered format once it fits the labeling config and the options.

    Raises:
        UnknownFormatError: No such format.
        InvalidInputError: The config does not support it (the message lists the offered ones),
            or images are asked of a format that carries none.
    """
    fmt = get_export_format(format_name)
    if not fmt.is_supported(config):
        offered = ", ".join(f.name for f in supported_export_formats(config))
        raise InvalidInputError(
            f"export format {fmt.name} does not fit this project's labeling config; "
            f"offered: {offered}"
        )
    if options is not None and options.media is not None and not fmt.carries_images:
        with_images = ", ".join(f.name for f in EXPORT_FORMATS.values() if f.carries_images)
        raise InvalidInputError(
            f"include_images applies to {with_images}; {fmt.name} has no images"
        )
    return fmt


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
        InvalidInputError: The format does not fit the project's labeling config.
    """
    config = parse_label_config(project.label_config)
    fmt = checked_format(format_name, config, options)
    options = replace(options or ExportOptions(), download_all_tasks=download_all_tasks)
    tasks = iter_task_records(session, project.id, only_annotated=not download_all_tasks)
    return fmt, fmt.stream(tasks, config, options)


def _take_slot() -> None:
    """Takes one of the process's export slots.

    Raises:
        ExportsBusyError: All slots are taken.
    """
    global _active_exports
    limit = current_limits().max_concurrent_exports
    with _slots_lock:
        if _active_exports >= limit:
            raise ExportsBusyError(limit)
        _active_exports += 1


def _release_slot() -> None:
    global _active_exports
    with _slots_lock:
        _active_exports -= 1


def active_exports() -> int:
    """Returns the number of exports streaming in this process now."""
    return _active_exports


class ExportStream:
    """An export's bytes, holding one export slot until the stream ends or is closed.

    ``close`` releases the slot even when the stream was never started (a WSGI server closes the
    response iterable of a client that went away), so a slot is never lost.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._open = True

    def __iter__(self) -> Iterator[bytes]:
        """Yields the export's chunks; the slot is released after the last one."""
        try:
            yield from self._chunks
        finally:
            self.close()

    def close(self) -> None:
        """Stops the stream and releases its slot (idempotent)."""
        if self._open:
            self._open = False
            try:
                close = getattr(self._chunks, "close", None)
                if close is not None:
                    close()
            finally:
                _release_slot()


def iter_tasks_in_batches(
    session_factory: Callable[[], Session],
    project_id: int,
    *,
    only_annotated: bool,
    batch_size: int,
) -> Iterator[Task]:
    """Yields the project's tasks in id order, each batch read in its own short session.

    The session of a batch is closed (its transaction ended, its connection back in the pool)
    before any task of the batch is yielded, so a slow consumer holds no database resource. The
    next batch is read in a helper thread while the consumer works through the current one.
    """

    def batch_after(last_id: int) -> list[Task]:
        with session_factory() as session:
            try:
                return task_records_after(
                    session, project_id, last_id, limit=batch_size, only_annotated=only_annotated
                )
            finally:
                session.rollback()

    return prefetched(batch_after, "export-batches")


def open_export(
    session_factory: Callable[[], Session],
    project: ProjectRow,
    format_name: str,
    *,
    download_all_tasks: bool = False,
    options: ExportOptions | None = None,
) -> tuple[ExportFormat, ExportStream]:
    """Returns the format and the stream of an export for a client that may read slowly.

    Args:
        session_factory: Makes a new session (with its own short transaction) for each batch.
        project: The project to export (only its id and config are read, here and now).
        format_name: A registered export format name (case-insensitive).
        download_all_tasks: Include tasks without annotations (Label Studio's flag).
        options: Which annotations to include and how.

    Raises:
        ExportsBusyError: The process already streams as many exports as the limit allows.
        UnknownFormatError: No such format.
        InvalidInputError: The format does not fit the project's labeling config.
    """
    config = parse_label_config(project.label_config)
    checked_format(format_name, config, options)
    options = replace(options or ExportOptions(), download_all_tasks=download_all_tasks)
    tasks = iter_tasks_in_batches(
        session_factory,
        project.id,
        only_annotated=not download_all_tasks,
        batch_size=current_limits().export_batch_size,
    )
    return open_task_stream(tasks, config, format_name, options)


def open_task_stream(
    tasks: Iterable[Task], config: LabelConfig, format_name: str, options: ExportOptions
) -> tuple[ExportFormat, ExportStream]:
    """Returns the format and the stream of an export of these tasks, holding an export slot.

    Raises:
        ExportsBusyError: The process already streams as many exports as the limit allows.
        UnknownFormatError: No such format.
        InvalidInputError: The format does not fit the labeling config.
    """
    fmt = checked_format(format_name, config, options)
    _take_slot()
    return fmt, ExportStream(fmt.stream(tasks, config, options))
