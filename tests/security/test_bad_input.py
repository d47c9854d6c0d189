"""Bad input gets a 4xx naming the field, never a 500, and writes nothing (both databases).

The table holds the hand-made fuzz cases that used to answer 500 (or, for a ``meta`` that is not an
object, were accepted and then broke the project's export): wrong types, ids beyond 64 bits, huge
pages, malformed cursors, deep JSON, NUL characters, non-finite numbers, non-list bodies.
"""

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import TEXT_CONFIG
from tests.web.helpers import user_with_token

BIG = 2**63
DEEP_BODY = b'{"project": 1, "data": ' + b"[" * 5000 + b"]" * 5000 + b"}"


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@dataclass(frozen=True)
class Case:
    """One attack: the request, the status it must get and the field its error must name."""

    id: str
    method: str
    path: str
    status: int
    field: str | None = None
    json: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"


CASES = [
    # projects
    Case("project title bool", "POST", "/api/projects", 400, "title", {"title": True}),
    Case(
        "overlap string",
        "POST",
        "/api/projects",
        400,
        "maximum_annotations",
        {"maximum_annotations": "2"},
    ),
    Case(
        "overlap bool",
        "POST",
        "/api/projects",
        400,
        "maximum_annotations",
        {"maximum_annotations": True},
    ),
    Case("unknown project field", "POST", "/api/projects", 400, "bogus", {"bogus": 1}),
    Case("project body is a list", "POST", "/api/projects", 400, "body", [1, 2]),
    Case(
        "project body text/plain",
        "POST",
        "/api/projects",
        415,
        "body",
        raw=b"title=x",
        content_type="text/plain",
    ),
    Case("JSON nested 5000 deep", "POST", "/api/projects", 400, "body", raw=DEEP_BODY),
    Case("NaN literal", "POST", "/api/projects", 400, "body", raw=b'{"title": NaN}'),
    Case(
        "1e400 overflows to Infinity",
        "POST",
        "/api/projects",
        400,
        "body",
        raw=b'{"maximum_annotations": 1e400}',
    ),
    Case("NUL in a title", "POST", "/api/projects", 400, "title", {"title": "a\x00b"}),
    Case("project id beyond 64 bits", "GET", "/api/projects/99999999999999999999", 404),
    Case("page beyond range", "GET", "/api/projects?page=99999999999999999999", 400, "page"),
    Case("page not a number", "GET", "/api/projects?page=1e3", 400, "page"),
    # tasks
    Case(
        "task project as string",
        "POST",
        "/api/tasks",
        400,
        "project",
        {"project": "1", "data": {"text": "x"}},
    ),
    Case(
        "task project beyond 64 bits",
        "POST",
        "/api/tasks",
        400,
        "project",
        {"project": BIG, "data": {"text": "x"}},
    ),
    Case(
        "task project bool",
        "POST",
        "/api/tasks",
        400,
        "project",
        {"project": True, "data": {"text": "x"}},
    ),
    Case(
        "task data a string",
        "POST",
        "/api/tasks",
        400,
        "data",
        {"project": "{project}", "data": "x"},
    ),
    Case(
        "task meta a string",
        "POST",
        "/api/tasks",
        400,
        "meta",
        {"project": "{project}", "data": {"text": "x"}, "meta": "m"},
    ),
    Case(
        "NUL in task data",
        "POST",
        "/api/tasks",
        400,
        "data.text",
        {"project": "{project}", "data": {"text": "a\x00b"}},
    ),
    Case(
        "NUL in a task data key",
        "POST",
        "/api/tasks",
        400,
        "data.t\\u0000",
        {"project": "{project}", "data": {"text": "x", "t\x00": 1}},
    ),
    Case(
        "task data nested 300 deep",
        "POST",
        "/api/tasks",
        400,
        "data",
        {"project": "{project}", "data": {"text": "x", "deep": _nested(300)}},
    ),
    Case(
        "unknown task field",
        "POST",
        "/api/tasks",
        400,
        "bogus",
        {"project": "{project}", "data": {"text": "x"}, "bogus": 1},
    ),
    Case("task id beyond 64 bits", "GET", "/api/tasks/99999999999999999999", 404),
    Case("task id 2^63", "GET", f"/api/tasks/{BIG}", 404),
    Case("priority string", "PATCH", "/api/tasks/{task}", 400, "priority", {"priority": "high"}),
    Case("priority bool", "PATCH", "/api/tasks/{task}", 400, "priority", {"priority": True}),
    Case("priority huge", "PATCH", "/api/tasks/{task}", 400, "priority", {"priority": 1e300}),
    Case("patched meta not an object", "PATCH", "/api/tasks/{task}", 400, "meta", {"meta": "m"}),
    Case("patched meta a list", "PATCH", "/api/tasks/{task}", 400, "meta", {"meta": [1]}),
    Case(
        "patched data nested 100 deep",
        "PATCH",
        "/api/tasks/{task}",
        400,
        "data",
        {"data": {"text": "x", "deep": _nested(100)}},
    ),
    Case("list project beyond 64 bits", "GET", f"/api/tasks?project={BIG}", 400, "project"),
    Case("list project missing", "GET", "/api/tasks", 400, "project"),
    Case("NUL in a query parameter", "GET", "/api/tasks?project={project}&state=%00", 400, "state"),
    Case(
        "NUL in a contains filter",
        "GET",
        "/api/projects/{project}/tasks?field=text&contains=a%00",
        400,
        "contains",
    ),
    Case("min_score NaN", "GET", "/api/projects/{project}/tasks?min_score=nan", 400, "min_score"),
    Case("cursor not base64", "GET", "/api/projects/{project}/tasks?cursor=!!!", 400, "cursor"),
    Case("cursor not JSON", "GET", "/api/projects/{project}/tasks?cursor=AAAA", 400, "cursor"),
    Case(
        "cursor id beyond 64 bits",
        "GET",
        f"/api/projects/{{project}}/tasks?cursor={_cursor([1, BIG])}",
        400,
        "cursor",
    ),
    Case(
        "cursor value an object",
        "GET",
        f"/api/projects/{{project}}/tasks?cursor={_cursor([{'a': 1}, 1])}",
        400,
        "cursor",
    ),
    Case(
        "cursor value Infinity",
        "GET",
        "/api/projects/{project}/tasks?cursor=" + _cursor([float("inf"), 1]),
        400,
        "cursor",
    ),
    Case(
        "cursor value beyond 64 bits",
        "GET",
        f"/api/projects/{{project}}/tasks?cursor={_cursor([BIG, 1])}",
        400,
        "cursor",
    ),
    Case(
        "cursor date garbage",
        "GET",
        f"/api/projects/{{project}}/tasks?sort=updated_at&cursor={_cursor(['x', 1])}",
        400,
        "cursor",
    ),
    Case("sort unknown", "GET", "/api/projects/{project}/tasks?limit=5&sort=bogus", 400, "sort"),
    Case("limit beyond range", "GET", "/api/projects/{project}/tasks?limit=10001", 400, "limit"),
    # annotations
    Case(
        "lead_time string",
        "POST",
        "/api/tasks/{task}/annotations",
        400,
        "lead_time",
        {"result": [], "lead_time": "5"},
    ),
    Case(
        "lead_time near Infinity",
        "POST",
        "/api/tasks/{task}/annotations",
        400,
        "lead_time",
        {"result": [], "lead_time": 1e308},
    ),
    Case(
        "lead_time negative",
        "POST",
        "/api/tasks/{task}/annotations",
        400,
        "lead_time",
        {"result": [], "lead_time": -1},
    ),
    Case(
        "was_cancelled string",
        "POST",
        "/api/tasks/{task}/annotations",
        400,
        "was_cancelled",
        {"result": [], "was_cancelled": "false"},
    ),
    Case(
        "result an object", "POST", "/api/tasks/{task}/annotations", 400, "result", {"result": {}}
    ),
    Case(
        "result item a number",
        "POST",
        "/api/tasks/{task}/annotations",
        400,
        "result[0]",
        {"result": [5]},
    ),
    Case("annotation body a list", "POST", "/api/tasks/{task}/annotations", 400, "body", []),
    Case(
        "update lead_time string",
        "PATCH",
        "/api/annotations/{annotation}",
        400,
        "lead_time",
        {"lead_time": "1"},
    ),
    Case(
        "review decision unknown",
        "POST",
        "/api/annotations/{annotation}/review",
        400,
        "decision",
        {"decision": "maybe"},
    ),
    Case("annotation id beyond 64 bits", "GET", f"/api/annotations/{BIG}", 404),
    # predictions
    Case("predictions body a number", "POST", "/api/predictions", 400, "body", 5),
    Case(
        "prediction task string",
        "POST",
        "/api/predictions",
        400,
        "task",
        {"task": "1", "result": []},
    ),
    Case(
        "prediction score string",
        "POST",
        "/api/predictions",
        400,
        "score",
        {"task": "{task}", "result": [], "score": "0.5"},
    ),
    Case(
        "bulk predictions not a list",
        "POST",
        "/api/projects/{project}/import/predictions",
        400,
        "body",
        {"task": "{task}", "result": []},
    ),
    Case(
        "bulk prediction task beyond 64 bits",
        "POST",
        "/api/projects/{project}/import/predictions",
        400,
        "[0].task",
        [{"task": BIG, "result": []}],
    ),
    # imports (JSON bodies go through the import service, so CLI and buckets refuse the same)
    Case(
        "import meta not an object",
        "POST",
        "/api/projects/{project}/import",
        400,
        "meta",
        [{"data": {"text": "x"}, "meta": "m"}],
    ),
    Case(
        "import NUL in data",
        "POST",
        "/api/projects/{project}/import",
        400,
        "data.text",
        [{"text": "a\x00"}],
    ),
    Case(
        "import data nested 300 deep",
        "POST",
        "/api/projects/{project}/import",
        400,
        "data",
        [{"text": "x", "deep": _nested(300)}],
    ),
    Case(
        "import JSON nested 5000 deep",
        "POST",
        "/api/projects/{project}/import",
        400,
        None,
        raw=b"[" * 5000 + b"]" * 5000,
    ),
    Case(
        "import task data nested 5000 deep",
        "POST",
        "/api/projects/{project}/import",
        400,
        "data.d",
        raw=b'[{"text": "x", "d": ' + b"[" * 5000 + b"]" * 5000 + b"}]",
    ),
    Case(
        "import task data objects 5000 deep",
        "POST",
        "/api/projects/{project}/import",
        400,
        "data.d",
        raw=b'[{"text": "x", "d": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001 + b"]",
    ),
    Case(
        "import lead_time Infinity",
        "POST",
        "/api/projects/{project}/import",
        400,
        "annotations[0].lead_time",
        [{"data": {"text": "x"}, "annotations": [{"result": [], "lead_time": "inf"}]}],
    ),
    Case(
        "image_sizes nested 4000 deep",
        "POST",
        "/api/projects/{project}/import?image_sizes=" + "[" * 4000 + "]" * 4000,
        400,
        "image_sizes",
        [{"text": "x"}],
    ),
    Case(
        "image_sizes value an object",
        "POST",
        '/api/projects/{project}/import?image_sizes={{"a.jpg": {{"0": 1}}}}',
        400,
        "image_sizes",
        [{"text": "x"}],
    ),
    # members and users
    Case(
        "member user bool",
        "POST",
        "/api/projects/{project}/members",
        400,
        "user",
        {"user": True, "role": "annotator"},
    ),
    Case(
        "member user beyond 64 bits",
        "POST",
        "/api/projects/{project}/members",
        400,
        "user",
        {"user": BIG},
    ),
    Case(
        "member id in path beyond 64 bits",
        "DELETE",
        f"/api/projects/{{project}}/members/{BIG}",
        404,
    ),
    Case(
        "user is_admin string",
        "POST",
        "/api/users",
        400,
        "is_admin",
        {"email": "x@example.com", "password": "password123", "is_admin": "yes"},
    ),
    Case(
        "storage field a number",
        "POST",
        "/api/projects/{project}/storages",
        400,
        "bucket",
        {"kind": "local", "bucket": 5},
    ),
    # HTTP-level errors answer JSON on API paths
    Case("method not allowed", "DELETE", "/api/openapi.json", 405),
    Case("unknown API path", "GET", "/api/nothing-here", 404),
]


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
            return ids[value[1:-1]]
        return value.format(**ids) if "{" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


