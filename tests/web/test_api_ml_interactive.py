"""Interactive pre-annotation: the annotator's region, sent as context to a real backend.

The backend is written with ``label-studio-ml`` 1.0.9 and runs in its own virtualenv
(``tests/ml_backend_process.py``); it answers a keypoint or a box with a box around it.
"""

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.db.models import UserRow
from labelops.web.extensions import db
from tests.conftest import AuthActions
from tests.factories import add_member, make_project, make_tasks
from tests.ml_backend_process import (
    SMART_BOX_SCRIPT,
    MLBackendProcess,
    free_port,
    start_ml_backend,
)
from tests.web.helpers import user_with_token
from tests.web.test_annotate_views import _payload

SMART_CONFIG = """
<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image" smart="true"><Label value="Car"/></RectangleLabels>
  <KeyPointLabels name="kp" toName="image" smart="true"><Label value="Car"/></KeyPointLabels>
</View>
"""
KEYPOINT = {
    "id": "prompt1",
    "from_name": "kp",
    "to_name": "image",
    "type": "keypointlabels",
    "original_width": 400,
    "original_height": 200,
    "image_rotation": 0,
    "value": {"x": 30.0, "y": 40.0, "width": 1, "keypointlabels": ["Car"]},
}


@pytest.fixture(scope="module")
def smart_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MLBackendProcess]:
    yield from start_ml_backend(
        tmp_path_factory.mktemp("smart-backend"), SMART_BOX_SCRIPT, "smart_box.py"
    )


@dataclasses.dataclass
class Setup:
    project_id: int
    task_id: int
    other_task_id: int
    manager: dict[str, str]
    annotator: dict[str, str]
    reviewer: dict[str, str]
    outsider: dict[str, str]


@pytest.fixture
def setup(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Setup:
    settings = app.config["LABELOPS_SETTINGS"]
    app.config["LABELOPS_SETTINGS"] = dataclasses.replace(
        settings, outbound_host_allowlist=("127.0.0.1",)
    )
    manager_id, manager = user_with_token(app, "manager@example.com", can_create_projects=True)
    annotator_id, annotator = user_with_token(app, "annotator@example.com")
    reviewer_id, reviewer = user_with_token(app, "reviewer@example.com")
    _, outsider = user_with_token(app, "outsider@example.com")
    with app.app_context():
        owner = db.session.get_one(UserRow, manager_id)
        project = make_project(db.session, owner, label_config=SMART_CONFIG)
        other = make_project(db.session, owner, title="Other", label_config=SMART_CONFIG)
        add_member(db.session, project, db.session.get_one(UserRow, annotator_id), "annotator")
        add_member(db.session, project, db.session.get_one(UserRow, reviewer_id), "reviewer")
        (task,) = make_tasks(db.session, project, 1, image="https://example.com/a.png")
        (other_task,) = make_tasks(db.session, other, 1, image="https://example.com/b.png")
        db.session.commit()
        return Setup(project.id, task.id, other_task.id, manager, annotator, reviewer, outsider)


def _connect(client: FlaskClient, setup: Setup, url: str, **fields: Any) -> int:
    body = {"project": setup.project_id, "url": url, "is_interactive": True} | fields
    created = client.post("/api/ml", json=body, headers=setup.manager)
    assert created.status_code == 201, created.json
    return int(created.json["id"])


def test_the_annotators_keypoint_reaches_the_backend_and_its_box_comes_back(
    client: FlaskClient, setup: Setup, smart_backend: MLBackendProcess
) -> None:
    backend_id = _connect(client, setup, smart_backend.url)
    url = f"/api/ml/{backend_id}/interactive-annotating"
    ask = {"task": setup.task_id, "context": {"result": [KEYPOINT]}}

    answer = client.post(url, json=ask, headers=setup.annotator)

    assert answer.status_code == 200, answer.json
    (box,) = answer.json["data"]["result"]
    assert box["from_name"] == "box" and box["type"] == "rectanglelabels"
    assert box["value"] == {
        "x": 25,
        "y": 35,
        "width": 10,
        "height": 10,
        "rotation": 0,
        "rectanglelabels": ["Car"],
    }
    seen = [c["data"] for c in smart_backend.fits() if c["event"] == "predict"]
    assert {"result": [KEYPOINT]} in seen, json.dumps(seen)


def test_only_members_who_may_annotate_ask_and_only_for_their_projects_tasks(
    client: FlaskClient, setup: Setup, smart_backend: MLBackendProcess
) -> None:
    backend_id = _connect(client, setup, smart_backend.url)
    url = f"/api/ml/{backend_id}/interactive-annotating"
    ask = {"task": setup.task_id, "context": {"result": [KEYPOINT]}}

    # Reviewers may label the project's tasks (the labeling page opens for them), so they may ask.
    assert client.post(url, json=ask, headers=setup.reviewer).status_code == 200
    assert client.post(url, json=ask, headers=setup.outsider).status_code == 404
    assert client.post(url, json=ask).status_code == 401

    foreign = client.post(url, json={**ask, "task": setup.other_task_id}, headers=setup.annotator)
    assert foreign.status_code == 400 and "task" in foreign.json["validation_errors"]
    for bad in [{"context": {}}, {"task": "x"}, {"task": setup.task_id, "context": []}]:
        refused = client.post(url, json=bad, headers=setup.annotator)
        assert refused.status_code == 400, (bad, refused.json)


def test_the_labeling_page_names_the_projects_interactive_backend(
    client: FlaskClient, setup: Setup, auth: AuthActions
) -> None:
    auth.login("annotator@example.com", "password123")
    page = f"/projects/{setup.project_id}/label?task={setup.task_id}"

    assert _payload(client.get(page).get_data(as_text=True))["ml_backend"] is None
    down = f"http://127.0.0.1:{free_port()}"
    backend_id = _connect(client, setup, down, timeout=1, is_interactive=False)
    assert _payload(client.get(page).get_data(as_text=True))["ml_backend"] is None
    patched = client.patch(
        f"/api/ml/{backend_id}", json={"is_interactive": True}, headers=setup.manager
    )
    assert patched.status_code == 200, patched.json
    payload = _payload(client.get(page).get_data(as_text=True))
    assert payload["ml_backend"] == {"id": backend_id, "interactive": True}


def test_a_backend_that_is_down_is_a_502_naming_it(client: FlaskClient, setup: Setup) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    backend_id = _connect(client, setup, down, timeout=1)
    answer = client.post(
        f"/api/ml/{backend_id}/interactive-annotating",
        json={"task": setup.task_id, "context": {"result": [KEYPOINT]}},
        headers=setup.annotator,
    )
    assert answer.status_code == 502
    assert f"ML backend {down}/predict is unreachable" in answer.json["detail"]
