"""Import of tasks into a project: one path for the API, the import page, the CLI and bucket sync.

:func:`import_source` takes one source (an uploaded file, a request body, a file on disk, a
bucket object), asks the format catalog (:func:`labelops.domain.formats.registry.plan_import`)
what it is, reads it into tasks and writes them as one import batch
(:func:`labelops.services.import_writer.write_tasks`), all or nothing. A task file gives one task
per row; an annotated export (Label Studio JSON, JSON_MIN, COCO, VOC, YOLO, CONLL2003, ZIP)
goes through its importer; a data file (image, audio, video, time series CSV, PDF...) becomes
one task whose data field points at it: at its bucket URI, or at the copy kept by the options'
store. Every entry point is a thin translation to this call with an :class:`ImportOptions`.
"""

import csv
import io
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO, cast

from sqlalchemy.orm import Session

from labelops.db.models import ProjectRow
from labelops.domain.errors import TaskImportError
from labelops.domain.formats.readers import normalize_task
from labelops.domain.formats.registry import ROW_READERS, ImportPlan, plan_import
from labelops.domain.label_config import LabelConfig, parse_label_config
from labelops.domain.records import Task
from labelops.services.import_options import FileStore, ImportOptions, ImportReport
from labelops.services.import_writer import write_tasks

__all__ = [
    "FileStore",
    "ImportOptions",
    "ImportReport",
    "ImportSource",
    "ImportSummary",
    "import_rows",
    "import_source",
    "import_sources",
]

_SPOOL_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ImportSource:
    """One file to import.

    Attributes:
        name: The file name or object key; its extension tells the catalog what it is.
        opener: Returns the file's bytes as a stream (called at most once, only when needed:
            a bucket's media object is never downloaded).
        content_type: The content type, when the sender gave one.
        uri: Where the file already lives (a bucket object's URI): a data file's task points
            there and nothing is stored.
    """

    name: str
    opener: Callable[[], IO[bytes]]
    content_type: str | None = None
    uri: str | None = None

    @classmethod
    def of_stream(
        cls, name: str, stream: IO[bytes], content_type: str | None = None
    ) -> "ImportSource":
        """Returns a source reading an already open stream (an upload, a request body)."""
        return cls(name=name, opener=lambda: stream, content_type=content_type)


def import_source(
    session: Session,
    project: ProjectRow,
    source: ImportSource,
    options: ImportOptions,
    *,
    config: LabelConfig | None = None,
) -> ImportReport:
    """Returns the report of importing one source into the project; the caller commits.

    Raises:
        UnknownFormatError: The catalog does not know the format or file type.
        TaskImportError: The file, one of its rows or one of its results cannot become a task
            (names the file, row and field); nothing of the file is written.
        PermissionDeniedError: ``map_annotators_by_email`` from someone who does not manage
            the project.
    """
    config = config or parse_label_config(project.label_config)
    opened = _Opened(source)
    try:
        plan = plan_import(
            source.name,
            config,
            format_name=options.format_name,
            content_type=source.content_type,
            as_=options.as_,
            as_tasks_list=options.as_tasks_list,
            header=opened.header,
        )
        report = ImportReport(source=source.name, format=plan.format, reads=plan.reads)
        tasks = _tasks(project, source, plan, opened, config, options)
        return write_tasks(session, project, tasks, config=config, report=report, options=options)
    finally:
        opened.close()


@dataclass
class ImportSummary:
    """What one request's sources added: one report per source, and the totals."""

    reports: list[ImportReport] = field(default_factory=list)

    @property
    def num_tasks(self) -> int:
        """Returns the number of tasks created from all sources."""
        return sum(r.num_tasks for r in self.reports)

    def to_dict(self, *, task_ids: bool = False) -> dict[str, Any]:
        """Returns Label Studio's import response, plus one line per file and the problems."""
        body: dict[str, Any] = {
            "task_count": self.num_tasks,
            "annotation_count": sum(r.num_annotations for r in self.reports),
            "prediction_count": sum(r.num_predictions for r in self.reports),
            "duplicate_count": sum(r.num_duplicates for r in self.reports),
            "import": [r.batch_id for r in self.reports],
            "files": [
                {
                    "name": r.source,
                    "format": r.format,
                    "num_tasks": r.num_tasks,
                    "num_annotations": r.num_annotations,
                    "num_predictions": r.num_predictions,
                    "num_duplicates": r.num_duplicates,
                    "num_problems": r.num_problems,
                }
                for r in self.reports
            ],
            "problems": [p for r in self.reports for p in r.problems],
            "problem_count": sum(r.num_problems for r in self.reports),
        }
        if task_ids:
            body["task_ids"] = [i for r in self.reports for i in r.task_ids]
        return body


