"""What an import is asked to do (ImportOptions) and what it did (ImportReport)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from labelops.domain.formats.base import ImportTarget

PROBLEMS_LISTED = 100


class FileStore(Protocol):
    """Keeps uploaded data files (images, audio, CSV readings...) that tasks point at."""

    def save(self, project_id: int, file_name: str, stream: IO[bytes]) -> str:
        """Returns the URL a task holds for the file, once stored."""
        ...

    def discard(self) -> None:
        """Removes the files stored so far (the import that needed them failed)."""
        ...


@dataclass(frozen=True)
class ImportOptions:
    """How an import reads its source and what it does with the rows.

    Attributes:
        created_by_id: Who imports (None: the CLI or the pipeline).
        format_name: A format named by the caller; otherwise the catalog decides by file name.
        as_: What results in an annotated file become: annotations or predictions.
        image_sizes: YOLO: ``{"name.jpg": (width, height)}``.
        as_tasks_list: Whether a CSV/TSV/text file that the config can also read by URL is a
            task list (True), one data file (False) or decided by the catalog (None).
        dedupe: Skip tasks whose data equals an existing task's or an earlier row's.
        strict: Refuse results that contradict the labeling config instead of listing them.
        return_task_ids: Keep the new task ids on the report.
        map_annotators_by_email: Attribute an imported annotation whose email belongs to a
            member of the project to that member's account. Off by default: the file's
            annotators become import users, so a file cannot forge anyone's authorship. Only a
            manager of the project (or an administrator, or the CLI, ``created_by_id=None``)
            may turn it on.
        track_rows: Remember each row under the source's name, so that importing a changed
            version of the same source updates its tasks in place (bucket sync).
        store: Where uploaded data files are kept; a source that already has a URI needs none.
        progress: Called with the number of rows handled after each chunk.
    """

    created_by_id: int | None = None
    format_name: str | None = None
    as_: ImportTarget = "annotations"
    image_sizes: Mapping[str, tuple[int, int]] | None = None
    as_tasks_list: bool | None = None
    dedupe: bool = False
    strict: bool = False
    return_task_ids: bool = False
    map_annotators_by_email: bool = False
    track_rows: bool = False
    store: FileStore | None = None
    progress: Callable[[int], None] | None = None


@dataclass
class ImportReport:
    """What one import added to (or, for a tracked source, changed in) a project.

    ``problems`` lists results kept although they contradict the labeling config (the first
    100; ``num_problems`` counts them all). For a tracked source, ``num_updated`` counts tasks
    whose data changed in place, ``kept`` the changed rows whose task has annotations and so was
    left as it was, and ``num_deleted`` rows whose task was deleted (not imported again).
    """

    source: str
    format: str
    reads: str = "rows"
    batch_id: int | None = None
    num_tasks: int = 0
    num_annotations: int = 0
    num_predictions: int = 0
    num_duplicates: int = 0
    task_ids: list[int] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    num_problems: int = 0
    num_updated: int = 0
    num_deleted: int = 0
    kept: list[dict[str, Any]] = field(default_factory=list)

    def add_problem(self, row: int, where: str, message: str) -> None:
        """Lists a result kept although it contradicts the labeling config."""
        self.num_problems += 1
        if len(self.problems) < PROBLEMS_LISTED:
            self.problems.append(
                {"source": self.source, "row": row, "field": where, "message": message}
            )

    def to_dict(self) -> dict[str, Any]:
        """Returns the report in Label Studio's import-response shape (plus our extra counts)."""
        return {
            "import": self.batch_id,
            "task_count": self.num_tasks,
            "annotation_count": self.num_annotations,
            "prediction_count": self.num_predictions,
            "duplicate_count": self.num_duplicates,
            "task_ids": self.task_ids,
            "problems": self.problems,
            "problem_count": self.num_problems,
        }
