import io
import json
import tracemalloc
import zipfile
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from labelops.domain.formats.options import ExportOptions
from labelops.domain.formats.registry import get_export_format
from labelops.domain.records import Task
from tests.domain.formats.helpers import TEXT_NER, ann, choice, span, task
from tests.domain.formats.test_writers_text import TASKS


def export(name: str, tasks=TASKS) -> bytes:
    return b"".join(get_export_format(name).stream(iter(tasks), TEXT_NER, ExportOptions()))


def test_parquet_reads_back_one_row_per_task() -> None:
    table = pq.read_table(io.BytesIO(export("PARQUET")))
    assert table.column_names == ["id", "text", "annotations", "label", "sentiment"]
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == [1, 2, 3]
    # per-control values of the newest annotation (id 12)
    assert rows[0]["sentiment"] == '["pos", "neg"]'
    assert json.loads(rows[0]["label"])[0]["text"] == "today."
    assert [a["id"] for a in json.loads(rows[0]["annotations"])] == [12, 11]
    assert rows[1]["label"] is None and json.loads(rows[1]["annotations"]) == []


def test_hf_dataset_folder_loads_with_pyarrow_and_has_datasets_metadata() -> None:
    z = zipfile.ZipFile(io.BytesIO(export("HF_DATASET")))
    assert sorted(z.namelist()) == [
        "data-00000-of-00001.arrow",
        "dataset_info.json",
        "state.json",
    ]
    table = pa.ipc.open_stream(z.read("data-00000-of-00001.arrow")).read_all()
    assert table.num_rows == 3
    info = json.loads(z.read("dataset_info.json"))
    assert info["features"]["id"] == {"dtype": "int64", "_type": "Value"}
    assert info["features"]["text"] == {"dtype": "string", "_type": "Value"}
    assert list(info["features"]) == table.column_names
    state = json.loads(z.read("state.json"))
    assert state["_data_files"] == [{"filename": "data-00000-of-00001.arrow"}]
    assert len(state["_fingerprint"]) == 16 and state["_split"] is None


def test_tabular_exports_twice_give_identical_bytes() -> None:
    assert export("PARQUET") == export("PARQUET")
    assert export("HF_DATASET") == export("HF_DATASET")


N = 50_000
TEXT = "word " * 40  # ~200 characters per task


def synthetic(n: int, pulled: list[int]) -> Iterator[Task]:
    for i in range(n):
        pulled[0] += 1
        yield task(
            {"text": f"{i} {TEXT}"},
            ann([span(0, 4, "word", "PER"), choice("pos")], id=i, completed_by=1),
            id=i,
        )


def peak_while_streaming(name: str) -> tuple[int, int, int]:
    """Returns (bytes written, peak traced memory, tasks pulled before the first chunk)."""
    pulled = [0]
    tracemalloc.start()
    chunks = get_export_format(name).stream(synthetic(N, pulled), TEXT_NER, ExportOptions())
    first = next(chunks)
    pulled_at_first = pulled[0]
    total = len(first) + sum(len(c) for c in chunks)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return total, peak, pulled_at_first


def test_json_export_streams_in_constant_memory() -> None:
    total, peak, pulled_at_first = peak_while_streaming("JSON")
    assert total > 30_000_000 // 2  # tens of MB of output
    assert pulled_at_first < N  # the first chunk comes before all tasks are read
    assert peak < total / 10
    assert peak < materialized_size() / 10


def materialized_size() -> int:
    """Returns the traced memory of holding all N tasks in a list (estimated from N / 10)."""
    tracemalloc.start()
    held = list(synthetic(N // 10, [0]))
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del held
    return size * 10


def test_parquet_export_streams_in_row_groups() -> None:
    _, peak, pulled_at_first = peak_while_streaming("PARQUET")
    assert pulled_at_first <= 10_000  # one row group
    assert peak < materialized_size() / 2
