"""Importers of annotated files: Label Studio JSON, JSON_MIN, CSV, TSV and CONLL2003.

Each importer yields :class:`Task` records whose results become annotations or, with
``as_="predictions"``, predictions (cancelled annotations are then dropped). The vision importers
(COCO, VOC, YOLO) and the ZIP importer live in ``importers_vision``.

Annotators from elsewhere: a ``completed_by`` in an imported file names a user of another
instance (an id, a user object ``{"id", "email"}``, or an email). Imported annotations get
``completed_by=None`` and ``completed_by_email`` set to the email when one is given, otherwise
``imported-<id>``, so the service maps each to a distinct imported annotator and agreement
survives the move. (Label Studio refuses such files.)
"""

import io
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from labelops.domain.errors import TaskImportError
from labelops.domain.formats.base import ImportFormat, ImportTarget, LabelConfig, object_tags
from labelops.domain.formats.flatten import META_COLUMNS
from labelops.domain.formats.readers import normalize_task, read_csv, read_json, read_tsv
from labelops.domain.formats.writers_text import text_field
from labelops.domain.records import Annotation, Prediction, ResultItem, Task


def imported_annotator(completed_by: int | None, email: str | None) -> str | None:
    """Returns the ``completed_by_email`` an imported annotation is kept under."""
    if email:
        return email
    return f"imported-{completed_by}" if completed_by is not None else None


def finish(task: Task, as_: ImportTarget) -> Task:
    """Returns the task with imported annotators, results moved to predictions when asked."""
    annotations = tuple(
        Annotation(
            result=a.result,
            completed_by=None,
            completed_by_email=imported_annotator(a.completed_by, a.completed_by_email),
            was_cancelled=a.was_cancelled,
            ground_truth=a.ground_truth,
            lead_time=a.lead_time,
            created_at=a.created_at,
            updated_at=a.updated_at,
        )
        for a in task.annotations
    )
    if as_ == "annotations":
        return Task(task.data, task.id, annotations, task.predictions, task.meta)
    moved = tuple(
        Prediction(result=a.result, model_version="imported")
        for a in annotations
        if not a.was_cancelled
    )
    return Task(task.data, task.id, (), task.predictions + moved, task.meta)


def one_result_task(
    data: dict[str, Any],
    result: list[ResultItem],
    as_: ImportTarget,
    annotator: Any = None,
) -> Task:
    """Returns a task with one annotation (or prediction) holding ``result``."""
    completed_by = annotator if isinstance(annotator, int) else None
    email = annotator if isinstance(annotator, str) and annotator else None
    annotation = Annotation(result=result, completed_by=completed_by, completed_by_email=email)
    return finish(Task(data=data, annotations=(annotation,)), as_)


class LabelStudioJsonImport(ImportFormat):
    """Label Studio's JSON export: full tasks with annotations and predictions."""

    name = "JSON"

    def read(
        self,
        source: BinaryIO,
        config: LabelConfig,
        *,
        source_name: str,
        as_: ImportTarget = "annotations",
        image_sizes: Mapping[str, tuple[int, int]] | None = None,
    ) -> Iterator[Task]:
        """Yields the file's tasks with their annotations and predictions."""
        for row, item in read_json(source, source_name):
            yield finish(normalize_task(item, source=source_name, row=row), as_)


def value_from_min(tag: str, pretty: Any, *, source: str, row: int, field: str) -> list[Any]:
    """Returns result values (with image sizes still inside) for one JSON_MIN control value."""
    if tag == "choices":
        choices = [pretty] if isinstance(pretty, str) else pretty
        if isinstance(choices, dict):  # Label Studio's own {"choices": [...]} for several
            choices = choices.get("choices", [])
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise TaskImportError(
                f"expected a choice or a list of choices, got {pretty!r}",
                source=source,
                row=row,
                field=field,
            )
        return [{"choices": list(choices)}]
    if tag == "textarea" and isinstance(pretty, str):
        return [{"text": [pretty]}]
    if isinstance(pretty, dict):
        pretty = [pretty]
    if not isinstance(pretty, list) or not all(isinstance(v, dict) for v in pretty):
        raise TaskImportError(
            f"expected a list of {tag} values, got {type(pretty).__name__}",
            source=source,
            row=row,
            field=field,
        )
    return [dict(v) for v in pretty]


def task_from_min(
    record: Mapping[str, Any], config: LabelConfig, *, source: str, row: int
) -> tuple[Any, dict[str, Any], list[ResultItem] | None, Any]:
    """Returns (task id, data, result or None, annotator) of one JSON_MIN / CSV record."""
    controls = {name: str(ctl.tag).lower() for name, ctl in config.controls.items()}
    data: dict[str, Any] = {}
    result: list[ResultItem] = []
    has_annotation = record.get("annotation_id") not in (None, "")
    for key, value in record.items():
        if key in controls:
            if value in (None, ""):
                continue
            has_annotation = True
            ctl = config.controls[key]
            if ctl.tag == "Relations":
                continue  # flat records hold no region ids to link them to again
            for index, v in enumerate(
                value_from_min(controls[key], value, source=source, row=row, field=key)
            ):
                item: ResultItem = {
                    "id": f"{row}-{key}-{index}",
                    "from_name": key,
                    "to_name": ctl.to_names[0] if ctl.to_names else "",
                    "type": controls[key],
                }
                for size_key in ("original_width", "original_height"):
                    if size_key in v:
                        item[size_key] = v.pop(size_key)
                item["value"] = v
                result.append(item)
        elif key not in META_COLUMNS and key != "id":
            data[key.removeprefix("_data_")] = value
    return record.get("id"), data, (result if has_annotation else None), record.get("annotator")


