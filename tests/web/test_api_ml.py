"""ML backends per project (``/api/ml``) against a real ``label-studio-ml`` 1.0.9 backend.

The backend runs in its own virtualenv as a separate process (``tests/ml_backend_process.py``);
its first use builds that virtualenv with pip under ``build/``.
"""

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from labelops.assets.preannotation import task_predictions
from labelops.db.models import MLBackendRow, PredictionRow, UserRow
from labelops.resources.database import DatabaseResource
from labelops.resources.model_registry import StaticModelRegistry
from labelops.resources.predictor import RegistryPredictor
from labelops.web.extensions import db
from tests.factories import add_member, choice_result, make_project, make_tasks
from tests.ml_backend_process import MLBackendProcess, free_port, start_ml_backend
from tests.web.helpers import user_with_token
from tests.web.test_pages_projects import csrf
from tests.worker_helpers import allow_outbound, drain

LOOPBACK = ("127.0.0.1",)


@pytest.fixture(scope="module")
def ml_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MLBackendProcess]:
    yield from start_ml_backend(tmp_path_factory.mktemp("ml-backend"))


@dataclasses.dataclass
class Setup:
    project_id: int
    task_ids: list[int]
    manager: dict[str, str]
    annotator: dict[str, str]
    outsider: dict[str, str]
    other_manager: dict[str, str]