@pytest.fixture
def admin(app: Flask) -> dict[str, str]:
    return user_with_token(app, "admin@example.com", admin=True)[1]


@pytest.fixture
def ids(client: FlaskClient, admin: dict[str, str]) -> dict[str, int]:
    project = client.post(
        "/api/projects", json={"title": "Fuzzed", "label_config": TEXT_CONFIG}, headers=admin
    ).json
    task = client.post(
        "/api/tasks", json={"project": project["id"], "data": {"text": "hello"}}, headers=admin
    ).json
    annotation = client.post(
        f"/api/tasks/{task['id']}/annotations", json={"result": []}, headers=admin
    ).json
    return {"project": project["id"], "task": task["id"], "annotation": annotation["id"]}


def _state(client: FlaskClient, admin: dict[str, str], ids: dict[str, int]) -> Any:
    project = client.get(f"/api/projects/{ids['project']}", headers=admin).json
    task = client.get(f"/api/tasks/{ids['task']}", headers=admin).json
    counters = ("task_number", "total_annotations_number", "total_predictions_number", "title")
    return {k: project[k] for k in counters}, task["data"], task["meta"], task["priority"]


def test_every_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(
    client: FlaskClient, admin: dict[str, str], ids: dict[str, int]
) -> None:
    before = _state(client, admin, ids)
    projects_before = len(client.get("/api/projects", headers=admin).json["results"])
    wrong = []
    for case in CASES:
        path = case.path.format(**ids) if "{" in case.path else case.path
        kwargs: dict[str, Any] = {"headers": admin}
        if case.raw is not None:
            kwargs["data"] = case.raw
            kwargs["content_type"] = case.content_type
        elif case.json is not None:
            kwargs["json"] = _fill(case.json, ids)
        response = client.open(path, method=case.method, **kwargs)
        body = response.get_json(silent=True)
        problem = None
        if response.status_code != case.status:
            problem = f"status {response.status_code}"
        elif not isinstance(body, dict) or body.get("status_code") != case.status:
            problem = f"not a JSON error: {response.get_data()[:200]!r}"
        elif not body.get("detail"):
            problem = "no detail"
        elif case.field is not None and not any(
            key.startswith(case.field) for key in body.get("validation_errors", {})
        ):
            problem = f"field {case.field!r} not named: {body}"
        if problem:
            wrong.append(f"{case.id}: {problem}")
    assert wrong == []
    assert _state(client, admin, ids) == before
    assert len(client.get("/api/projects", headers=admin).json["results"]) == projects_before
    exported = client.get(f"/api/projects/{ids['project']}/export?exportType=JSON", headers=admin)
    assert exported.status_code == 200


