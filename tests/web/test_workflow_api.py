"""The workflow API: a project's state machine (GET/PUT/DELETE) and firing custom events."""

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.domain.workflow import DEFAULT_WORKFLOW, workflow_with
from tests.factories import TEXT_CONFIG, choice_result
from tests.web.helpers import user_with_token

SECOND_REVIEW = workflow_with(
    ["needs_second_review"],
    ["request_second_review"],
    [
        ("completed", "request_second_review", "needs_second_review"),
        ("needs_second_review", "accept", "reviewed"),
        ("needs_second_review", "reject", "rejected"),
    ],
)


@pytest.fixture
def team(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """A project with a manager, a reviewer and an annotator (tokens), and two tasks."""
    _, manager = user_with_token(app, "manager@example.com", can_create_projects=True)
    project = client.post(
        "/api/projects", json={"title": "Reviews", "label_config": TEXT_CONFIG}, headers=manager
    ).json
    pid = project["id"]
    people: dict[str, Any] = {"pid": pid, "manager": manager}
    for role in ("reviewer", "annotator"):
        _, headers = user_with_token(app, f"{role}@example.com")
        added = client.post(
            f"/api/projects/{pid}/members",
            json={"email": f"{role}@example.com", "role": role},
            headers=manager,
        )
        assert added.status_code == 202, added.json
        people[role] = headers
    imported = client.post(
        f"/api/projects/{pid}/import?return_task_ids=true",
        json=[{"text": "one"}, {"text": "two"}],
        headers=manager,
    )
    people["tasks"] = imported.json["task_ids"]
    return people


def _complete(client: FlaskClient, team: dict[str, Any], task_id: int) -> dict[str, Any]:
    created = client.post(
        f"/api/tasks/{task_id}/annotations",
        json={"result": choice_result("Positive")},
        headers=team["annotator"],
    )
    assert created.status_code == 201, created.json
    return created.json


def _fire(client: FlaskClient, headers: dict[str, str], task_id: int, event: str) -> Any:
    return client.post(f"/api/tasks/{task_id}/transitions", json={"event": event}, headers=headers)


def test_get_returns_the_built_in_workflow_by_default(
    client: FlaskClient, team: dict[str, Any]
) -> None:
    got = client.get(f"/api/projects/{team['pid']}/workflow", headers=team["manager"])
    assert got.status_code == 200
    assert got.json["is_default"] is True
    assert got.json["states"] == list(DEFAULT_WORKFLOW.states)
    assert len(got.json["transitions"]) == len(DEFAULT_WORKFLOW.transitions)


def test_second_review_through_the_api(client: FlaskClient, team: dict[str, Any]) -> None:
    pid, task_id = team["pid"], team["tasks"][0]
    put = client.put(f"/api/projects/{pid}/workflow", json=SECOND_REVIEW, headers=team["manager"])
    assert put.status_code == 200, put.json
    assert put.json["is_default"] is False
    got = client.get(f"/api/projects/{pid}/workflow", headers=team["manager"]).json
    assert "needs_second_review" in got["states"]
    # GET's answer can be sent back unchanged
    again = client.put(f"/api/projects/{pid}/workflow", json=got, headers=team["manager"])
    assert again.status_code == 200, again.json

    annotation = _complete(client, team, task_id)
    options = client.get(f"/api/tasks/{task_id}/transitions", headers=team["reviewer"]).json
    assert options == {"task": task_id, "state": "completed", "events": ["request_second_review"]}
    fired = _fire(client, team["reviewer"], task_id, "request_second_review")
    assert fired.status_code == 200, fired.json
    assert fired.json["state"] == "needs_second_review"
    listed = client.get(
        f"/api/tasks?project={pid}&state=needs_second_review", headers=team["manager"]
    ).json
    assert [t["id"] for t in listed["tasks"]] == [task_id]

    reviewed = client.post(
        f"/api/annotations/{annotation['id']}/review",
        json={"decision": "accepted"},
        headers=team["reviewer"],
    )
    assert reviewed.status_code == 200, reviewed.json
    task = client.get(f"/api/tasks/{task_id}", headers=team["manager"]).json
    assert task["state"] == "reviewed"


def test_illegal_moves_get_409_naming_state_and_event(
    client: FlaskClient, team: dict[str, Any]
) -> None:
    pid, task_id = team["pid"], team["tasks"][0]
    client.put(f"/api/projects/{pid}/workflow", json=SECOND_REVIEW, headers=team["manager"])
    refused = _fire(client, team["manager"], task_id, "request_second_review")
    assert refused.status_code == 409
    assert refused.json["status_code"] == 409
    assert "'new'" in refused.json["detail"]
    assert "'request_second_review'" in refused.json["detail"]
    assert client.get(f"/api/tasks/{task_id}", headers=team["manager"]).json["state"] == "new"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"event": "accept"}, "'accept' cannot be fired by hand"),  # a built-in event
        ({"event": "archive"}, "'archive' cannot be fired by hand"),  # not in the workflow
        ({"event": ""}, "'event' must be the name"),
        ({"event": "request_second_review", "to": "reviewed"}, "unknown field(s): to"),
    ],
)
def test_bad_event_requests_get_400_naming_the_problem(
    client: FlaskClient, team: dict[str, Any], body: dict[str, Any], message: str
) -> None:
    pid, task_id = team["pid"], team["tasks"][0]
    client.put(f"/api/projects/{pid}/workflow", json=SECOND_REVIEW, headers=team["manager"])
    refused = client.post(f"/api/tasks/{task_id}/transitions", json=body, headers=team["manager"])
    assert refused.status_code == 400
    assert message in refused.json["detail"]


