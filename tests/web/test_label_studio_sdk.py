"""Label Studio's own Python SDK (label-studio-sdk 2.x) against a live labelops server.

Calls driven: projects (create, update, get, list, import_tasks, delete), tasks (list, get,
create), annotations (create, get, list, update), predictions.create, versions.get,
projects.exports (download_sync, as_json, create, get, list, download, delete), webhooks
(create, list, get, update, info, delete), users (whoami, list, get, create) and
projects.members (add, remove).
"""

import json
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from label_studio_sdk import LabelStudio
from werkzeug.serving import make_server

from tests.factories import TEXT_CONFIG
from tests.web.helpers import user_with_token
from tests.worker_helpers import allow_outbound, receiver, worker_of


@pytest.fixture
def ls(app: Flask) -> Iterator[LabelStudio]:
    _, headers = user_with_token(app, "sdk@example.com", admin=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    key = headers["Authorization"].split()[1]
    try:
        yield LabelStudio(base_url=f"http://127.0.0.1:{server.server_port}", api_key=key)
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_sdk_project_lifecycle_import_list_annotate_predict_export(ls: LabelStudio) -> None:
    project = ls.projects.create(title="From the SDK", label_config=TEXT_CONFIG)
    assert project.id and project.title == "From the SDK"
    updated = ls.projects.update(id=project.id, title="Renamed", maximum_annotations=2)
    assert updated.title == "Renamed"
    assert ls.projects.get(id=project.id).maximum_annotations == 2
    assert project.id in [p.id for p in ls.projects.list()]

    ls.projects.import_tasks(id=project.id, request=[{"text": f"sdk task {i}"} for i in range(25)])
    tasks = list(ls.tasks.list(project=project.id, page_size=10))
    assert len(tasks) == 25
    assert tasks[0].data == {"text": "sdk task 0"}

    task = ls.tasks.get(id=str(tasks[3].id))
    assert task.data["text"] == "sdk task 3"

    result = [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["Negative"]},
        }
    ]
    annotation = ls.annotations.create(id=tasks[3].id, result=result, lead_time=1.5)
    assert annotation.id is not None
    assert ls.annotations.get(id=annotation.id).result[0]["value"] == {"choices": ["Negative"]}

    prediction = ls.predictions.create(
        task=tasks[4].id, result=result, score=0.42, model_version="sdk-1"
    )
    assert prediction.score == pytest.approx(0.42)

    created = ls.tasks.create(project=project.id, data={"text": "one more"})
    assert created.id is not None

    exported = b"".join(ls.projects.exports.download_sync(id=project.id, export_type="JSON"))
    body = json.loads(exported)
    assert [t["id"] for t in body] == [tasks[3].id]
    assert body[0]["annotations"][0]["result"][0]["value"] == {"choices": ["Negative"]}

    everything = b"".join(
        ls.projects.exports.download_sync(
            id=project.id, export_type="JSON", download_all_tasks=True
        )
    )
    assert len(json.loads(everything)) == 26

    ls.projects.delete(id=project.id)
    assert project.id not in [p.id for p in ls.projects.list()]


def test_sdk_snapshot_exports_webhooks_users_and_members(
    ls: LabelStudio, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = ls.projects.create(title="SDK round two", label_config=TEXT_CONFIG)
    ls.projects.import_tasks(id=project.id, request=[{"text": f"t{i}"} for i in range(5)])
    tasks = list(ls.tasks.list(project=project.id))
    ls.annotations.create(
        id=tasks[0].id,
        result=[
            {
                "from_name": "sentiment",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["Positive"]},
            }
        ],
    )

    # as_json asks /api/version/ for the edition, then downloads every task (Community path).
    assert ls.versions.get().edition == "Community"
    everything = ls.projects.exports.as_json(project.id)
    assert [t["data"]["text"] for t in everything] == [f"t{i}" for i in range(5)]

    # Snapshot exports: create, poll until the worker finished it, list, download, delete.
    snapshot = ls.projects.exports.create(project.id, title="from the SDK")
    assert snapshot.status == "created"
    worker_of(app).drain()
    done = ls.projects.exports.get(id=project.id, export_pk=snapshot.id)
    assert done.status == "completed" and done.counters == {"task_number": 5}
    assert [e.id for e in ls.projects.exports.list(project.id)] == [snapshot.id]
    downloaded = b"".join(
        ls.projects.exports.download(id=project.id, export_pk=snapshot.id, export_type="JSON")
    )
    assert json.loads(downloaded) == everything
    ls.projects.exports.delete(id=project.id, export_pk=snapshot.id)
    assert ls.projects.exports.list(project.id) == []

    # Webhooks: create (delivered to a local receiver by the worker), list, update, delete.
    with receiver() as hook:
        allow_outbound(app, urlsplit(hook.url).netloc)
        created = ls.webhooks.create(
            url=hook.url,
            project=project.id,
            send_for_all_actions=False,
            actions=["ANNOTATION_UPDATED"],
            headers={"X-Token": "abc"},
        )
        assert created.id and created.project == project.id
        assert [w.id for w in ls.webhooks.list(project=str(project.id))] == [created.id]
        assert ls.webhooks.get(id=created.id).headers == {"X-Token": "abc"}
        annotation = ls.annotations.list(id=tasks[0].id)[0]
        ls.annotations.update(id=annotation.id, lead_time=3.0)
        worker_of(app).drain()
        assert hook.actions() == ["ANNOTATION_UPDATED"]
        assert hook.requests[0].headers["X-Token"] == "abc"
        updated = ls.webhooks.update(id=created.id, is_active=False)
        assert updated.is_active is False
        assert ls.webhooks.info().annotation_created.key == "annotation"
        ls.webhooks.delete(id=created.id)
        assert ls.webhooks.list() == []

    # Users and members.
    me = ls.users.whoami()
    assert me.email == "sdk@example.com"
    assert me.id in [u.id for u in ls.users.list()]
    assert ls.users.get(id=me.id).email == "sdk@example.com"
    colleague = ls.users.create(
        username="colleague", email="colleague@example.com", password="password123"
    )
    assert colleague.id
    member = ls.projects.members.add(project.id, user=colleague.id)
    assert member.user == colleague.id
    ls.projects.members.remove(project.id, user=colleague.id)
