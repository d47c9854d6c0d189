"""Readers for plain task files (JSON list, JSONL, CSV, TSV, plain text, Parquet).

Each reader streams ``(row_number, item)`` pairs from a binary file so that a million-row
import never holds the whole file; :func:`normalize_task` then turns one item into a
:class:`Task` with Label Studio's rules (a dict with a ``data`` key is a full task; any other
dict is the task's data).
"""

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import IO, Any

import ijson
import pyarrow.parquet as pq

from labelops.domain.errors import TaskImportError
from labelops.domain.records import Annotation, Prediction, Task

RawRows = Iterator[tuple[int, Any]]


def read_json(source: IO[bytes], source_name: str) -> RawRows:
    """Yields the items of a top-level JSON list (or the single object), streamed with ijson."""
    head = _peek_non_space(source)
    if head == b"{":
        try:
            yield 1, json.load(source)
        except json.JSONDecodeError as exc:
            raise TaskImportError(
                f"invalid JSON: {exc.msg} at line {exc.lineno}", source=source_name
            ) from exc
        return
    if head != b"[":
        raise TaskImportError(
            "expected a JSON list of tasks or one task object", source=source_name
        )
    row = 0
    try:
        for row, item in enumerate(ijson.items(source, "item", use_float=True), start=1):
            yield row, item
    except ijson.JSONError as exc:
        raise TaskImportError(f"invalid JSON after item {row}: {exc}", source=source_name) from exc


def read_jsonl(source: IO[bytes], source_name: str) -> RawRows:
    """Yields one parsed object per non-empty line of a JSON-lines file."""
    for row, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            yield row, json.loads(line)
        except json.JSONDecodeError as exc:
            raise TaskImportError(f"invalid JSON: {exc.msg}", source=source_name, row=row) from exc


def _read_delimited(source: IO[bytes], source_name: str, delimiter: str) -> RawRows:
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    try:
        yield from _delimited_rows(csv.reader(text, delimiter=delimiter), source_name)
    finally:
        text.detach()  # leave the caller's stream open


def _delimited_rows(reader: Any, source_name: str) -> RawRows:
    try:
        header = next(reader)
    except StopIteration:
        return
    except UnicodeDecodeError as exc:
        raise TaskImportError("file is not UTF-8 text", source=source_name, row=1) from exc
    if not header or any(not name.strip() for name in header):
        raise TaskImportError("header has an empty column name", source=source_name, row=1)
    width = len(header)
    try:
        for row, values in enumerate(reader, start=2):
            if not values:
                continue
            if len(values) != width:
                raise TaskImportError(
                    f"expected {width} columns as in the header, found {len(values)}",
                    source=source_name,
                    row=row,
                )
            yield row, dict(zip(header, values, strict=True))
    except UnicodeDecodeError as exc:
        raise TaskImportError("file is not UTF-8 text", source=source_name) from exc
    except csv.Error as exc:
        raise TaskImportError(
            f"malformed CSV: {exc}", source=source_name, row=reader.line_num
        ) from exc


def read_csv(source: IO[bytes], source_name: str) -> RawRows:
    """Yields one dict per CSV row (header names as keys; values stay strings)."""
    return _read_delimited(source, source_name, ",")


def read_tsv(source: IO[bytes], source_name: str) -> RawRows:
    """Yields one dict per TSV row (header names as keys; values stay strings)."""
    return _read_delimited(source, source_name, "\t")


def read_lines(source: IO[bytes], source_name: str) -> RawRows:
    """Yields each non-blank line of a UTF-8 text file, without its line break.

    A plain-text import makes one task per line, as Label Studio does (no header).
    """
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline=None)
    row = 0
    try:
        for row, line in enumerate(text, start=1):
            value = line.rstrip("\n")
            if value.strip():
                yield row, value
    except UnicodeDecodeError as exc:
        raise TaskImportError("file is not UTF-8 text", source=source_name, row=row + 1) from exc
    finally:
        text.detach()  # leave the caller's stream open


def read_parquet(source: IO[bytes], source_name: str, batch_size: int = 10_000) -> RawRows:
    """Yields one dict per Parquet row, reading a row group batch at a time."""
    try:
        parquet = pq.ParquetFile(source)
    except Exception as exc:  # pyarrow raises several types for a non-Parquet file
        raise TaskImportError(f"not a Parquet file: {exc}", source=source_name) from exc
    row = 0
    for batch in parquet.iter_batches(batch_size=batch_size):
        for item in batch.to_pylist():
            row += 1
            yield row, item


