import io
import json

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AnnotationRow, ImportBatchRow, PredictionRow, TaskRow, UserRow
from labelops.domain.errors import TaskImportError
from labelops.services.imports import ImportOptions, ImportSource, import_source
from tests.factories import make_project, make_user


def _import(session: Session, project, payload: bytes, fmt: str, **options):
    source = ImportSource.of_stream(f"upload.{fmt}", io.BytesIO(payload))
    return import_source(session, project, source, ImportOptions(**options))


def _count(session: Session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize(
    ("fmt", "payload"),
    [
        # a JSON list of flat dicts: each dict is the task's data
        ("json", json.dumps([{"text": "a"}, {"text": "b"}, {"text": "c"}]).encode()),
        # JSON lines, blank lines ignored
        ("jsonl", b'{"text": "a"}\n\n{"text": "b"}\n{"data": {"text": "c"}}\n'),
        # CSV with a header row; quoted commas stay in the value
        ("csv", b'text,source\na,x\n"b, with comma",y\nc,z\n'),
        # TSV
        ("tsv", b"text\tsource\na\tx\nb\ty\nc\tz\n"),
    ],
)
def test_imports_three_tasks_from_each_plain_format(
    session: Session, fmt: str, payload: bytes
) -> None:
    project = make_project(session)
    report = _import(session, project, payload, fmt, return_task_ids=True)
    session.commit()
    assert report.num_tasks == 3
    assert len(report.task_ids) == 3
    assert project.num_tasks == 3
    texts = sorted(session.scalars(sa.select(TaskRow.data["text"].as_string())))
    assert texts[0] == "a" and len(texts) == 3


def test_imports_parquet(session: Session) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"text": ["x", "y"], "n": [1, 2]}), buffer)
    project = make_project(session)
    report = _import(session, project, buffer.getvalue(), "parquet")
    assert report.num_tasks == 2
    assert {t.data["n"] for t in session.scalars(sa.select(TaskRow))} == {1, 2}


def test_a_bad_row_rejects_the_whole_batch_naming_file_and_row(session: Session) -> None:
    project = make_project(session)
    session.commit()
    rows = [{"text": f"t{i}"} for i in range(7000)]
    rows[6500] = {"body": "no text field"}
    with pytest.raises(TaskImportError) as err:
        _import(session, project, json.dumps(rows).encode(), "json")
    session.rollback()
    assert err.value.row == 6501
    assert err.value.field == "text"
    assert "upload.json" in str(err.value) and "row 6501" in str(err.value)
    assert _count(session, TaskRow) == 0
    assert _count(session, ImportBatchRow) == 0


_UNKNOWN_LABEL_TASK = {
    "data": {"text": "hello"},
    "annotations": [
        {
            "result": [
                {
                    "from_name": "sentiment",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["Furious"]},
                }
            ]
        }
    ],
}


def test_keeps_an_imported_annotation_with_an_unknown_label_and_reports_it(
    session: Session,
) -> None:
    project = make_project(session)
    report = _import(session, project, json.dumps([_UNKNOWN_LABEL_TASK]).encode(), "json")
    session.commit()
    assert (report.num_tasks, report.num_annotations) == (1, 1)
    (problem,) = report.problems
    assert problem["row"] == 1 and problem["source"] == "upload.json"
    assert problem["field"] == "annotations[0].result[0].value.choices"
    assert "Furious" in problem["message"]
    stored = session.scalars(sa.select(AnnotationRow.result)).one()
    assert stored[0]["value"] == {"choices": ["Furious"]}


def test_strict_import_rejects_an_annotation_with_an_unknown_label(session: Session) -> None:
    project = make_project(session)
    session.commit()
    with pytest.raises(TaskImportError) as err:
        _import(session, project, json.dumps([_UNKNOWN_LABEL_TASK]).encode(), "json", strict=True)
    session.rollback()
    assert err.value.row == 1
    assert err.value.field.startswith("annotations[0].result[0]")
    assert "Furious" in str(err.value)
    assert _count(session, TaskRow) == 0