def _allow_loopback(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The administrator's allowlist names 127.0.0.1 (the web app's settings and the pipeline's)."""
    allow_outbound(app, *LOOPBACK)
    monkeypatch.setenv("LABELOPS_OUTBOUND_HOST_ALLOWLIST", ",".join(LOOPBACK))


@pytest.fixture
def setup(app: Flask) -> Setup:
    manager_id, manager = user_with_token(app, "manager@example.com", can_create_projects=True)
    annotator_id, annotator = user_with_token(app, "annotator@example.com")
    _, outsider = user_with_token(app, "outsider@example.com")
    other_id, other_manager = user_with_token(app, "other@example.com", can_create_projects=True)
    with app.app_context():
        project = make_project(db.session, db.session.get_one(UserRow, manager_id))
        make_project(db.session, db.session.get_one(UserRow, other_id), title="Other")
        add_member(db.session, project, db.session.get_one(UserRow, annotator_id), "annotator")
        tasks = make_tasks(db.session, project, 3)
        db.session.commit()
        return Setup(project.id, [t.id for t in tasks], manager, annotator, outsider, other_manager)


def _connect(client: FlaskClient, setup: Setup, url: str, **fields: Any) -> Any:
    body = {"project": setup.project_id, "url": url, "title": "First choice", **fields}
    return client.post("/api/ml", json=body, headers=setup.manager)


def _materialize(database_url: str, project_id: int, tmp_path: Path) -> dg.ExecuteInProcessResult:
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("projects", [str(project_id)])
        return dg.materialize(
            [task_predictions],
            resources={
                "database": DatabaseResource(url=database_url),
                "predictor": RegistryPredictor(
                    model_registry=StaticModelRegistry(root=str(tmp_path / "registry"))
                ),
            },
            instance=instance,
            partition_key=str(project_id),
            raise_on_error=False,
        )


def test_a_connected_backend_predicts_trains_and_suggests(
    app: Flask,
    client: FlaskClient,
    setup: Setup,
    ml_backend: MLBackendProcess,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _allow_loopback(app, monkeypatch)

    created = _connect(client, setup, ml_backend.url)
    assert created.status_code == 201, created.json
    backend = created.json
    assert backend["state"] == "CONNECTED", backend
    # What the backend's /setup reports: "INITIAL", then the id of its last training job.
    assert backend["model_version"]
    assert backend["error_message"] is None and backend["project"] == setup.project_id
    listed = client.get(f"/api/ml?project={setup.project_id}", headers=setup.manager)
    assert [b["id"] for b in listed.json] == [backend["id"]]

    # Pre-annotation through Dagster asks the project's backend, not the (empty) registry.
    result = _materialize(database_url, setup.project_id, tmp_path)
    assert result.success
    with app.app_context():
        predictions = db.session.scalars(
            sa.select(PredictionRow).where(PredictionRow.project_id == setup.project_id)
        ).all()
    assert sorted(p.task_id for p in predictions) == setup.task_ids
    assert {p.model_version for p in predictions} == {backend["model_version"]}
    assert all(p.score == 0.9 for p in predictions)
    assert [p.result[0]["value"]["choices"] for p in predictions] == [["Positive"]] * 3

    # "Train" sends Label Studio's START_TRAINING event: the backend's fit() runs.
    trained = client.post(f"/api/ml/{backend['id']}/train", headers=setup.manager)
    assert trained.status_code == 200, trained.json
    training = ml_backend.wait_for_fit(lambda f: f["event"] == "START_TRAINING")
    assert training["data"]["project"]["id"] == setup.project_id

    # The annotator submits: the worker, not the request, sends ANNOTATION_CREATED to the
    # backend's /webhook, and fit() runs again with the annotation.
    submitted = client.post(
        f"/api/tasks/{setup.task_ids[0]}/annotations",
        json={"result": choice_result("Negative")},
        headers=setup.annotator,
    )
    assert submitted.status_code == 201, submitted.json
    drain(app)
    fit = ml_backend.wait_for_fit(lambda f: f["event"] == "ANNOTATION_CREATED")
    assert fit["data"]["annotation"]["id"] == submitted.json["id"]
    assert fit["data"]["annotation"]["result"][0]["value"] == {"choices": ["Negative"]}
    # Training and events describe the project alike: Label Studio's webhook project shape.
    assert set(fit["data"]["project"]) == set(training["data"]["project"])
    assert {"label_config", "model_version", "task_number"} <= set(fit["data"]["project"])

    # Interactive pre-annotation: the annotator's context reaches predict().
    ask = {"task": setup.task_ids[1], "context": {"choice": "Neutral"}}
    url = f"/api/ml/{backend['id']}/interactive-annotating"
    refused = client.post(url, json=ask, headers=setup.annotator)
    assert refused.status_code == 400 and "not interactive" in refused.json["detail"]
    patched = client.patch(
        f"/api/ml/{backend['id']}", json={"is_interactive": True}, headers=setup.manager
    )
    assert patched.status_code == 200 and patched.json["is_interactive"] is True
    suggested = client.post(url, json=ask, headers=setup.annotator)
    assert suggested.status_code == 200, suggested.json
    assert suggested.json["data"]["result"][0]["value"] == {"choices": ["Neutral"]}

    assert client.delete(f"/api/ml/{backend['id']}", headers=setup.manager).status_code == 204
    assert client.get(f"/api/ml?project={setup.project_id}", headers=setup.manager).json == []


def test_an_unreachable_backend_is_in_error_and_fails_pre_annotation_clearly(
    app: Flask,
    client: FlaskClient,
    setup: Setup,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _allow_loopback(app, monkeypatch)
    down = f"http://127.0.0.1:{free_port()}"

    created = _connect(client, setup, down, timeout=2)
    assert created.status_code == 201, created.json
    assert created.json["state"] == "ERROR"
    assert f"ML backend {down}/health is unreachable" in created.json["error_message"]

    result = _materialize(database_url, setup.project_id, tmp_path)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    message = error.cause.message if error.cause else error.message
    assert message.startswith("labelops.services.ml_client.MLBackendCallError")
    assert f"ML backend {down}/setup is unreachable" in message
    assert "no model yet" not in message


def test_backend_urls_the_outbound_rule_refuses_are_400(
    client: FlaskClient, setup: Setup, ml_backend: MLBackendProcess
) -> None:
    loopback = _connect(client, setup, ml_backend.url)  # 127.0.0.1, not allowlisted
    assert loopback.status_code == 400, loopback.json
    assert "loopback" in loopback.json["validation_errors"]["url"][0]
    metadata = _connect(client, setup, "http://169.254.169.254/latest")
    assert metadata.status_code == 400 and "metadata" in metadata.json["detail"]
    scheme = _connect(client, setup, "file:///etc/passwd")
    assert scheme.status_code == 400 and "url" in scheme.json["validation_errors"]
    for bad, field in [({"timeout": 0}, "timeout"), ({"auth_method": "TOKEN"}, "auth_method")]:
        answer = _connect(client, setup, "https://ml.example.com", **bad)
        assert answer.status_code == 400 and field in answer.json["validation_errors"], answer.json
    assert _connect(client, setup, "https://ml.example.com", color="x").status_code == 400
    missing = client.post("/api/ml", json={"project": setup.project_id}, headers=setup.manager)
    assert missing.status_code == 400 and "url" in missing.json["validation_errors"]
    assert client.get("/api/ml", headers=setup.manager).status_code == 400  # no ?project=
    with client.application.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MLBackendRow)) == 0


def test_only_the_projects_managers_reach_its_backends(
    app: Flask, client: FlaskClient, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    _allow_loopback(app, monkeypatch)
    backend = _connect(client, setup, f"http://127.0.0.1:{free_port()}", timeout=1).json
    bid, pid = backend["id"], setup.project_id
    calls = [
        ("get", f"/api/ml?project={pid}", None),
        ("post", "/api/ml", {"project": pid, "url": "https://ml.example.com"}),
        ("get", f"/api/ml/{bid}", None),
        ("patch", f"/api/ml/{bid}", {"title": "mine"}),
        ("post", f"/api/ml/{bid}/train", None),
        ("delete", f"/api/ml/{bid}", None),
    ]
    for headers, status in [
        (setup.annotator, 403),
        (setup.outsider, 404),
        (setup.other_manager, 404),
    ]:
        for method, url, body in calls:
            answer = getattr(client, method)(url, json=body, headers=headers)
            assert answer.status_code == status, (method, url, answer.json)
    other = client.post(
        "/api/ml/999999/interactive-annotating", json={"task": 1}, headers=setup.annotator
    )
    assert other.status_code == 404
    assert client.get(f"/api/ml/{bid}").status_code == 401
    with app.app_context():
        assert db.session.get_one(MLBackendRow, bid).title == "First choice"


def test_a_basic_auth_password_is_encrypted_and_never_returned(
    app: Flask, client: FlaskClient, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    _allow_loopback(app, monkeypatch)
    fields = {"auth_method": "BASIC_AUTH", "basic_auth_user": "ml", "basic_auth_pass": "s3cret"}
    monkeypatch.delenv("LABELOPS_STORAGE_SECRET_KEY", raising=False)
    no_key = _connect(client, setup, f"http://127.0.0.1:{free_port()}", timeout=1, **fields)
    assert no_key.status_code == 400
    assert "LABELOPS_STORAGE_SECRET_KEY" in no_key.json["validation_errors"]["basic_auth_pass"][0]

    from cryptography.fernet import Fernet

    monkeypatch.setenv("LABELOPS_STORAGE_SECRET_KEY", Fernet.generate_key().decode())
    created = _connect(client, setup, f"http://127.0.0.1:{free_port()}", timeout=1, **fields)
    assert created.status_code == 201, created.json
    assert created.json["basic_auth_pass_is_set"] is True
    assert "s3cret" not in created.get_data(as_text=True)
    with app.app_context():
        stored = db.session.get_one(MLBackendRow, created.json["id"]).basic_auth_pass_encrypted
    assert stored.startswith("fernet:") and "s3cret" not in stored
    no_user = _connect(client, setup, created.json["url"], auth_method="BASIC_AUTH")
    assert "basic_auth_user" in no_user.json["validation_errors"]


def test_the_settings_page_connects_checks_and_trains_a_backend(
    app: Flask,
    client: FlaskClient,
    auth: Any,
    setup: Setup,
    ml_backend: MLBackendProcess,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _allow_loopback(app, monkeypatch)
    settings = f"/projects/{setup.project_id}/settings"
    auth.login("annotator@example.com", "password123")
    token = csrf(client)
    refused = client.post(
        f"{settings}/model", data={"model-url": ml_backend.url, "csrf_token": token}
    )
    assert refused.status_code == 403
    client.post("/auth/logout", data={"csrf_token": token})

    auth.login("manager@example.com", "password123")
    form = {
        "model-url": ml_backend.url,
        "model-title": "Choices bot",
        "model-auth_method": "NONE",
        "model-timeout": "30",
        "model-csrf_token": csrf(client, settings),
    }
    page = client.post(f"{settings}/model", data=form, follow_redirects=True)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Choices bot is connected (model version" in html
    assert 'class="badge badge-ml-connected"' in html
    with app.app_context():
        (row,) = db.session.scalars(sa.select(MLBackendRow)).all()

    token = {"csrf_token": csrf(client, settings)}
    trained = client.post(f"{settings}/model/{row.id}/train", data=token, follow_redirects=True)
    assert "Training started on Choices bot." in trained.get_data(as_text=True)
    ml_backend.wait_for_fit(
        lambda f: f["event"] == "START_TRAINING" and f["data"]["project"]["id"] == setup.project_id
    )
    down = client.post(
        f"{settings}/model",
        data={
            **form,
            "model-url": "http://10.255.255.1:9090",
            "model-csrf_token": token["csrf_token"],
        },
        follow_redirects=True,
    )
    assert "The ML backend was not connected: url: ML backend URL" in down.get_data(as_text=True)
    gone = client.post(f"{settings}/model/{row.id}/delete", data=token, follow_redirects=True)
    assert "Choices bot was disconnected." in gone.get_data(as_text=True)
    assert client.post(f"{settings}/model/{row.id}/check", data=token).status_code == 404
