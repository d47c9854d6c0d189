"""Webhooks in Label Studio's API and payloads, delivered from the outbox by the worker.

Each event is written by the service that makes the change, in its transaction; nothing is sent
during the request (the receiver has nothing until the worker runs); deliveries retry with
backoff on an injected clock; private addresses are refused.
"""

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from labelops.db.engine import make_sessionmaker
from labelops.db.models import TaskRow, WebhookDeliveryRow, utcnow
from labelops.domain.webhooks import RetryPolicy
from labelops.services.annotations import create_annotation
from labelops.services.worker import Worker
from labelops.web.extensions import db
from tests.factories import TEXT_CONFIG, choice_result
from tests.web.helpers import user_with_token
from tests.worker_helpers import Receiver, allow_outbound, drain, receiver, worker_of


@pytest.fixture
def hook(app: Flask) -> Iterator[Receiver]:
    with receiver() as state:
        allow_outbound(app, urlsplit(state.url).netloc)
        yield state


@pytest.fixture
def admin(app: Flask) -> dict[str, str]:
    return user_with_token(app, "admin@example.com", admin=True)[1]


def _project(client: FlaskClient, headers: dict[str, str]) -> int:
    body = {"title": "Hooks", "label_config": TEXT_CONFIG}
    response = client.post("/api/projects", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def _deliveries(app: Flask) -> list[WebhookDeliveryRow]:
    with app.app_context():
        return list(db.session.scalars(sa.select(WebhookDeliveryRow).order_by("id")))


def test_events_reach_a_local_receiver_in_label_studio_payloads_after_the_request(
    app: Flask, client: FlaskClient, admin: dict[str, str], hook: Receiver
) -> None:
    project_id = _project(client, admin)
    created = client.post(
        "/api/webhooks/",
        json={"url": hook.url, "project": project_id, "headers": {"X-Secret": "s3"}},
        headers=admin,
    )
    assert created.status_code == 201, created.json
    assert created.json["headers"] == {"X-Secret": "s3"}
    assert created.json["send_for_all_actions"] is True

    tasks = client.post(
        f"/api/projects/{project_id}/import", json=[{"text": "a"}, {"text": "b"}], headers=admin
    )
    assert tasks.status_code == 201
    task_ids = client.get(f"/api/projects/{project_id}/tasks", headers=admin).json
    first = task_ids[0]["id"]
    annotation = client.post(
        f"/api/tasks/{first}/annotations", json={"result": choice_result("Positive")}, headers=admin
    ).json
    client.patch(
        f"/api/annotations/{annotation['id']}",
        json={"result": choice_result("Negative")},
        headers=admin,
    )
    client.patch(f"/api/projects/{project_id}", json={"title": "Renamed"}, headers=admin)
    client.delete(f"/api/annotations/{annotation['id']}", headers=admin)
    client.delete(f"/api/tasks/{task_ids[1]['id']}", headers=admin)
    assert hook.requests == []  # nothing is sent in the request that made the change

    drain(app)
    assert hook.actions() == [
        "TASKS_CREATED",
        "ANNOTATION_CREATED",
        "ANNOTATION_UPDATED",
        "PROJECT_UPDATED",
        "ANNOTATIONS_DELETED",
        "TASKS_DELETED",
    ]
    by_action = {r.body["action"]: r for r in hook.requests}
    assert all(r.headers["X-Secret"] == "s3" for r in hook.requests)
    assert [t["data"] for t in by_action["TASKS_CREATED"].body["tasks"]] == [
        {"text": "a"},
        {"text": "b"},
    ]
    made = by_action["ANNOTATION_CREATED"].body
    assert set(made) == {"action", "annotation", "task", "project"}
    assert made["annotation"]["result"][0]["value"] == {"choices": ["Positive"]}
    assert made["annotation"]["task"] == first and made["task"]["id"] == first
    assert made["project"]["id"] == project_id and made["project"]["task_number"] == 2
    assert by_action["ANNOTATION_UPDATED"].body["annotation"]["result"][0]["value"] == {
        "choices": ["Negative"]
    }
    assert by_action["PROJECT_UPDATED"].body["project"]["title"] == "Renamed"
    assert by_action["ANNOTATIONS_DELETED"].body["annotations"] == [{"id": annotation["id"]}]
    assert by_action["TASKS_DELETED"].body["tasks"] == [{"id": task_ids[1]["id"]}]
    assert {d.status for d in _deliveries(app)} == {"delivered"}


def test_organization_webhook_gets_project_created_and_deleted_and_actions_filter(
    app: Flask, client: FlaskClient, admin: dict[str, str], hook: Receiver
) -> None:
    made = client.post(
        "/api/webhooks",
        json={
            "url": hook.url,
            "send_for_all_actions": False,
            "actions": ["PROJECT_CREATED", "PROJECT_DELETED"],
            "send_payload": True,
        },
        headers=admin,
    )
    assert made.status_code == 201, made.json
    assert made.json["project"] is None
    project_id = _project(client, admin)
    client.post(f"/api/projects/{project_id}/import", json=[{"text": "a"}], headers=admin)
    client.delete(f"/api/projects/{project_id}", headers=admin)
    drain(app)
    assert hook.actions() == ["PROJECT_CREATED", "PROJECT_DELETED"]
    assert hook.requests[0].body["project"]["title"] == "Hooks"
    assert hook.requests[1].body == {"action": "PROJECT_DELETED", "project": {"id": project_id}}


def test_send_payload_false_sends_only_the_action_and_review_events(
    app: Flask, client: FlaskClient, admin: dict[str, str], hook: Receiver
) -> None:
    project_id = _project(client, admin)
    client.post(f"/api/projects/{project_id}/import", json=[{"text": "a"}], headers=admin)
    task = client.get(f"/api/projects/{project_id}/tasks", headers=admin).json[0]
    _, annotator = user_with_token(app, "ann@example.com")
    client.post(
        f"/api/projects/{project_id}/members",
        json={"email": "ann@example.com", "role": "annotator"},
        headers=admin,
    )
    annotation = client.post(
        f"/api/tasks/{task['id']}/annotations",
        json={"result": choice_result("Positive")},
        headers=annotator,
    ).json
    client.post(
        "/api/webhooks",
        json={
            "url": hook.url,
            "project": project_id,
            "send_payload": False,
            "send_for_all_actions": False,
            "actions": ["REVIEW_CREATED", "REVIEW_UPDATED"],
        },
        headers=admin,
    )
    review = f"/api/annotations/{annotation['id']}/review"
    assert client.post(review, json={"decision": "rejected"}, headers=admin).status_code == 200
    assert client.post(review, json={"decision": "accepted"}, headers=admin).status_code == 200
    drain(app)
    assert [r.body for r in hook.requests] == [
        {"action": "REVIEW_CREATED"},
        {"action": "REVIEW_UPDATED"},
    ]


def test_a_rolled_back_annotation_sends_nothing(
    app: Flask, client: FlaskClient, admin: dict[str, str], hook: Receiver
) -> None:
    project_id = _project(client, admin)
    client.post("/api/webhooks", json={"url": hook.url, "project": project_id}, headers=admin)
    client.post(f"/api/projects/{project_id}/import", json=[{"text": "a"}], headers=admin)
    drain(app)
    before = len(_deliveries(app))
    with app.app_context():
        task = db.session.scalars(sa.select(TaskRow)).one()
        task_id = task.id
        create_annotation(
            db.session, task, user_id=1, result=choice_result("Positive"), now=utcnow()
        )
        assert len(db.session.scalars(sa.select(WebhookDeliveryRow)).all()) == before + 1
        db.session.rollback()
    bad = client.post(
        f"/api/tasks/{task_id}/annotations", json={"result": choice_result("Nope")}, headers=admin
    )
    assert bad.status_code == 422
    drain(app)
    assert len(_deliveries(app)) == before
    assert "ANNOTATION_CREATED" not in hook.actions()


def test_a_failing_receiver_is_retried_with_exponential_backoff_then_given_up(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    with receiver(statuses=[500]) as failing:
        allow_outbound(app, urlsplit(failing.url).netloc)
        project_id = _project(client, admin)
        client.post(
            "/api/webhooks", json={"url": failing.url, "project": project_id}, headers=admin
        )
        client.patch(f"/api/projects/{project_id}", json={"title": "x"}, headers=admin)
        start = utcnow() + timedelta(seconds=1)
        now = [start]
        with app.app_context():
            factory = make_sessionmaker(db.engine)
        policy = RetryPolicy(max_attempts=4, backoff_seconds=10, timeout_seconds=5)
        worker = Worker(
            factory,
            worker_of(app).root,
            clock=lambda: now[0],
            policy=policy,
            allowed_hosts=worker_of(app).allowed_hosts,
        )

        def attempt_at(offset: float) -> tuple[int, str]:
            now[0] = start + timedelta(seconds=offset)
            worker.drain()
            (delivery,) = _deliveries(app)
            return delivery.attempts, delivery.status

        # Attempts at 0 s, then 10 s, 20 s and 40 s later (10 * 2^(n-1)); none before it is due.
        assert attempt_at(0) == (1, "pending")
        assert attempt_at(9.9) == (1, "pending")
        assert attempt_at(10) == (2, "pending")
        assert attempt_at(29.9) == (2, "pending")
        assert attempt_at(30) == (3, "pending")
        assert attempt_at(69.9) == (3, "pending")
        assert attempt_at(70) == (4, "failed")
        assert attempt_at(10_000) == (4, "failed")
        assert len(failing.requests) == 4
        (delivery,) = _deliveries(app)
        assert delivery.last_status_code == 500


def test_webhooks_to_private_addresses_are_refused(
    app: Flask,
    client: FlaskClient,
    admin: dict[str, str],
    hook: Receiver,
) -> None:
    project_id = _project(client, admin)
    for url in ("http://10.0.0.7/hook", "http://169.254.169.254/latest", "http://127.0.0.1:9/x"):
        refused = client.post(
            "/api/webhooks", json={"url": url, "project": project_id}, headers=admin
        )
        assert refused.status_code == 400, url
        assert "url" in refused.json["detail"]
    assert (
        client.post(
            "/api/webhooks",
            json={"url": "file:///etc/passwd", "project": project_id},
            headers=admin,
        ).status_code
        == 400
    )
    # Allowed when saved, refused when sent: the delivery fails without a request.
    client.post("/api/webhooks", json={"url": hook.url, "project": project_id}, headers=admin)
    allow_outbound(app)  # the administrator empties the allowlist
    client.patch(f"/api/projects/{project_id}", json={"title": "y"}, headers=admin)
    drain(app)
    (delivery,) = _deliveries(app)
    assert delivery.status == "failed" and "loopback" in delivery.last_error
    assert hook.requests == []


def test_only_managers_manage_webhooks_and_only_they_see_header_values(
    app: Flask, client: FlaskClient, admin: dict[str, str], hook: Receiver
) -> None:
    project_id = _project(client, admin)
    other_project = _project(client, admin)
    hook_id = client.post(
        "/api/webhooks",
        json={"url": hook.url, "project": project_id, "headers": {"Authorization": "Bearer x"}},
        headers=admin,
    ).json["id"]
    _, annotator = user_with_token(app, "ann@example.com")
    _, other_manager = user_with_token(app, "boss@example.com", can_create_projects=True)
    _, stranger = user_with_token(app, "nobody@example.com")
    client.post(
        f"/api/projects/{project_id}/members",
        json={"email": "ann@example.com", "role": "annotator"},
        headers=admin,
    )
    client.post(
        f"/api/projects/{other_project}/members",
        json={"email": "boss@example.com", "role": "manager"},
        headers=admin,
    )
    seen = client.get("/api/webhooks", headers=annotator).json
    assert [w["id"] for w in seen] == [hook_id]
    assert seen[0]["headers"] == {"Authorization": "********"}
    assert client.get(f"/api/webhooks/{hook_id}", headers=annotator).json["headers"] == {
        "Authorization": "********"
    }
    body = {"url": hook.url, "project": project_id}
    assert client.post("/api/webhooks", json=body, headers=annotator).status_code == 403
    assert (
        client.patch(
            f"/api/webhooks/{hook_id}", json={"is_active": False}, headers=annotator
        ).status_code
        == 403
    )
    assert client.delete(f"/api/webhooks/{hook_id}", headers=annotator).status_code == 403
    for outsider in (other_manager, stranger):
        assert client.get("/api/webhooks", headers=outsider).json == []
        assert client.get(f"/api/webhooks/{hook_id}", headers=outsider).status_code == 404
        assert client.delete(f"/api/webhooks/{hook_id}", headers=outsider).status_code == 404
        assert client.post("/api/webhooks", json=body, headers=outsider).status_code == 404
    # Organization-wide webhooks are for the organization's admins.
    org_wide = client.post("/api/webhooks", json={"url": hook.url}, headers=other_manager)
    assert org_wide.status_code == 403
    assert client.get(f"/api/webhooks/{hook_id}", headers=admin).json["headers"] == {
        "Authorization": "Bearer x"
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"actions": ["NOT_AN_ACTION"]}, "actions[0]"),
        ({"actions": ["PROJECT_CREATED"]}, "actions[0]"),
        ({"headers": {f"H{i}": "v" for i in range(11)}}, "headers"),
        ({"headers": {"X-A": "one\r\nInjected: yes"}}, "headers.X-A"),
        ({"headers": {"Host": "evil"}}, "headers.Host"),
        ({"headers": {"bad name": "v"}}, "headers.bad name"),
        ({"headers": {"X-A": 5}}, "headers"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_webhook_settings_are_refused_naming_the_field(
    client: FlaskClient, admin: dict[str, str], hook: Receiver, body: dict, field: str
) -> None:
    project_id = _project(client, admin)
    refused = client.post(
        "/api/webhooks", json={"url": hook.url, "project": project_id, **body}, headers=admin
    )
    assert refused.status_code == 400
    assert field in refused.json["detail"]


def test_update_keeps_the_project_and_info_lists_the_actions(
    client: FlaskClient, admin: dict[str, str], hook: Receiver
) -> None:
    project_id = _project(client, admin)
    hook_id = client.post(
        "/api/webhooks", json={"url": hook.url, "project": project_id}, headers=admin
    ).json["id"]
    changed = client.patch(
        f"/api/webhooks/{hook_id}/",
        json={"project": 999, "is_active": False, "actions": ["ANNOTATION_CREATED"]},
        headers=admin,
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["project"] == project_id
    assert changed.json["is_active"] is False
    assert changed.json["actions"] == ["ANNOTATION_CREATED"]
    info = client.get("/api/webhooks/info/", headers=admin).json
    assert info["ANNOTATION_CREATED"]["key"] == "annotation"
    assert info["PROJECT_DELETED"]["organization-only"] is True
    only = client.get("/api/webhooks/info?organization-only=true", headers=admin).json
    assert set(only) == {"PROJECT_CREATED", "PROJECT_DELETED"}
    assert client.delete(f"/api/webhooks/{hook_id}", headers=admin).status_code == 204
    assert client.get(f"/api/webhooks/{hook_id}", headers=admin).status_code == 404


def test_the_web_apps_worker_thread_delivers_without_a_drain(
    app: Flask, client: FlaskClient, admin: dict[str, str], hook: Receiver
) -> None:
    project_id = _project(client, admin)
    client.post("/api/webhooks", json={"url": hook.url, "project": project_id}, headers=admin)
    worker = worker_of(app)
    worker.poll_seconds = 0.05
    worker.start()
    try:
        client.patch(f"/api/projects/{project_id}", json={"title": "Live"}, headers=admin)
        (received,) = hook.wait_for(1)
        assert received.body["project"]["title"] == "Live"
    finally:
        worker.stop()