def test_label_studio_export_keeps_annotations_predictions_and_annotators(session: Session) -> None:
    project = make_project(session, maximum_annotations=2)
    known = make_user(session, "known@example.com")
    session.commit()
    result = [
        {
            "id": "a",
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["Positive"]},
        }
    ]
    tasks = [
        {
            "id": 77,
            "data": {"text": "great"},
            "annotations": [
                {"completed_by": 10, "result": result, "lead_time": 3.5},
                {"completed_by": {"id": 11, "email": "known@example.com"}, "result": result},
                {"completed_by": 12, "result": [], "was_cancelled": True},
            ],
            "predictions": [{"model_version": "m1", "score": 0.7, "result": result}],
        }
    ]
    report = _import(session, project, json.dumps(tasks).encode(), "json")
    session.commit()
    assert (report.num_tasks, report.num_annotations, report.num_predictions) == (1, 2, 1)
    task = session.scalars(sa.select(TaskRow)).one()
    assert task.total_annotations == 2 and task.cancelled_annotations == 1
    assert task.is_labeled and task.state == "completed"
    assert task.prediction_score == pytest.approx(0.7)
    annotators = session.scalars(
        sa.select(AnnotationRow.completed_by_id).order_by(AnnotationRow.id)
    ).all()
    assert known.id not in annotators  # a file cannot make an existing account the author
    imported = session.scalars(sa.select(UserRow).where(UserRow.is_imported)).all()
    emails = sorted(u.email for u in imported)
    assert "imported-10@labelops.invalid" in emails
    assert "imported-12@labelops.invalid" in emails
    assert len(emails) == 3 and "known@example.com" not in emails
    assert len(set(annotators)) == 3
    assert _count(session, PredictionRow) == 1


def test_dedupe_skips_tasks_already_in_the_project_and_repeated_in_the_file(
    session: Session,
) -> None:
    project = make_project(session)
    _import(session, project, json.dumps([{"text": "a"}, {"text": "b"}]).encode(), "json")
    report = _import(
        session,
        project,
        json.dumps([{"text": "b"}, {"text": "c"}, {"text": "c"}, {"text": "a"}]).encode(),
        "json",
        dedupe=True,
    )
    assert report.num_tasks == 1 and report.num_duplicates == 3
    assert project.num_tasks == 3


def test_without_dedupe_identical_tasks_are_kept(session: Session) -> None:
    project = make_project(session)
    report = _import(session, project, json.dumps([{"text": "a"}, {"text": "a"}]).encode(), "json")
    assert report.num_tasks == 2


def test_malformed_json_names_the_file(session: Session) -> None:
    project = make_project(session)
    with pytest.raises(TaskImportError, match=r"upload\.json"):
        _import(session, project, b'[{"text": "a"}, {"text": ', "json")


def test_csv_row_with_too_many_columns_is_named(session: Session) -> None:
    project = make_project(session)
    with pytest.raises(TaskImportError) as err:
        _import(session, project, b"text\na\nb,extra\n", "csv")
    assert err.value.row == 3


def test_large_import_spans_several_chunks_with_consecutive_ids(session: Session) -> None:
    project = make_project(session)
    payload = "\n".join(json.dumps({"text": f"t{i}"}) for i in range(12_345)).encode()
    report = _import(session, project, payload, "jsonl", return_task_ids=True)
    session.commit()
    assert report.num_tasks == 12_345
    assert len(set(report.task_ids)) == 12_345
    assert _count(session, TaskRow) == 12_345
    row = session.get_one(TaskRow, report.task_ids[-1])
    assert row.data == {"text": "t12344"}


def test_an_edited_task_is_hashed_as_an_import_hashes_it(session: Session) -> None:
    from labelops.services.tasks import update_task

    project = make_project(session)
    report = _import(session, project, b'[{"text": "old"}]', "json", return_task_ids=True)
    task = session.get_one(TaskRow, report.task_ids[0])
    update_task(task, {"data": {"text": "new"}}, required_fields=("text",))
    session.flush()

    again = _import(session, project, b'[{"text": "new"}]', "json", dedupe=True)

    assert (again.num_tasks, again.num_duplicates) == (0, 1)
