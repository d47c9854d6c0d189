import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import NER_CONFIG, TEXT_CONFIG
from tests.web.helpers import user_with_token


@pytest.fixture
def admin(app: Flask) -> dict[str, str]:
    return user_with_token(app, "admin@example.com", admin=True)[1]


def _create_project(client: FlaskClient, headers: dict[str, str], **fields) -> dict:
    body = {"title": "Reviews", "label_config": TEXT_CONFIG, **fields}
    response = client.post("/api/projects/", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_create_import_next_annotate_export_round_trip(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    project = _create_project(client, admin)
    tasks = [{"text": f"review {i} ✓ 日本"} for i in range(1000)]
    imported = client.post(f"/api/projects/{project['id']}/import", json=tasks, headers=admin)
    assert imported.status_code == 201, imported.json
    assert imported.json["task_count"] == 1000

    task = client.get(f"/api/projects/{project['id']}/next", headers=admin).json
    assert task["data"] == {"text": "review 0 ✓ 日本"}
    result = [
        {
            "id": "r1",
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["Positive"]},
        }
    ]
    created = client.post(
        f"/api/tasks/{task['id']}/annotations/",
        json={"result": result, "lead_time": 2.5},
        headers=admin,
    )
    assert created.status_code == 201, created.json
    nxt = client.get(f"/api/projects/{project['id']}/next", headers=admin).json
    assert nxt["id"] != task["id"]

    exported = client.get(f"/api/projects/{project['id']}/export?exportType=JSON", headers=admin)
    assert exported.status_code == 200
    assert "attachment" in exported.headers["Content-Disposition"]
    body = json.loads(exported.get_data())
    assert len(body) == 1  # Label Studio's default: only tasks with annotations
    assert body[0]["id"] == task["id"]
    assert body[0]["data"] == task["data"]
    assert body[0]["annotations"][0]["result"] == result
    assert body[0]["annotations"][0]["lead_time"] == 2.5

    everything = client.get(
        f"/api/projects/{project['id']}/export?exportType=JSON&download_all_tasks=true",
        headers=admin,
    )
    assert len(json.loads(everything.get_data())) == 1000

    # the export imports back into a new project with the same results
    copy = _create_project(client, admin, title="Copy")
    again = client.post(f"/api/projects/{copy['id']}/import", json=body, headers=admin)
    assert again.json["task_count"] == 1 and again.json["annotation_count"] == 1
    listed = client.get(f"/api/tasks?project={copy['id']}&fields=all", headers=admin).json
    assert listed["tasks"][0]["annotations"][0]["result"] == result


def test_invalid_config_error_names_the_line(client: FlaskClient, admin: dict[str, str]) -> None:
    config = (
        '<View>\n  <Text name="text" value="$text"/>\n  <Choices name="c" toName="nowhere">\n'
        '    <Choice value="A"/>\n  </Choices>\n</View>'
    )
    response = client.post(
        "/api/projects/", json={"title": "x", "label_config": config}, headers=admin
    )
    assert response.status_code == 400
    assert "line 3" in response.json["detail"]
    assert "nowhere" in response.json["detail"]
    error = response.json["validation_errors"]["label_config"][0]
    assert error["line"] == 3 and error["tag"] == "Choices"


def test_validate_endpoint_accepts_a_good_config(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    response = client.post(
        "/api/projects/validate", json={"label_config": NER_CONFIG}, headers=admin
    )
    assert response.status_code == 200
    assert response.json["data_fields"] == ["text"]


def test_import_with_a_bad_row_writes_nothing_and_names_the_row(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    project = _create_project(client, admin)
    rows = [{"text": "ok"}, {"text": "ok"}, {"other": "missing text"}]
    response = client.post(f"/api/projects/{project['id']}/import", json=rows, headers=admin)
    assert response.status_code == 400
    assert response.json["row"] == 3 and response.json["field"] == "text"
    tasks = client.get(f"/api/tasks?project={project['id']}", headers=admin).json
    assert tasks["total"] == 0 and tasks["tasks"] == []


def test_import_multipart_csv_file(client: FlaskClient, admin: dict[str, str]) -> None:
    import io

    project = _create_project(client, admin)
    data = {"file": (io.BytesIO(b"text\nhello\nworld\n"), "tasks.csv")}
    response = client.post(
        f"/api/projects/{project['id']}/import",
        data=data,
        headers=admin,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    assert response.json["task_count"] == 2


def test_paths_work_with_and_without_trailing_slash(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    project = _create_project(client, admin)
    assert client.get(f"/api/projects/{project['id']}", headers=admin).status_code == 200
    assert client.get(f"/api/projects/{project['id']}/", headers=admin).status_code == 200


def test_errors_are_json(client: FlaskClient, admin: dict[str, str]) -> None:
    assert client.get("/api/projects/").status_code == 401
    assert client.get("/api/projects/", headers={"Authorization": "Token nope"}).json["detail"] == (
        "invalid or revoked API token"
    )
    missing = client.get("/api/projects/999", headers=admin)
    assert missing.status_code == 404 and "999" in missing.json["detail"]
    assert client.get("/api/no-such-endpoint", headers=admin).json["status_code"] == 404
    bad = client.get("/api/tasks?project=abc", headers=admin)
    assert bad.status_code == 400 and "'project'" in bad.json["detail"]


def test_annotator_cannot_manage_or_see_other_projects(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    project = _create_project(client, admin)
    other = _create_project(client, admin, title="Other")
    ann_id, ann = user_with_token(app, "ann@example.com")
    client.post(
        f"/api/projects/{project['id']}/members",
        json={"user": ann_id, "role": "annotator"},
        headers=admin,
    )
    client.post(f"/api/projects/{project['id']}/import", json=[{"text": "a"}], headers=admin)
    assert client.get(f"/api/projects/{project['id']}/next", headers=ann).status_code == 200
    denied = client.post(f"/api/projects/{project['id']}/import", json=[{"text": "b"}], headers=ann)
    assert denied.status_code == 403 and "annotator" in denied.json["detail"]
    assert client.get(f"/api/projects/{project['id']}/export", headers=ann).status_code == 403
    assert client.delete(f"/api/projects/{project['id']}", headers=ann).status_code == 403
    assert client.get(f"/api/projects/{other['id']}", headers=ann).status_code == 404
    assert [p["id"] for p in client.get("/api/projects", headers=ann).json["results"]] == [
        project["id"]
    ]


def test_reviewer_rejects_and_task_returns_to_its_author(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    project = _create_project(client, admin)
    pid = project["id"]
    a_id, a = user_with_token(app, "a@example.com")
    b_id, b = user_with_token(app, "b@example.com")
    r_id, r = user_with_token(app, "r@example.com")
    for uid, role in ((a_id, "annotator"), (b_id, "annotator"), (r_id, "reviewer")):
        client.post(f"/api/projects/{pid}/members", json={"user": uid, "role": role}, headers=admin)
    client.post(f"/api/projects/{pid}/import", json=[{"text": "only"}], headers=admin)
    task = client.get(f"/api/projects/{pid}/next", headers=a).json
    result = [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["Neutral"]},
        }
    ]
    annotation = client.post(
        f"/api/tasks/{task['id']}/annotations", json={"result": result}, headers=a
    ).json
    assert client.get(f"/api/projects/{pid}/next", headers=b).status_code == 404
    denied = client.post(
        f"/api/annotations/{annotation['id']}/review", json={"decision": "rejected"}, headers=a
    )
    assert denied.status_code == 403
    reviewed = client.post(
        f"/api/annotations/{annotation['id']}/review",
        json={"decision": "rejected", "comment": "not neutral"},
        headers=r,
    )
    assert reviewed.status_code == 200 and reviewed.json["review_state"] == "rejected"
    # Rejected work goes back to its author first; nobody else is handed it meanwhile.
    assert client.get(f"/api/projects/{pid}/next", headers=b).status_code == 404
    assert client.get(f"/api/projects/{pid}/next", headers=a).json["id"] == task["id"]
    history = client.get(f"/api/tasks/{task['id']}/history", headers=admin).json
    assert [h["action"] for h in history] == ["created", "rejected"]


def test_keyset_listing_with_filters(client: FlaskClient, admin: dict[str, str]) -> None:
    project = _create_project(client, admin)
    pid = project["id"]
    client.post(
        f"/api/projects/{pid}/import",
        json=[{"text": f"item {i:02d}"} for i in range(25)],
        headers=admin,
    )
    seen, cursor = [], ""
    while True:
        page = client.get(
            f"/api/projects/{pid}/tasks?limit=10&sort=id&direction=desc&cursor={cursor}",
            headers=admin,
        ).json
        seen += [t["id"] for t in page["tasks"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 25 and seen == sorted(seen, reverse=True)
    found = client.get(
        f"/api/projects/{pid}/tasks?limit=50&field=text&contains=item 1", headers=admin
    ).json
    assert len(found["tasks"]) == 10


def test_predictions_api_and_score_filter(client: FlaskClient, admin: dict[str, str]) -> None:
    project = _create_project(client, admin)
    pid = project["id"]
    client.post(f"/api/projects/{pid}/import", json=[{"text": "a"}, {"text": "b"}], headers=admin)
    tasks = client.get(f"/api/tasks?project={pid}", headers=admin).json["tasks"]
    result = [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["Positive"]},
        }
    ]
    created = client.post(
        "/api/predictions",
        json={"task": tasks[0]["id"], "result": result, "score": 0.3, "model_version": "m1"},
        headers=admin,
    )
    assert created.status_code == 201 and created.json["score"] == 0.3
    low = client.get(f"/api/projects/{pid}/tasks?limit=10&max_score=0.5", headers=admin).json[
        "tasks"
    ]
    assert [t["id"] for t in low] == [tasks[0]["id"]]
    bad = client.post(
        "/api/predictions",
        json={"task": tasks[1]["id"], "result": [{"from_name": "nope"}]},
        headers=admin,
    )
    assert bad.status_code == 422


def test_openapi_document_lists_the_label_studio_paths(client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.")
    for path in (
        "/api/projects",
        "/api/projects/{project_id}/import",
        "/api/tasks/{task_id}/annotations",
        "/api/projects/{project_id}/next",
        "/api/projects/{project_id}/export",
        "/api/predictions",
    ):
        assert path in doc["paths"], path
    assert "post" in doc["paths"]["/api/projects"]


def test_current_user_token_works_and_reset_revokes_old_ones(
    app: Flask, client: FlaskClient
) -> None:
    _, headers = user_with_token(app, "tok@example.com")
    state = client.get("/api/current-user/token", headers=headers).json
    assert state["token"] is None and "reset-token" in state["detail"]
    assert len(state["tokens"]) == 1
    assert client.get("/api/current-user/whoami", headers=headers).status_code == 200
    reset = client.post("/api/current-user/reset-token", headers=headers).json["token"]
    assert client.get("/api/current-user/whoami", headers=headers).status_code == 401
    assert client.get("/api/current-user/whoami", headers={"Authorization": f"Token {reset}"}).json[
        "email"
    ] == ("tok@example.com")


def test_export_json_min_and_csv_through_the_api(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    project = _create_project(client, admin)
    pid = project["id"]
    client.post(
        f"/api/projects/{pid}/import", json=[{"text": "good"}, {"text": "meh"}], headers=admin
    )
    task = client.get(f"/api/projects/{pid}/next", headers=admin).json
    result = [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["Positive"]},
        }
    ]
    client.post(f"/api/tasks/{task['id']}/annotations", json={"result": result}, headers=admin)
    minimal = json.loads(
        client.get(f"/api/projects/{pid}/export?exportType=JSON_MIN", headers=admin).get_data()
    )
    assert len(minimal) == 1
    assert minimal[0]["text"] == "good" and minimal[0]["sentiment"] == "Positive"
    csv_body = client.get(
        f"/api/projects/{pid}/export?exportType=CSV&download_all_tasks=true", headers=admin
    )
    lines = csv_body.get_data(as_text=True).strip().splitlines()
    assert len(lines) == 3 and "sentiment" in lines[0] and "Positive" in lines[1]
    formats = {
        f["name"]: f["disabled"]
        for f in client.get(f"/api/projects/{pid}/export/formats", headers=admin).json
    }
    assert formats["JSON"] is False and formats["COCO"] is True  # no image boxes in a text config
    unknown = client.get(f"/api/projects/{pid}/export?exportType=NOPE", headers=admin)
    assert unknown.status_code == 400 and "NOPE" in unknown.json["detail"]
    unfit = client.get(f"/api/projects/{pid}/export?exportType=COCO", headers=admin)
    assert unfit.status_code == 400 and "COCO" in unfit.json["detail"]


def test_export_options_pick_annotations_per_task(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    project = _create_project(client, admin, maximum_annotations=3)
    pid = project["id"]
    client.post(f"/api/projects/{pid}/import", json=[{"text": "one"}], headers=admin)
    task_id = client.get(f"/api/tasks?project={pid}", headers=admin).json["tasks"][0]["id"]
    votes = {"a@example.com": "Positive", "b@example.com": "Positive", "c@example.com": "Negative"}
    ids = {}
    for email, choice in votes.items():
        uid, headers = user_with_token(app, email)
        ids[email] = uid
        client.post(
            f"/api/projects/{pid}/members", json={"user": uid, "role": "annotator"}, headers=admin
        )
        result = [
            {
                "from_name": "sentiment",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": [choice]},
            }
        ]
        created = client.post(
            f"/api/tasks/{task_id}/annotations", json={"result": result}, headers=headers
        )
        assert created.status_code == 201

    def export(query: str) -> list:
        response = client.get(f"/api/projects/{pid}/export?exportType=JSON&{query}", headers=admin)
        assert response.status_code == 200, response.get_data(as_text=True)
        return json.loads(response.get_data())

    assert len(export("annotations=all")[0]["annotations"]) == 3
    latest = export("annotations=latest")[0]["annotations"]
    assert [a["completed_by"] for a in latest] == [ids["c@example.com"]]
    consensus = export("annotations=consensus")[0]["annotations"]
    assert consensus[0]["result"][0]["value"]["choices"] == ["Positive"]
    only_b = export(f"annotators={ids['b@example.com']}")[0]["annotations"]
    assert [a["completed_by"] for a in only_b] == [ids["b@example.com"]]
    assert export("since=2999-01-01T00:00:00Z&download_all_tasks=false") == []
    assert export("include_predictions=false")[0]["predictions"] == []
    bad = client.get(f"/api/projects/{pid}/export?annotations=best", headers=admin)
    assert bad.status_code == 400 and "best" in bad.json["detail"]
