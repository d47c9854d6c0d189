"""Overlap and authorship: the attacks of issue item 6, each refused at the service.

Every test runs on SQLite and PostgreSQL (``database_url`` behind ``app``). The labeling page
saves through the same API endpoints, so the API tests cover it; the review page is driven
through its own form.
"""

import io
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from labelops.cli import main
from labelops.db.engine import make_engine
from labelops.db.models import AnnotationRow, TaskRow, UserRow
from labelops.services.errors import PermissionDeniedError
from labelops.services.imports import ImportOptions, ImportSource, import_source
from labelops.services.users import get_user_by_email, issue_token
from labelops.web.extensions import db
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user

MANAGER, ANN_A, ANN_B, REVIEWER = (
    "manager@example.com",
    "a@example.com",
    "b@example.com",
    "rev@example.com",
)


def _seed(app: Flask, *, overlap: int = 1, tasks: int = 2) -> dict[str, Any]:
    """Returns ids and token headers of a project with a manager, two annotators, a reviewer."""
    with app.app_context():
        manager = make_user(db.session, MANAGER)
        project = make_project(db.session, manager, maximum_annotations=overlap)
        headers: dict[str, dict[str, str]] = {}
        ids: dict[str, int] = {MANAGER: manager.id}
        for email, role in ((ANN_A, "annotator"), (ANN_B, "annotator"), (REVIEWER, "reviewer")):
            user = make_user(db.session, email)
            add_member(db.session, project, user, role)
            ids[email] = user.id
        for email, user_id in ids.items():
            key = issue_token(db.session, db.session.get_one(UserRow, user_id))
            headers[email] = {"Authorization": f"Token {key}"}
        task_ids = [t.id for t in make_tasks(db.session, project, tasks)]
        db.session.commit()
        return {"project": project.id, "tasks": task_ids, "headers": headers, "ids": ids}


def _annotations(app: Flask, task_id: int) -> list[AnnotationRow]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AnnotationRow)
                .where(AnnotationRow.task_id == task_id)
                .order_by(AnnotationRow.id)
            )
        )


def _post(client: FlaskClient, task_id: int, headers: dict[str, str], **body: Any) -> Any:
    payload = {"result": choice_result("Positive"), **body}
    return client.post(f"/api/tasks/{task_id}/annotations", json=payload, headers=headers)


def test_an_annotator_cannot_post_a_second_annotation_on_a_task(
    app: Flask, client: FlaskClient
) -> None:
    seed = _seed(app, overlap=3)
    task, headers = seed["tasks"][0], seed["headers"][ANN_A]
    first = _post(client, task, headers)
    assert first.status_code == 201
    first_id = first.get_json()["id"]
    # the attack: the same annotator posts again (and again as a skip) to stack their vote
    for body in ({}, {"result": [], "was_cancelled": True}):
        again = _post(client, task, headers, **body)
        assert again.status_code == 409
        detail = again.get_json()["detail"]
        assert f"annotation {first_id}" in detail and f"/api/annotations/{first_id}" in detail
        assert again.get_json()["status_code"] == 409
    assert [a.id for a in _annotations(app, task)] == [first_id]
    # the way to change it is PATCH, which still works
    changed = client.patch(
        f"/api/annotations/{first_id}", json={"result": choice_result("Negative")}, headers=headers
    )
    assert changed.status_code == 200
    with app.app_context():
        assert db.session.get_one(TaskRow, task).total_annotations == 1


def test_a_completed_task_accepts_no_annotation_from_annotators_but_manager_ground_truth(
    app: Flask, client: FlaskClient
) -> None:
    seed = _seed(app, overlap=1)
    task, h = seed["tasks"][0], seed["headers"]
    assert _post(client, task, h[ANN_A]).status_code == 201
    # the attack: another annotator (and a reviewer) annotate the completed task
    for email in (ANN_B, REVIEWER):
        refused = _post(client, task, h[email])
        assert refused.status_code == 409, email
        assert f"task {task} is full" in refused.get_json()["detail"]
    # a manager's plain label is refused too; a manager's ground truth is not
    assert _post(client, task, h[MANAGER]).status_code == 409
    truth = _post(client, task, h[MANAGER], ground_truth=True)
    assert truth.status_code == 201 and truth.get_json()["ground_truth"] is True
    stored = _annotations(app, task)
    assert [a.completed_by_id for a in stored] == [seed["ids"][ANN_A], seed["ids"][MANAGER]]


