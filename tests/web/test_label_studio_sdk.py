"""Label Studio's own Python SDK (label-studio-sdk 2.x) against a live labelops server."""

import json
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from label_studio_sdk import LabelStudio
from werkzeug.serving import make_server

from tests.factories import TEXT_CONFIG
from tests.web.helpers import user_with_token


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
