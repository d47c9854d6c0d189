"""The checks every imported task passes, whatever the entry point.

Record limits, the config's data fields and result shapes refuse the task (and so the file);
results that contradict the labeling config are kept and listed on the report, as Label Studio
keeps them, unless the import is strict.
"""

from typing import Any

from labelops.db.bulk import to_json
from labelops.domain.errors import AnnotationError, TaskImportError
from labelops.domain.label_config import LabelConfig, check_result_shape, validate_result
from labelops.domain.records import Task
from labelops.services.import_options import ImportReport
from labelops.services.tasks import check_task_record
from labelops.settings import current_limits, limit_variable


class TaskChecker:
    """Checks each imported task as every import path must, listing kept result problems."""

    def __init__(self, config: LabelConfig, report: ImportReport, *, strict: bool) -> None:
        self.config = config
        self.report = report
        self.strict = strict
        self.required = tuple(dict.fromkeys(config.data_fields))
        self.max_task_bytes = current_limits().max_task_bytes

    def check(self, task: Task, row: int) -> Task:
        """Returns the task once it passed the checks.

        Raises:
            TaskImportError: The task cannot be stored (names source, row and field).
        """
        source = self.report.source
        check_task_record(task, source=source, row=row)
        for name in self.required:
            if name not in task.data:
                have = ", ".join(sorted(map(str, task.data))) or "none"
                raise TaskImportError(
                    f"data field {name!r} required by the labeling config is missing "
                    f"(fields: {have})",
                    source=source,
                    row=row,
                    field=name,
                )
        self._check_size(task, row)
        for index, annotation in enumerate(task.annotations):
            self._check_result(annotation.result, task, row, f"annotations[{index}]")
        for index, prediction in enumerate(task.predictions):
            self._check_result(prediction.result, task, row, f"predictions[{index}]")
        return task

    def _check_size(self, task: Task, row: int) -> None:
        """Refuses a task whose JSON (data, meta, results) is past the per-task limit.

        One huge task would be loaded whole by every page, API answer and export that shows it.
        """
        limit = self.max_task_bytes
        size = len(to_json(task.data)) + (len(to_json(task.meta)) if task.meta else 2)
        if size <= limit:
            results = [a.result for a in task.annotations] + [p.result for p in task.predictions]
            if results:
                size += len(to_json(results))
        if size > limit:
            raise TaskImportError(
                f"task is {size} bytes of JSON (data, meta and results); the limit is {limit} "
                f"bytes per task ({limit_variable('max_task_bytes')})",
                source=self.report.source,
                row=row,
                field="data",
            )

    def _check_result(self, result: list[Any], task: Task, row: int, where: str) -> None:
        try:
            check_result_shape(result)
        except AnnotationError as exc:
            raise TaskImportError(
                exc.message, source=self.report.source, row=row, field=_field(where, exc)
            ) from exc
        try:
            validate_result(self.config, result, task.data, require_required=False)
        except AnnotationError as exc:
            if self.strict:
                raise TaskImportError(
                    exc.message, source=self.report.source, row=row, field=_field(where, exc)
                ) from exc
            self.report.add_problem(row, _field(where, exc), exc.message)


def _field(where: str, exc: AnnotationError) -> str:
    if exc.index is not None:
        return f"{where}.result[{exc.index}]" + (f".{exc.field}" if exc.field else "")
    return f"{where}.{exc.field}" if exc.field else where
