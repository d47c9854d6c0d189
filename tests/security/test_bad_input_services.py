"""The service boundary refuses what the API refuses, so the CLI and bucket sync do too (both DBs).

The CLI's ``labelops import`` and bucket sync call ``import_source``; task edits go
through ``tasks.update_task``. A ``meta`` that is not an object used to be stored and then broke the
project's export; NUL characters broke PostgreSQL; deep data broke the JSON writer.
"""

import io
import json
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import TaskRow
from labelops.domain.errors import TaskImportError
from labelops.domain.json_limits import MAX_JSON_DEPTH, JsonLimitError, check_json
from labelops.services import projects as project_service
from labelops.services import tasks as task_service
from labelops.services.imports import ImportOptions, ImportSource, import_source
from tests.factories import TEXT_CONFIG


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


BAD_FILES = [
    ("meta not an object", [{"data": {"text": "x"}, "meta": "m"}], "meta"),
    ("NUL in data", [{"text": "ok"}, {"text": "a\x00b"}], "data.text"),
    ("NUL in a key", [{"text": "ok", "k\x00": 1}], "data.k\\u0000"),
    ("data nested 300 deep", [{"text": "x", "d": _nested(300)}], "data.d"),
    (
        "NUL in a result",
        [{"data": {"text": "x"}, "annotations": [{"result": [{"v": "\x00"}]}]}],
        "annotations[0].result[0].v",
    ),
    (
        "lead_time Infinity",
        [{"data": {"text": "x"}, "annotations": [{"lead_time": "inf"}]}],
        "annotations[0].lead_time",
    ),
    (
        "lead_time beyond the cap",
        [{"data": {"text": "x"}, "annotations": [{"lead_time": 1e20}]}],
        "annotations[0].lead_time",
    ),
    (
        "prediction score NaN",
        [{"data": {"text": "x"}, "predictions": [{"score": "nan"}]}],
        "predictions[0].score",
    ),
]


@pytest.mark.parametrize(
    ("items", "field"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_the_import_service_refuses_bad_task_json_and_writes_nothing(
    session: Session, items: list[Any], field: str
) -> None:
    project = project_service.create_project(session, created_by=None, label_config=TEXT_CONFIG)
    session.commit()
    source = io.BytesIO(json.dumps(items).encode())
    with pytest.raises(TaskImportError) as caught:
        import_source(
            session, project, ImportSource.of_stream("tasks.json", source), ImportOptions()
        )
    session.rollback()
    assert caught.value.field is not None and caught.value.field.startswith(field)
    assert session.scalar(sa.select(sa.func.count(TaskRow.id))) == 0


def test_update_task_refuses_non_object_meta_and_deep_data(session: Session) -> None:
    project = project_service.create_project(session, created_by=None, label_config=TEXT_CONFIG)
    session.flush()
    report = import_source(
        session,
        project,
        ImportSource.of_stream("t.json", io.BytesIO(b'[{"text": "x"}]')),
        ImportOptions(return_task_ids=True),
    )
    task = task_service.get_task(session, report.task_ids[0])
    session.commit()
    for changes, field in [
        ({"meta": "m"}, "meta"),
        ({"meta": [1]}, "meta"),
        ({"data": "x"}, "data"),
        ({"data": {"text": "x", "d": _nested(100)}}, "data.d"),
        ({"data": {"other": "x"}}, "text"),
        ({"priority": float("inf")}, "priority"),
        ({"priority": True}, "priority"),
        ({"bogus": 1}, "bogus"),
    ]:
        with pytest.raises(TaskImportError) as caught:
            task_service.update_task(task, changes, required_fields=("text",))
        assert caught.value.field is not None and caught.value.field.startswith(field), changes
    session.rollback()
    stored = session.get(TaskRow, task.id)
    assert stored is not None and stored.data == {"text": "x"} and stored.meta == {}


def test_check_json_is_iterative_and_names_the_path() -> None:
    check_json(_nested(MAX_JSON_DEPTH - 1))
    with pytest.raises(JsonLimitError) as caught:
        check_json(_nested(100_000), "data")
    assert caught.value.path.startswith("data[0][0]")
    for value, path in [
        ({"a": [1, {"b": float("nan")}]}, "a[1].b"),
        ({"a": 2**64}, "a"),
        ({"a": ["x", "y\x00"]}, "a[1]"),
    ]:
        with pytest.raises(JsonLimitError) as caught:
            check_json(value)
        assert caught.value.path == path