def normalize_task(
    item: Any, *, source: str, row: int, required_fields: Sequence[str] = ()
) -> Task:
    """Returns the Task that one imported item describes, checked for the config's data fields.

    Args:
        item: A parsed item: a full task ``{"data": ..., "annotations": ..., "predictions": ...}``
            or a flat dict that is the task's data.
        source: The file name, for errors.
        row: The 1-based row or list position, for errors.
        required_fields: Data fields the labeling config needs (``$text`` -> ``"text"``).

    Raises:
        TaskImportError: The item is not an object, lacks a needed field, or has malformed
            annotations/predictions.
    """
    if not isinstance(item, Mapping):
        raise TaskImportError(
            f"expected a JSON object, got {type(item).__name__}", source=source, row=row
        )
    if "data" in item and isinstance(item["data"], Mapping):
        data = dict(item["data"])
        annotations = item.get("annotations") or item.get("completions") or []
        predictions = item.get("predictions") or []
        meta = item.get("meta") or {}
    else:
        data = dict(item)
        annotations, predictions, meta = [], [], {}
    for name in required_fields:
        if name not in data:
            have = ", ".join(sorted(data)) or "none"
            raise TaskImportError(
                f"data field {name!r} required by the labeling config is missing (fields: {have})",
                source=source,
                row=row,
                field=name,
            )
    if not isinstance(meta, Mapping):
        raise TaskImportError("meta must be an object", source=source, row=row, field="meta")
    return Task(
        data=data,
        meta=meta,
        annotations=tuple(
            _annotation(a, source=source, row=row, index=i) for i, a in enumerate(annotations)
        ),
        predictions=tuple(
            _prediction(p, source=source, row=row, index=i) for i, p in enumerate(predictions)
        ),
    )


def _annotation(raw: Any, *, source: str, row: int, index: int) -> Annotation:
    field = f"annotations[{index}]"
    if not isinstance(raw, Mapping):
        raise TaskImportError("annotation must be an object", source=source, row=row, field=field)
    result = raw.get("result", [])
    if not isinstance(result, list):
        raise TaskImportError(
            "annotation result must be a list", source=source, row=row, field=f"{field}.result"
        )
    completed_by, email = _completed_by(raw.get("completed_by"))
    email = raw.get("completed_by_email") or email
    return Annotation(
        result=result,
        completed_by=completed_by,
        completed_by_email=email,
        was_cancelled=bool(raw.get("was_cancelled", False)),
        ground_truth=bool(raw.get("ground_truth", False)),
        lead_time=_float_or_none(raw.get("lead_time")),
        created_at=_datetime_or_none(raw.get("created_at")),
        updated_at=_datetime_or_none(raw.get("updated_at")),
    )


def _prediction(raw: Any, *, source: str, row: int, index: int) -> Prediction:
    field = f"predictions[{index}]"
    if not isinstance(raw, Mapping):
        raise TaskImportError("prediction must be an object", source=source, row=row, field=field)
    result = raw.get("result", [])
    if not isinstance(result, list):
        raise TaskImportError(
            "prediction result must be a list", source=source, row=row, field=f"{field}.result"
        )
    try:
        score = _float_or_none(raw.get("score"))
    except ValueError:
        raise TaskImportError(
            f"score must be a number, got {raw.get('score')!r}",
            source=source,
            row=row,
            field=f"{field}.score",
        ) from None
    return Prediction(result=result, model_version=str(raw.get("model_version") or ""), score=score)


def _completed_by(value: Any) -> tuple[int | None, str | None]:
    """Returns (foreign user id, email) from the shapes Label Studio writes for completed_by."""
    if isinstance(value, Mapping):
        user_id = value.get("id")
        return (int(user_id) if isinstance(user_id, int) else None), value.get("email") or None
    if isinstance(value, bool):
        return None, None
    if isinstance(value, int):
        return value, None
    if isinstance(value, str) and "@" in value:
        return None, value
    if isinstance(value, str) and value.isdigit():
        return int(value), None
    return None, None


def _float_or_none(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


def _datetime_or_none(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _peek_non_space(source: IO[bytes]) -> bytes:
    """Returns the first non-whitespace byte, leaving the stream positioned at the start."""
    start = source.tell()
    while True:
        chunk = source.read(1)
        if not chunk or not chunk.isspace():
            if chunk == b"\xef":  # UTF-8 byte order mark
                source.read(2)
                start = source.tell()
                continue
            source.seek(start)
            return chunk
        start += 1