def test_annotators_cannot_fire_transitions_or_see_the_workflow(
    app: Flask, client: FlaskClient, team: dict[str, Any]
) -> None:
    pid, task_id = team["pid"], team["tasks"][0]
    client.put(f"/api/projects/{pid}/workflow", json=SECOND_REVIEW, headers=team["manager"])
    _complete(client, team, task_id)
    denied = _fire(client, team["annotator"], task_id, "request_second_review")
    assert denied.status_code == 403
    assert "annotator" in denied.json["detail"]
    assert client.get(f"/api/tasks/{task_id}", headers=team["manager"]).json["state"] == (
        "completed"
    )
    for method in ("get", "put", "delete"):
        kwargs = {"json": DEFAULT_WORKFLOW.to_dict()} if method == "put" else {}
        answer = getattr(client, method)(
            f"/api/projects/{pid}/workflow", headers=team["reviewer"], **kwargs
        )
        assert answer.status_code == 403, method
    _, stranger = user_with_token(app, "stranger@example.com")
    assert _fire(client, stranger, task_id, "request_second_review").status_code == 404
    assert client.get(f"/api/projects/{pid}/workflow", headers=stranger).status_code == 404


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (
            {**SECOND_REVIEW, "states": [s for s in SECOND_REVIEW["states"] if s != "completed"]},
            "built-in state 'completed' is missing",
        ),
        (
            {
                **SECOND_REVIEW,
                "transitions": [
                    *SECOND_REVIEW["transitions"],
                    {"from": "reviewed", "event": "request_second_review", "to": "archived"},
                ],
            },
            "transitions[34].to: unknown state 'archived'",
        ),
        (
            workflow_with(["parked"], ["park"], [("reviewed", "park", "parked")]),
            "state 'parked' has no way out",
        ),
    ],
)
def test_invalid_definitions_get_400_and_nothing_is_stored(
    client: FlaskClient, team: dict[str, Any], definition: dict[str, Any], message: str
) -> None:
    pid = team["pid"]
    refused = client.put(f"/api/projects/{pid}/workflow", json=definition, headers=team["manager"])
    assert refused.status_code == 400
    assert message in refused.json["detail"]
    got = client.get(f"/api/projects/{pid}/workflow", headers=team["manager"]).json
    assert got["is_default"] is True


def test_a_change_that_strands_tasks_gets_409_naming_state_and_count(
    client: FlaskClient, team: dict[str, Any]
) -> None:
    pid = team["pid"]
    client.put(f"/api/projects/{pid}/workflow", json=SECOND_REVIEW, headers=team["manager"])
    for task_id in team["tasks"]:
        _complete(client, team, task_id)
        assert _fire(client, team["reviewer"], task_id, "request_second_review").status_code == 200
    for call in (
        lambda: client.delete(f"/api/projects/{pid}/workflow", headers=team["manager"]),
        lambda: client.put(
            f"/api/projects/{pid}/workflow",
            json=DEFAULT_WORKFLOW.to_dict(),
            headers=team["manager"],
        ),
    ):
        refused = call()
        assert refused.status_code == 409
        assert "2 task(s)" in refused.json["detail"]
        assert "'needs_second_review'" in refused.json["detail"]
    got = client.get(f"/api/projects/{pid}/workflow", headers=team["manager"]).json
    assert "needs_second_review" in got["states"]