class JsonMinImport(ImportFormat):
    """Label Studio's JSON_MIN: flat records, one per annotation (grouped by task ``id``)."""

    name = "JSON_MIN"

    def rows(self, source: BinaryIO, source_name: str) -> Iterator[tuple[int, Any]]:
        """Yields ``(row, record)`` pairs of the file."""
        return read_json(source, source_name)

    def read(
        self,
        source: BinaryIO,
        config: LabelConfig,
        *,
        source_name: str,
        as_: ImportTarget = "annotations",
        image_sizes: Mapping[str, tuple[int, int]] | None = None,
    ) -> Iterator[Task]:
        """Yields one task per run of records with the same ``id`` (one per record without)."""
        current: Task | None = None
        current_id: Any = None
        for row, record in self.rows(source, source_name):
            if not isinstance(record, Mapping):
                raise TaskImportError("expected an object", source=source_name, row=row)
            record = {k: _decode(v) if k in config.controls else v for k, v in record.items()}
            task_id, data, result, annotator = task_from_min(
                record, config, source=source_name, row=row
            )
            task = (
                one_result_task(data, result, as_, annotator)
                if result is not None
                else Task(data=data)
            )
            if current is not None and task_id not in (None, "") and task_id == current_id:
                current = Task(
                    current.data,
                    None,
                    current.annotations + task.annotations,
                    current.predictions + task.predictions,
                )
                continue
            if current is not None:
                yield current
            current, current_id = task, task_id
        if current is not None:
            yield current


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


class CsvImport(JsonMinImport):
    """Label Studio's CSV export: JSON_MIN records as rows, nested values JSON-encoded."""

    name = "CSV"
    reader = staticmethod(read_csv)

    def rows(self, source: BinaryIO, source_name: str) -> Iterator[tuple[int, Any]]:
        """Yields ``(row, record)`` with numeric ids and annotators parsed back."""
        for row, record in self.reader(source, source_name):
            yield row, _numbers(record)


class TsvImport(CsvImport):
    """Label Studio's TSV export."""

    name = "TSV"
    reader = staticmethod(read_tsv)


def _numbers(record: dict[str, Any]) -> dict[str, Any]:
    for key in ("id", "annotator", "annotation_id"):
        value = record.get(key)
        if isinstance(value, str) and value.isdigit():
            record[key] = int(value)
    return record


_CONLL_LINE = re.compile(r"^(\S+)(?:\s+\S+)*\s+(\S+)$")


class ConllImport(ImportFormat):
    """CONLL2003: documents of ``token ... TAG`` lines; tokens joined with single spaces."""

    name = "CONLL2003"

    def read(
        self,
        source: BinaryIO,
        config: LabelConfig,
        *,
        source_name: str,
        as_: ImportTarget = "annotations",
        image_sizes: Mapping[str, tuple[int, int]] | None = None,
    ) -> Iterator[Task]:
        """Yields one task per document with its B-/I- spans as character offsets."""
        field = text_field(config)
        control = _labels_control(config)
        if field is None or control is None:
            raise TaskImportError(
                "CONLL2003 needs a Text object labeled by a Labels control", source=source_name
            )
        to_name = next(n for n in config.controls[control].to_names)
        tokens: list[tuple[str, str, int]] = []
        text_stream = io.TextIOWrapper(source, encoding="utf-8-sig")
        for row, line in enumerate(text_stream, start=1):
            stripped = line.strip()
            if stripped.startswith("-DOCSTART-"):
                continue
            if not stripped:
                if tokens:
                    yield self._task(tokens, field, control, to_name, as_, source_name)
                    tokens = []
                continue
            parts = stripped.split()
            if len(parts) < 2:
                raise TaskImportError(
                    f"expected 'token ... TAG', got {stripped!r}", source=source_name, row=row
                )
            tokens.append((parts[0], parts[-1], row))
        if tokens:
            yield self._task(tokens, field, control, to_name, as_, source_name)

    @staticmethod
    def _task(
        tokens: list[tuple[str, str, int]],
        field: str,
        control: str,
        to_name: str,
        as_: ImportTarget,
        source: str,
    ) -> Task:
        text = " ".join(token for token, _, _ in tokens)
        spans: list[list[Any]] = []
        offset = 0
        for token, tag, row in tokens:
            start, end = offset, offset + len(token)
            offset = end + 1
            if tag == "O":
                continue
            prefix, _, label = tag.partition("-")
            if prefix not in ("B", "I") or not label:
                raise TaskImportError(f"bad IOB tag {tag!r}", source=source, row=row)
            if prefix == "I" and spans and spans[-1][2] == label and spans[-1][3] == start - 1:
                spans[-1][1] = end
                spans[-1][3] = end
            else:
                spans.append([start, end, label, end])
        result: list[ResultItem] = [
            {
                "id": f"t{i}",
                "from_name": control,
                "to_name": to_name,
                "type": "labels",
                "value": {"start": s, "end": e, "text": text[s:e], "labels": [label]},
            }
            for i, (s, e, label, _) in enumerate(spans)
        ]
        return one_result_task({field: text}, result, as_)


def _labels_control(config: LabelConfig) -> str | None:
    objects = object_tags(config)
    for name, ctl in config.controls.items():
        if str(ctl.tag).lower() == "labels" and any(objects.get(t) == "text" for t in ctl.to_names):
            return str(name)
    return None