def test_a_slot_held_by_the_queue_is_not_taken_by_a_direct_post(
    app: Flask, client: FlaskClient
) -> None:
    seed = _seed(app, overlap=1, tasks=1)
    (task,) = seed["tasks"]
    h = seed["headers"]
    handed = client.get(f"/api/projects/{seed['project']}/next", headers=h[ANN_A])
    assert handed.status_code == 200 and handed.get_json()["id"] == task
    # B never asked the queue; posting straight to the task must not steal A's slot
    stolen = _post(client, task, h[ANN_B])
    assert stolen.status_code == 409
    assert "holding it" in stolen.get_json()["detail"]
    assert _post(client, task, h[ANN_A]).status_code == 201
    assert [a.completed_by_id for a in _annotations(app, task)] == [seed["ids"][ANN_A]]


def test_turning_a_skip_into_a_label_respects_the_overlap(app: Flask, client: FlaskClient) -> None:
    seed = _seed(app, overlap=1, tasks=1)
    (task,) = seed["tasks"]
    h = seed["headers"]
    skip = _post(client, task, h[ANN_A], result=[], was_cancelled=True)
    assert skip.status_code == 201
    assert _post(client, task, h[ANN_B]).status_code == 201
    revived = client.patch(
        f"/api/annotations/{skip.get_json()['id']}",
        json={"was_cancelled": False, "result": choice_result("Negative")},
        headers=h[ANN_A],
    )
    assert revived.status_code == 409
    with app.app_context():
        assert db.session.get_one(TaskRow, task).total_annotations == 1
    assert _annotations(app, task)[0].was_cancelled


def test_only_managers_set_ground_truth(app: Flask, client: FlaskClient) -> None:
    seed = _seed(app, overlap=2)
    task, h = seed["tasks"][0], seed["headers"]
    # the attack: an annotator marks their own label as ground truth (it would win consensus)
    refused = _post(client, task, h[ANN_A], ground_truth=True)
    assert refused.status_code == 403
    assert "ground_truth" in refused.get_json()["detail"]
    assert _annotations(app, task) == []
    mine = _post(client, task, h[ANN_A], ground_truth=False)
    assert mine.status_code == 201
    url = f"/api/annotations/{mine.get_json()['id']}"
    assert client.patch(url, json={"ground_truth": True}, headers=h[ANN_A]).status_code == 403
    assert client.patch(url, json={"ground_truth": True}, headers=h[REVIEWER]).status_code == 403
    assert not _annotations(app, task)[0].ground_truth
    # sending the flag unchanged (as Label Studio clients do) is fine
    same = client.patch(url, json={"ground_truth": False}, headers=h[ANN_A])
    assert same.status_code == 200
    promoted = client.patch(url, json={"ground_truth": True}, headers=h[MANAGER])
    assert promoted.status_code == 200 and promoted.get_json()["ground_truth"] is True


def _csrf(client: FlaskClient) -> str:
    html = client.get("/projects").get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found
    return found.group(1)


def test_a_reviewer_cannot_accept_their_own_annotation_on_the_review_page_or_the_api(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    seed = _seed(app, overlap=1)
    task, h = seed["tasks"][0], seed["headers"]
    own = _post(client, task, h[REVIEWER])
    assert own.status_code == 201
    annotation_id = own.get_json()["id"]
    auth.login(REVIEWER, "password123")
    # the attack: the review page's form accepts the reviewer's own work
    page = client.post(
        f"/projects/{seed['project']}/review/annotations/{annotation_id}",
        data={"decision": "accepted", "csrf_token": _csrf(client)},
        follow_redirects=True,
    )
    assert page.status_code == 200
    assert "cannot review their own annotations" in page.get_data(as_text=True)
    api = client.post(
        f"/api/annotations/{annotation_id}/review",
        json={"decision": "accepted"},
        headers=h[REVIEWER],
    )
    assert api.status_code == 403
    (stored,) = _annotations(app, task)
    assert stored.review_state is None and stored.reviewed_by_id is None
    with app.app_context():
        assert db.session.get_one(TaskRow, task).state == "completed"
    # another reviewer (the manager) may
    decided = client.post(
        f"/api/annotations/{annotation_id}/review",
        json={"decision": "accepted"},
        headers=h[MANAGER],
    )
    assert decided.status_code == 200 and decided.get_json()["review_state"] == "accepted"


def _export_naming(*emails: str) -> bytes:
    """Returns a Label Studio JSON export whose annotations name the given annotator emails."""
    return json.dumps(
        [
            {
                "id": 100 + i,
                "data": {"text": f"imported {i}"},
                "annotations": [
                    {
                        "completed_by": {"id": 900 + i, "email": email},
                        "result": choice_result("Positive"),
                    }
                ],
            }
            for i, email in enumerate(emails)
        ]
    ).encode()


def _import(
    client: FlaskClient, project: int, headers: dict[str, str], payload: bytes, q: str = ""
) -> Any:
    return client.post(
        f"/api/projects/{project}/import?format=JSON{q}",
        data=payload,
        headers={**headers, "Content-Type": "application/json"},
    )


def _authors(app: Flask, project: int) -> list[UserRow]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(UserRow)
                .join(AnnotationRow, AnnotationRow.completed_by_id == UserRow.id)
                .where(AnnotationRow.project_id == project)
                .order_by(AnnotationRow.id)
            )
        )


