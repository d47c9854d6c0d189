import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelops.domain.errors import TaskImportError, UnknownFormatError
from labelops.domain.formats.readers import normalize_task
from labelops.domain.formats.registry import ROW_READERS, file_type


def read_rows(stream: io.BytesIO, fmt: str, name: str):
    return ROW_READERS[fmt](stream, name)


def _rows(payload: bytes, fmt: str) -> list:
    return list(read_rows(io.BytesIO(payload), fmt, f"f.{fmt}"))


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("tasks.json", "json"),
        ("TASKS.JSONL", "jsonl"),  # case-insensitive
        ("a.ndjson", "jsonl"),
        ("x.csv", "csv"),
        ("x.tsv", "tsv"),
        ("x.parquet", "parquet"),
        ("notes.txt", "txt"),
        ("photo.SVG", "image"),
        ("voice.opus", "audio"),
    ],
)
def test_detects_file_type_from_extension(name: str, fmt: str) -> None:
    assert file_type(name).name == fmt


def test_unknown_extension_names_the_file() -> None:
    with pytest.raises(UnknownFormatError, match=r"report\.docx"):
        file_type("report.docx")


def test_plain_text_gives_one_row_per_non_blank_line() -> None:
    assert _rows(b"first line\n\nsecond, with a comma\r\nthird", "txt") == [
        (1, "first line"),
        (3, "second, with a comma"),
        (4, "third"),
    ]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b'[{"text": "a"}]', [(1, {"text": "a"})]),  # a list
        (
            b'  \n [{"text": "a"}, {"text": "b"}]',
            [(1, {"text": "a"}), (2, {"text": "b"})],
        ),  # leading space
        (b'\xef\xbb\xbf[{"text": "a"}]', [(1, {"text": "a"})]),  # UTF-8 byte order mark
        (b'{"text": "single"}', [(1, {"text": "single"})]),  # one task object
    ],
)
def test_reads_json(payload: bytes, expected: list) -> None:
    assert _rows(payload, "json") == expected


def test_json_that_is_not_a_list_or_object_is_rejected() -> None:
    with pytest.raises(TaskImportError, match="JSON list"):
        _rows(b'"just a string"', "json")


def test_jsonl_error_names_the_line() -> None:
    with pytest.raises(TaskImportError) as err:
        _rows(b'{"text": "a"}\n{"text": oops}\n', "jsonl")
    assert err.value.row == 2 and "f.jsonl" in str(err.value)


def test_csv_keeps_unicode_and_quoted_newlines() -> None:
    rows = _rows('text,lang\n"line one\nline two",en\n日本語 ✓,ja\n'.encode(), "csv")
    assert rows == [
        (2, {"text": "line one\nline two", "lang": "en"}),
        (3, {"text": "日本語 ✓", "lang": "ja"}),
    ]


def test_csv_with_an_empty_header_name_is_rejected() -> None:
    with pytest.raises(TaskImportError, match="empty column name"):
        _rows(b"text,\na,b\n", "csv")


def test_csv_that_is_not_utf8_is_rejected() -> None:
    with pytest.raises(TaskImportError, match="UTF-8"):
        _rows("text\ncafé\n".encode("latin-1"), "csv")


def test_csv_reader_leaves_the_stream_open() -> None:
    stream = io.BytesIO(b"text\na\n")
    list(read_rows(stream, "csv", "f.csv"))
    assert not stream.closed and stream.tell() == 7


def test_parquet_rows_are_numbered_across_batches() -> None:
    buffer = io.BytesIO()
    pq.write_table(
        pa.table({"text": [f"t{i}" for i in range(25_000)]}), buffer, row_group_size=7_000
    )
    rows = _rows(buffer.getvalue(), "parquet")
    assert len(rows) == 25_000 and rows[-1] == (25_000, {"text": "t24999"})


def test_not_parquet_is_rejected() -> None:
    with pytest.raises(TaskImportError, match="not a Parquet file"):
        _rows(b"text\na\n", "parquet")


def test_normalize_full_task_keeps_annotations_and_predictions() -> None:
    item = {
        "data": {"text": "x"},
        "annotations": [
            {"result": [], "completed_by": {"id": 4, "email": "A@B.io"}, "lead_time": "2.5"}
        ],
        "predictions": [{"result": [], "score": 0.5, "model_version": 3}],
    }
    task = normalize_task(item, source="f.json", row=1, required_fields=("text",))
    assert task.data == {"text": "x"}
    assert (
        task.annotations[0].completed_by == 4 and task.annotations[0].completed_by_email == "A@B.io"
    )
    assert task.annotations[0].lead_time == 2.5
    assert task.predictions[0].model_version == "3" and task.predictions[0].score == 0.5


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"data": {"txt": "x"}}, "text"),  # missing data field
        ({"data": {"text": "x"}, "annotations": ["nope"]}, "annotations[0]"),  # not an object
        ({"data": {"text": "x"}, "annotations": [{"result": {}}]}, "annotations[0].result"),
        (
            {"data": {"text": "x"}, "predictions": [{"result": [], "score": "high"}]},
            "predictions[0].score",
        ),
    ],
)
def test_normalize_names_the_bad_field(item: dict, field: str) -> None:
    with pytest.raises(TaskImportError) as err:
        normalize_task(item, source="f.json", row=7, required_fields=("text",))
    assert err.value.field == field and err.value.row == 7


def test_a_list_item_that_is_not_an_object_is_rejected() -> None:
    with pytest.raises(TaskImportError, match="expected a JSON object, got list"):
        normalize_task(["x"], source="f.json", row=1)


def test_json_is_streamed_not_loaded_whole() -> None:
    payload = json.dumps([{"text": str(i)} for i in range(3)]).encode()
    stream = io.BytesIO(payload)
    rows = read_rows(stream, "json", "f.json")
    assert next(rows) == (1, {"text": "0"})