def import_sources(
    session: Session,
    project: ProjectRow,
    sources: Sequence[ImportSource],
    options: ImportOptions,
) -> ImportSummary:
    """Returns what importing every source added, all of them or none; the caller commits.

    When one source fails, the data files stored for the earlier ones are removed again (the
    caller rolls the session back).

    Raises:
        UnknownFormatError, TaskImportError, PermissionDeniedError: As :func:`import_source`.
    """
    config = parse_label_config(project.label_config)
    summary = ImportSummary()
    try:
        for source in sources:
            summary.reports.append(import_source(session, project, source, options, config=config))
    except BaseException:
        if options.store is not None:
            options.store.discard()
        raise
    return summary


def import_rows(
    session: Session,
    project: ProjectRow,
    rows: Sequence[tuple[int, Any]] | Iterator[tuple[int, Any]],
    *,
    source: str,
    options: ImportOptions | None = None,
    fmt: str = "json",
) -> ImportReport:
    """Returns the report of importing already parsed items (``(row number, item)`` pairs).

    Used where the items come as JSON objects rather than a file (``POST /api/tasks``, the
    demo project); they take the same checks and writer as :func:`import_source`.
    """
    options = options or ImportOptions()
    config = parse_label_config(project.label_config)
    tasks = ((row, normalize_task(item, source=source, row=row)) for row, item in rows)
    report = ImportReport(source=source, format=fmt)
    return write_tasks(session, project, tasks, config=config, report=report, options=options)


def _tasks(
    project: ProjectRow,
    source: ImportSource,
    plan: ImportPlan,
    opened: "_Opened",
    config: LabelConfig,
    options: ImportOptions,
) -> Iterator[tuple[int, Task]]:
    if plan.reads == "data":
        assert plan.data_field is not None
        url = source.uri or _stored(project, source, opened, options)
        return iter([(1, Task(data={plan.data_field: url}))])
    stream = opened.stream()
    if plan.reads == "annotated":
        assert plan.importer is not None
        tasks = plan.importer.read(
            cast(BinaryIO, stream),
            config,
            source_name=source.name,
            as_=options.as_,
            image_sizes=options.image_sizes,
        )
        return enumerate(tasks, start=1)
    rows = ROW_READERS[plan.format](stream, source.name)
    if plan.data_field is not None:  # plain text: each line is the value of the one field
        return ((row, Task(data={plan.data_field: line})) for row, line in rows)
    return ((row, normalize_task(item, source=source.name, row=row)) for row, item in rows)


def _stored(
    project: ProjectRow, source: ImportSource, opened: "_Opened", options: ImportOptions
) -> str:
    if options.store is None:
        raise TaskImportError(
            "data files cannot be stored on this path; upload the file from the import page "
            "or the API, or point a task at its URL",
            source=source.name,
        )
    return options.store.save(project.id, source.name, opened.stream())


class _Opened:
    """Opens a source at most once; peeks a CSV header without losing the stream's start."""

    def __init__(self, source: ImportSource) -> None:
        self.source = source
        self._stream: IO[bytes] | None = None

    def stream(self) -> IO[bytes]:
        if self._stream is None:
            self._stream = self.source.opener()
        return self._stream

    def header(self) -> Sequence[str]:
        stream = self.stream()
        if not stream.seekable():
            spooled = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)
            shutil.copyfileobj(stream, spooled)
            stream.close()
            spooled.seek(0)
            self._stream = stream = spooled
        start = stream.tell()
        first = stream.readline(64 * 1024)
        stream.seek(start)
        text = first.decode("utf-8-sig", errors="replace")
        delimiter = "\t" if self.source.name.lower().endswith(".tsv") else ","
        return next(csv.reader(io.StringIO(text), delimiter=delimiter), [])

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