def test_an_import_cannot_attribute_annotations_to_existing_accounts(
    app: Flask, client: FlaskClient
) -> None:
    seed = _seed(app)
    # the attack: a file names real accounts (a project member and an outsider) as the authors
    payload = _export_naming(ANN_A, "Ann@Outside.io", ANN_A, "b2@example.com")
    with app.app_context():
        outsider = make_user(db.session, "ann@outside.io")
        db.session.commit()
        outsider_id = outsider.id
    response = _import(client, seed["project"], seed["headers"][MANAGER], payload)
    assert response.status_code == 201, response.get_json()
    authors = _authors(app, seed["project"])
    assert len(authors) == 4
    assert all(a.is_imported and a.password_hash is None for a in authors)
    assert all(re.fullmatch(r"imported-[0-9a-f]{16}@labelops\.invalid", a.email) for a in authors)
    assert not {a.id for a in authors} & {seed["ids"][ANN_A], outsider_id}
    # distinct per email (so agreement survives), the same for the same email
    assert authors[0].id == authors[2].id
    assert len({a.id for a in authors}) == 3


def test_a_manager_may_map_imported_annotators_to_project_members_explicitly(
    app: Flask, client: FlaskClient
) -> None:
    seed = _seed(app)
    payload = _export_naming(ANN_A, "stranger@outside.io")
    response = _import(
        client, seed["project"], seed["headers"][MANAGER], payload, "&map_annotators_by_email=true"
    )
    assert response.status_code == 201, response.get_json()
    member, stranger = _authors(app, seed["project"])
    assert member.id == seed["ids"][ANN_A]
    assert stranger.is_imported and stranger.email.endswith("@labelops.invalid")
    # an annotator may neither import nor ask for the mapping
    refused = _import(
        client, seed["project"], seed["headers"][ANN_A], payload, "&map_annotators_by_email=true"
    )
    assert refused.status_code == 403


def test_the_mapping_option_is_refused_to_non_managers_in_the_service(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            manager, annotator = make_user(session, MANAGER), make_user(session, ANN_A)
            project = make_project(session, manager)
            add_member(session, project, annotator, "annotator")
            session.commit()
            source = io.BytesIO(_export_naming(MANAGER))
            with pytest.raises(PermissionDeniedError, match="map_annotators_by_email"):
                import_source(
                    session,
                    project,
                    ImportSource.of_stream("forged.json", source),
                    ImportOptions(
                        format_name="JSON",
                        created_by_id=annotator.id,
                        map_annotators_by_email=True,
                    ),
                )
            session.rollback()
            assert session.scalar(sa.select(sa.func.count()).select_from(AnnotationRow)) == 0
    finally:
        engine.dispose()


def test_cli_import_maps_members_only_with_its_flag(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABELOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            manager = make_user(session, MANAGER)
            project = make_project(session, manager)
            add_member(session, project, manager, "manager")
            session.commit()
            project_id, manager_id = project.id, manager.id
        export = tmp_path / "export.json"
        export.write_bytes(_export_naming(MANAGER))
        runner = CliRunner()
        for flags in ([], ["--map-annotators-by-email"]):
            result = runner.invoke(main, ["import", str(project_id), str(export), *flags])
            assert result.exit_code == 0, result.output
        with Session(engine) as session:
            authors = list(
                session.scalars(sa.select(AnnotationRow.completed_by_id).order_by(AnnotationRow.id))
            )
            assert authors[1] == manager_id and authors[0] != manager_id
            assert get_user_by_email(session, MANAGER).id == manager_id
    finally:
        engine.dispose()


def test_the_service_refuses_a_full_task_to_direct_callers(app: Flask) -> None:
    from labelops.services.annotations import create_annotation
    from labelops.services.errors import ConflictError

    seed = _seed(app, overlap=1, tasks=1)
    with app.app_context():
        task = db.session.get_one(TaskRow, seed["tasks"][0])
        when = datetime(2024, 1, 1)
        create_annotation(
            db.session, task, user_id=seed["ids"][ANN_A], result=choice_result("Positive"), now=when
        )
        with pytest.raises(ConflictError, match="is full"):
            create_annotation(
                db.session,
                task,
                user_id=seed["ids"][ANN_B],
                result=choice_result("Positive"),
                now=when,
            )
