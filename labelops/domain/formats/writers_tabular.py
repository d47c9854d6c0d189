"""Tabular exports for every project type: Parquet and a Hugging Face ``datasets`` folder.

One row per exported task. Columns: ``id`` (int64); one string column per data field (strings as
they are, other values JSON-encoded); ``annotations``, a JSON list of the selected annotations
(``id``, ``completed_by``, ``result``); and one string column per control holding the JSON_MIN
value of the first selected annotation (the newest, or the consensus), a plain string for one
choice or text and JSON otherwise. The columns are fixed from the config's data fields and the
first task's data keys, as for CSV.

Parquet is written in row groups of ``batch_size`` rows through ``pyarrow.parquet.ParquetWriter``
into a buffer drained after each group. HF_DATASET is a zip of the folder that
``datasets.load_from_disk`` reads: ``data-00000-of-00001.arrow`` (Arrow IPC stream format),
``dataset_info.json`` (the features) and ``state.json`` (the file list and a fingerprint).
"""

import hashlib
import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from labelops.domain.formats.base import ExportFormat, LabelConfig, ZipStream, data_fields
from labelops.domain.formats.flatten import control_types, outputs, prettify
from labelops.domain.formats.options import ExportOptions, select_annotations
from labelops.domain.records import Task

BATCH_SIZE = 10_000
ARROW_FILE = "data-00000-of-00001.arrow"


class _Sink:
    """An append-only binary sink with ``tell``, drained by the writer after each batch."""

    closed = False

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class _Table:
    """Builds the fixed schema and the record batches of the tabular exports."""

    def __init__(self, first: Task | None, config: LabelConfig) -> None:
        keys = dict.fromkeys(data_fields(config))
        keys.update(dict.fromkeys(first.data if first is not None else ()))
        self.types = control_types(config)
        self.data_keys = list(keys)
        self.control_columns = {name: name for name in self.types}
        for name in self.types:
            if name in keys or name in ("id", "annotations"):
                self.control_columns[name] = f"{name}__label"
        names = ["id", *self.data_keys, "annotations", *self.control_columns.values()]
        fields = [pa.field("id", pa.int64())] + [pa.field(n, pa.string()) for n in names[1:]]
        self.schema = pa.schema(fields)

    def row(self, task: Task, options: ExportOptions) -> dict[str, Any]:
        selected = select_annotations(task, options)
        row: dict[str, Any] = {"id": task.id}
        for key in self.data_keys:
            row[key] = _text(task.data.get(key))
        row["annotations"] = _text(
            [{"id": a.id, "completed_by": a.completed_by, "result": a.result} for a in selected]
        )
        values = outputs(selected[0].result, self.types) if selected else {}
        for name, column in self.control_columns.items():
            row[column] = _text(prettify(values[name])) if name in values else None
        return row

    def batches(
        self, tasks: Iterable[Task], options: ExportOptions, size: int
    ) -> Iterator[pa.RecordBatch]:
        rows = (
            self.row(t, options)
            for t in tasks
            if options.download_all_tasks or select_annotations(t, options)
        )
        while batch := list(itertools.islice(rows, size)):
            yield pa.RecordBatch.from_pylist(batch, schema=self.schema)


def _start(tasks: Iterable[Task], config: LabelConfig) -> tuple[_Table, Iterator[Task]]:
    iterator = iter(tasks)
    first = next(iterator, None)
    rest = iterator if first is None else itertools.chain([first], iterator)
    return _Table(first, config), rest


class ParquetFormat(ExportFormat):
    """Parquet: one row per task, written in row groups."""

    name = "PARQUET"
    title = "Parquet"
    description = "One row per task: data, annotations as JSON, one column per control."
    media_type = "application/vnd.apache.parquet"
    extension = ".parquet"
    batch_size = BATCH_SIZE

    def is_supported(self, config: LabelConfig) -> bool:
        """Returns True: every project type exports to Parquet."""
        return True

    def stream(
        self, tasks: Iterable[Task], config: LabelConfig, options: ExportOptions
    ) -> Iterator[bytes]:
        """Yields the Parquet file, one row group at a time."""
        table, rest = _start(tasks, config)
        sink = _Sink()
        writer = pq.ParquetWriter(sink, table.schema)
        for batch in table.batches(rest, options, self.batch_size):
            writer.write_batch(batch)
            yield sink.drain()
        writer.close()
        yield sink.drain()


class HfDatasetFormat(ParquetFormat):
    """A zip of a folder that ``datasets.load_from_disk`` loads."""

    name = "HF_DATASET"
    title = "Hugging Face dataset"
    description = "Zip of a datasets.load_from_disk folder (Arrow stream + dataset_info/state)."
    media_type = "application/zip"
    extension = ".zip"

    def stream(
        self, tasks: Iterable[Task], config: LabelConfig, options: ExportOptions
    ) -> Iterator[bytes]:
        """Yields the zip: the Arrow file streamed batch by batch, then the JSON metadata."""
        table, rest = _start(tasks, config)
        digest = hashlib.sha256()
        archive = ZipStream()
        yield from archive.add_stream(ARROW_FILE, self._arrow(table, rest, options, digest))
        features = {
            f.name: {"dtype": "int64" if f.name == "id" else "string", "_type": "Value"}
            for f in table.schema
        }
        info = {
            "citation": "",
            "description": "Exported from labelops",
            "features": features,
            "homepage": "",
            "license": "",
        }
        state: dict[str, Any] = {
            "_data_files": [{"filename": ARROW_FILE}],
            "_fingerprint": digest.hexdigest()[:16],
            "_format_columns": None,
            "_format_kwargs": {},
            "_format_type": None,
            "_output_all_columns": False,
            "_split": None,
        }
        yield archive.add("dataset_info.json", json.dumps(info, indent=2).encode())
        yield archive.add("state.json", json.dumps(state, indent=2).encode())
        yield archive.close()

    def _arrow(
        self, table: _Table, tasks: Iterator[Task], options: ExportOptions, digest: Any
    ) -> Iterator[bytes]:
        sink = _Sink()
        writer = pa.ipc.new_stream(sink, table.schema)
        for batch in table.batches(tasks, options, self.batch_size):
            writer.write_batch(batch)
            data = sink.drain()
            digest.update(data)
            yield data
        writer.close()
        data = sink.drain()
        digest.update(data)
        yield data


TABULAR_FORMATS: tuple[ExportFormat, ...] = (ParquetFormat(), HfDatasetFormat())