def test_form_bodies_label_studio_accepts_still_work(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    created = client.post(
        "/api/projects",
        data={"title": "From a form", "label_config": TEXT_CONFIG, "show_instruction": "true"},
        headers=admin,
    )
    assert created.status_code == 201, created.json
    assert created.json["show_instruction"] is True
    bad = client.post("/api/projects", data={"maximum_annotations": "many"}, headers=admin)
    assert bad.status_code == 400
    assert "maximum_annotations" in bad.json["validation_errors"]


def test_label_studio_fields_are_accepted_and_ignored(
    client: FlaskClient, admin: dict[str, str], ids: dict[str, int]
) -> None:
    imported = client.post(
        f"/api/projects/{ids['project']}/import?return_task_ids=true",
        json=[{"text": "a task the admin has not annotated yet"}],
        headers=admin,
    )
    task_id = imported.json["task_ids"][0]
    created = client.post(
        f"/api/tasks/{task_id}/annotations",
        json={"result": [], "lead_time": 3, "task": task_id, "unique_id": "u1"},
        headers=admin,
    )
    assert created.status_code == 201, created.json
    assert created.json["lead_time"] == 3.0


def test_an_unexpected_error_on_an_api_path_is_json_without_traceback(
    app: Flask, admin: dict[str, str]
) -> None:
    def boom() -> Any:
        raise RuntimeError("secret internals")

    app.add_url_rule("/api/boom", "boom", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/api/boom", headers=admin)
    assert response.status_code == 500
    assert response.json == {"detail": "internal server error", "status_code": 500}


def test_a_body_over_the_size_limit_is_a_json_413(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/api/projects", json={"title": "x" * 5000}, headers=admin)
    assert response.status_code == 413
    assert response.json["status_code"] == 413


def test_a_page_reading_json_answers_400_to_5000_deep_json(
    client: FlaskClient, auth: Any, admin: dict[str, str]
) -> None:
    auth.login("admin@example.com", "password123")
    page = client.get("/projects/")
    marker = 'name="csrf-token" content="'
    html = page.get_data(as_text=True)
    token = html[html.index(marker) + len(marker) :].split('"', 1)[0]
    deep = b'{"label_config": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = client.post(
        "/projects/preview",
        data=deep,
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 400
    # Pages share the bounded id converter: a 20-digit id is a 404 page, not a database error.
    assert client.get("/projects/99999999999999999999").status_code == 404


def test_lead_time_is_the_total_sent_and_never_grows_toward_infinity(
    client: FlaskClient, admin: dict[str, str], ids: dict[str, int]
) -> None:
    # The labeling page sends the total time so far on every save; adding it to the stored value
    # doubled the lead time on each update, and enough updates reached Infinity.
    path = f"/api/annotations/{ids['annotation']}"
    total = 0.0
    for visit in range(60):
        total += 1e7 * (visit + 1)
        response = client.patch(path, json={"lead_time": min(total, 1e9)}, headers=admin)
        assert response.status_code == 200, response.json
    assert client.get(path, headers=admin).json["lead_time"] == 1e9
    response = client.patch(path, json={"lead_time": 12.5}, headers=admin)
    assert response.json["lead_time"] == 12.5
    too_long = client.patch(path, json={"lead_time": 1e9 + 1}, headers=admin)
    assert too_long.status_code == 400
    assert "lead_time" in too_long.json["validation_errors"]
