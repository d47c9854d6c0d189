"""A <Chat> project through the REST API: config, tasks, annotations, predictions and exports."""

import csv
import io
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.helpers import user_with_token

CHAT_CONFIG = """<View>
  <Chat name="chat" value="$chat" toName="chat" minMessages="3" maxMessages="$max"
        editable="assistant"/>
  <View visibleWhen="region-selected" whenRole="assistant">
    <Rating name="accuracy" toName="chat" perRegion="true"/>
    <TextArea name="note" toName="chat" perRegion="true"/>
  </View>
  <Choices name="resolved" toName="chat" required="true">
    <Choice value="Yes"/>
    <Choice value="No"/>
  </Choices>
</View>"""
TASK = {
    "chat": [
        {"role": "system", "content": "You help customers of a parcel service."},
        {"role": "user", "content": "Where is my parcel? <script>alert(1)</script>"},
    ],
    "max": 5,
}
REPLY = {"role": "assistant", "content": "It arrives on Friday.", "createdAt": 1757612212681}
RESULT: list[dict[str, Any]] = [
    {
        "id": "m1",
        "from_name": "chat",
        "to_name": "chat",
        "type": "chatmessage",
        "value": {"chatmessage": REPLY},
    },
    {
        "id": "m1",
        "from_name": "accuracy",
        "to_name": "chat",
        "type": "rating",
        "value": {"chatmessage": REPLY, "rating": 4},
    },
    {
        "id": "m1",
        "from_name": "note",
        "to_name": "chat",
        "type": "textarea",
        "value": {"chatmessage": REPLY, "text": ["polite"]},
    },
    {
        "id": "c1",
        "from_name": "resolved",
        "to_name": "chat",
        "type": "choices",
        "value": {"choices": ["Yes"]},
    },
]


@pytest.fixture
def admin(app: Flask) -> dict[str, str]:
    return user_with_token(app, "admin@example.com", admin=True)[1]


@pytest.fixture
def chat_task(client: FlaskClient, admin: dict[str, str]) -> tuple[int, int]:
    """A Chat project with one conversation; returns the project and task ids."""
    created = client.post(
        "/api/projects/", json={"title": "Chats", "label_config": CHAT_CONFIG}, headers=admin
    )
    assert created.status_code == 201, created.json
    project_id = created.json["id"]
    imported = client.post(
        f"/api/projects/{project_id}/import?return_task_ids=true", json=[TASK], headers=admin
    )
    assert imported.status_code == 201, imported.json
    return project_id, imported.json["task_ids"][0]


def test_chat_annotation_round_trips_through_every_export(
    client: FlaskClient, admin: dict[str, str], chat_task: tuple[int, int]
) -> None:
    project_id, task_id = chat_task
    created = client.post(
        f"/api/tasks/{task_id}/annotations/", json={"result": RESULT}, headers=admin
    )
    assert created.status_code == 201, created.json
    assert client.get(f"/api/tasks/{task_id}", headers=admin).json["annotations"][0]["result"] == (
        RESULT
    )

    export = f"/api/projects/{project_id}/export?exportType="
    full = client.get(export + "JSON", headers=admin)
    assert full.status_code == 200
    (task,) = json.loads(full.get_data())
    assert task["data"] == TASK
    assert task["annotations"][0]["result"] == RESULT

    minimal = client.get(export + "JSON_MIN", headers=admin)
    assert minimal.status_code == 200
    (record,) = json.loads(minimal.get_data())
    assert record["resolved"] == "Yes"
    assert record["accuracy"] == [{"chatmessage": REPLY, "rating": 4}]
    # The chat column holds the added messages (the task's own messages are the data).
    assert record["chat"] == [{"chatmessage": REPLY}]

    table = client.get(export + "CSV", headers=admin)
    assert table.status_code == 200
    (row,) = csv.DictReader(io.StringIO(table.get_data(as_text=True)))
    assert row["resolved"] == "Yes"
    assert json.loads(row["chat"]) == [{"chatmessage": REPLY}]
    # The task's own conversation keeps its column beside the control's.
    assert json.loads(row["_data_chat"]) == TASK["chat"]
    assert row["note"] == "polite"  # one text becomes a string, as in Label Studio

    formats = client.get(f"/api/projects/{project_id}/export/formats", headers=admin).json
    offered = [f["name"] for f in formats if not f["disabled"]]
    assert {"JSON", "JSON_MIN", "CSV"} <= set(offered)
    for name in offered:
        response = client.get(export + name, headers=admin)
        assert response.status_code == 200, (name, response.get_data(as_text=True)[:300])


@pytest.mark.parametrize(
    ("result", "field", "message"),
    [
        # a message without text
        (
            [{**RESULT[0], "value": {"chatmessage": {"role": "assistant"}}}, RESULT[3]],
            "value.chatmessage.content",
            "content must be a string",
        ),
        # a role Label Studio does not know
        (
            [{**RESULT[0], "value": {"chatmessage": {**REPLY, "role": "bot"}}}, RESULT[3]],
            "value.chatmessage.role",
            "'bot'",
        ),
        # two task messages + four added > $max = 5
        (
            [{**RESULT[0], "id": f"m{i}"} for i in range(4)] + [RESULT[3]],
            "chat",
            "at most 5",
        ),
        # two task messages < minMessages=3 on submission
        ([RESULT[3]], "chat", "at least 3"),
    ],
)
def test_refuses_chat_results_that_do_not_fit(
    client: FlaskClient,
    admin: dict[str, str],
    chat_task: tuple[int, int],
    result: list[dict[str, Any]],
    field: str,
    message: str,
) -> None:
    _, task_id = chat_task
    response = client.post(
        f"/api/tasks/{task_id}/annotations/", json={"result": result}, headers=admin
    )

    assert response.status_code == 422, response.json
    assert message in json.dumps(response.json)
    assert field in json.dumps(response.json)


def test_imports_predicted_messages_as_label_studio_documents_them(
    client: FlaskClient, admin: dict[str, str], chat_task: tuple[int, int]
) -> None:
    project_id, _ = chat_task
    task = {
        "data": {"chat": []},  # maxMessages="$max" is optional task data
        "predictions": [{"model_version": "demo", "result": RESULT[:1]}],
    }
    imported = client.post(f"/api/projects/{project_id}/import", json=[task], headers=admin)

    assert imported.status_code == 201, imported.json
    assert imported.json["prediction_count"] == 1


def test_refuses_a_chat_config_naming_tag_and_attribute(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    config = '<View><Chat name="chat" value="$chat" messageroles="user,robot"/></View>'
    response = client.post(
        "/api/projects/", json={"title": "Bad", "label_config": config}, headers=admin
    )

    assert response.status_code == 400
    (error,) = response.json["validation_errors"]["label_config"]
    assert (error["tag"], error["attribute"], error["value"]) == (
        "Chat",
        "messageroles",
        "user,robot",
    )


def test_someone_outside_the_project_can_neither_add_nor_read_messages(
    app: Flask, client: FlaskClient, admin: dict[str, str], chat_task: tuple[int, int]
) -> None:
    project_id, task_id = chat_task
    _, outsider = user_with_token(app, "outsider@example.com")

    posted = client.post(
        f"/api/tasks/{task_id}/annotations/", json={"result": RESULT}, headers=outsider
    )
    assert posted.status_code in (403, 404)
    exported = client.get(f"/api/projects/{project_id}/export?exportType=JSON", headers=outsider)
    assert exported.status_code in (403, 404)
    assert client.get(f"/api/tasks/{task_id}", headers=admin).json["annotations"] == []
