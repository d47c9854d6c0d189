"""The pipeline page through the Flask client: storages, launches of real Dagster runs, runs table.

Runs are launched in-process against a temporary Dagster instance, as in test_api_pipeline.
"""

import json
import re
import time
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from labelops.assets.preannotation import task_predictions
from labelops.db.models import DatasetVersionRow, PipelineRunRow, StorageConnectionRow, TaskRow
from labelops.resources.database import DatabaseResource
from labelops.resources.model_registry import MlflowModelRegistry
from labelops.resources.predictor import RegistryPredictor
from labelops.services.pipeline_storage import create_storage
from labelops.services.projects import get_project
from labelops.settings import Settings
from labelops.web.extensions import db
from tests.factories import add_member, make_project, make_user

UI = "http://127.0.0.1:9"
DEAD = "http://127.0.0.1:9"  # nothing listens there
SECRET = "wJalrXUtnFEMI-very-secret-value"


@pytest.fixture
def pipeline_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Path:
    """The environment the in-process Dagster runs read: same database and home as the app."""
    home = tmp_path / "home"
    monkeypatch.setenv("LABELOPS_HOME", str(home))
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)
    monkeypatch.setenv("LABELOPS_ENV", "local")
    monkeypatch.setenv("LABELOPS_STORAGE_SECRET_KEY", Fernet.generate_key().decode())
    # What an administrator allows members to pick: one variable, two endpoints (one that is
    # never answered, for a run that fails), and the internal hosts they live on.
    monkeypatch.setenv("LABELOPS_STORAGE_SECRET_ENV_ALLOWLIST", "MINIO_KEY")
    monkeypatch.setenv("LABELOPS_STORAGE_ENDPOINT_ALLOWLIST", f"http://minio:9000,{DEAD}")
    monkeypatch.setenv("LABELOPS_OUTBOUND_HOST_ALLOWLIST", "minio,127.0.0.1:9")
    for name in ("DAGSTER_HOME", "LABELOPS_OBJECT_STORE_ROOT", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    # Nothing listens here, so launches take the in-process path.
    monkeypatch.setenv("LABELOPS_DAGSTER_UI_URL", UI)
    return home


@pytest.fixture
def pipeline_app(pipeline_env: Path, app: Flask) -> Flask:
    app.config["LABELOPS_SETTINGS"] = Settings.from_env(pipeline_env)
    app.config["DAGSTER_UI_URL"] = UI
    return app


@pytest.fixture
def project(pipeline_app: Flask, auth: Any) -> int:
    """A project managed by manager@, with Ann as annotator; the manager is signed in."""
    with pipeline_app.app_context():
        manager = make_user(db.session, "manager@example.com")
        project = make_project(db.session, manager)
        add_member(db.session, project, make_user(db.session, "ann@example.com"), "annotator")
        make_user(db.session, "outsider@example.com")
        db.session.commit()
        project_id = project.id
    auth.login("manager@example.com", "password123")
    return project_id


def csrf(client: FlaskClient, project_id: int) -> str:
    body = client.get(f"/projects/{project_id}/pipeline").get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', body)
    assert found
    return found.group(1)


def add_storage(client: FlaskClient, project_id: int, **fields: str) -> Any:
    data = {"csrf_token": csrf(client, project_id), "kind": "s3", **fields}
    return client.post(f"/projects/{project_id}/pipeline/storages", data=data)


def launch(client: FlaskClient, project_id: int, action: str) -> Any:
    return client.post(
        f"/projects/{project_id}/pipeline/run/{action}",
        data={"csrf_token": csrf(client, project_id)},
        follow_redirects=True,
    )


def wait_for_run(client: FlaskClient, project_id: int) -> str:
    """Reloads the page until its newest run has finished; returns the page."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = client.get(f"/projects/{project_id}/pipeline").get_data(as_text=True)
        newest = re.search(r'<tr data-run-id="[^"]+" data-status="(\w+)"', body)
        assert newest, "no run on the page"
        if newest.group(1) in ("succeeded", "failed"):
            return body
        time.sleep(0.5)
    pytest.fail("the run did not finish in 120 s")


def runs_table(body: str) -> str:
    return body[body.index("<tbody data-runs>") : body.index("Storage connections")]


def test_page_shows_actions_storages_runs_and_datasets(
    client: FlaskClient, project: int, pipeline_app: Flask
) -> None:
    empty = client.get(f"/projects/{project}/pipeline")
    body = empty.get_data(as_text=True)
    assert empty.status_code == 200
    assert f'href="/projects/{project}/pipeline" aria-current="page">Pipeline</a>' in body
    for label in (
        "Sync storage",
        "Run pre-annotation",
        "Compute agreement",
        "Export dataset",
        "Train model",
    ):
        assert f">{label}</button>" in body
    assert "No runs yet." in body and "No dataset version yet." in body
    assert "No storage connection yet." in body
    assert f'href="/projects/{project}/dashboard">See agreement on the dashboard' in body

    with pipeline_app.app_context():
        row = get_project(db.session, project)
        create_storage(db.session, row, kind="s3", bucket="raw", prefix="in/", region="eu-west-1")
        db.session.add(
            DatasetVersionRow(
                project_id=project, version="ab" * 32, uri="file:///data/v1", num_tasks=7
            )
        )
        db.session.add(
            PipelineRunRow(
                project_id=project,
                job_name="dataset_job",
                run_id="r-1",
                status="failed",
                error="step labeled_dataset failed: no annotations",
            )
        )
        db.session.commit()
    body = client.get(f"/projects/{project}/pipeline").get_data(as_text=True)

    assert "<code>s3://raw/in</code>" in body and "region eu-west-1" in body
    assert "secret: <span data-secret-state>not set</span>" in body
    assert f'<code title="{"ab" * 32}">{"ab" * 6}</code>' in body
    assert 'data-status="failed"' in body
    assert '<span class="badge badge-run-failed">failed</span>' in body
    assert "step labeled_dataset failed: no annotations" in body
    assert f'href="{UI}/runs/r-1"' in body and "Open in Dagster" in body
    assert "Refreshing every 2 s" in body and "data-polling hidden" in body


def test_only_managers_open_the_page(client: FlaskClient, project: int, auth: Any) -> None:
    url = f"/projects/{project}/pipeline"
    auth.logout()
    assert client.get(url).status_code == 302  # to the login page
    auth.login("ann@example.com", "password123")
    assert client.get(url).status_code == 403
    assert "Pipeline</a>" not in client.get(f"/projects/{project}/data").get_data(as_text=True)
    assert launch(client, project, "agreement").status_code == 403
    auth.logout()
    auth.login("outsider@example.com", "password123")
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"endpoint_url": "http://10.0.0.5:9000"}, "endpoint_url", "is not an endpoint members"),
        ({"access_key_id_env": "my key"}, "access_key_id_env", "is not an environment variable"),
        ({"secret_env": "AWS_SECRET_ACCESS_KEY"}, "secret_env", "is not a variable members may"),
        ({"prefix": "../outside"}, "prefix", "cannot contain &#39;.&#39; or &#39;..&#39; parts"),
        ({"secret": SECRET}, "access_key_id", "credentials come as a pair"),
        ({"kind": "local", "bucket": "raw", "prefix": "in"}, "bucket", "a local folder has no"),
        ({"kind": "local", "bucket": "", "prefix": "datasets/1"}, "prefix", "own datasets/"),
    ],
)
def test_storage_form_shows_the_services_error_next_to_its_field(
    client: FlaskClient,
    project: int,
    pipeline_app: Flask,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = add_storage(client, project, **{"bucket": "raw", **fields})
    body = response.get_data(as_text=True)

    assert response.status_code == 400
    error = re.search(rf'<span class="error" id="{field}-error">([^<]*)</span>', body)
    assert error and message in error.group(1), body[body.index("Add a connection") :]
    assert SECRET not in body  # the password field never echoes its value
    if field == "prefix":
        assert f'value="{fields["prefix"]}"' in body  # the fields keep what was typed
    with pipeline_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StorageConnectionRow.id))) == 0


def test_storage_form_offers_only_what_the_administrator_allowed(
    client: FlaskClient, project: int
) -> None:
    body = client.get(f"/projects/{project}/pipeline").get_data(as_text=True)
    variables = re.search(r'<select[^>]*id="secret_env"[^>]*>(.*?)</select>', body, re.S)
    endpoints = re.search(r'<select[^>]*id="endpoint_url"[^>]*>(.*?)</select>', body, re.S)

    assert variables and endpoints
    assert re.findall(r'<option value="([^"]*)"', variables.group(1)) == ["", "MINIO_KEY"]
    assert re.findall(r'<option value="([^"]*)"', endpoints.group(1)) == [
        "",
        "http://minio:9000",
        DEAD,
    ]


def test_secret_is_encrypted_and_never_shown(
    client: FlaskClient, project: int, pipeline_app: Flask
) -> None:
    added = add_storage(
        client,
        project,
        bucket="raw",
        prefix="incoming",
        file_pattern="*.jsonl",
        endpoint_url="http://minio:9000",
        access_key_id_env="MINIO_KEY",
        secret=SECRET,
    )
    page = client.get(f"/projects/{project}/pipeline").get_data(as_text=True)
    api = client.get(
        f"/api/projects/{project}/storages", headers={"X-CSRFToken": csrf(client, project)}
    )

    assert added.status_code == 302
    assert "Storage connection added (raw, prefix “incoming”)." in page
    assert "<code>s3://raw/incoming</code>" in page and "<code>*.jsonl</code>" in page
    assert "key id from <code>$MINIO_KEY</code>" in page
    assert "secret: <span data-secret-state>set (encrypted)</span>" in page
    assert SECRET not in page
    assert api.status_code == 200 and SECRET not in api.get_data(as_text=True)
    assert api.get_json()["results"][0]["secret_source"] == "encrypted"
    with pipeline_app.app_context():
        stored = db.session.scalars(sa.select(StorageConnectionRow)).one()
        assert (
            stored.secret_encrypted.startswith("fernet:") and SECRET not in stored.secret_encrypted
        )
        storage_id = stored.id

    deleted = client.post(
        f"/projects/{project}/pipeline/storages/{storage_id}/delete",
        data={"csrf_token": csrf(client, project)},
        follow_redirects=True,
    )
    assert "Storage connection deleted" in deleted.get_data(as_text=True)
    assert "No storage connection yet." in deleted.get_data(as_text=True)


def test_posts_need_the_csrf_token(client: FlaskClient, project: int, pipeline_app: Flask) -> None:
    form = client.post(f"/projects/{project}/pipeline/storages", data={"kind": "local"})
    run = client.post(f"/projects/{project}/pipeline/run/agreement")

    assert form.status_code == 400 and run.status_code == 400
    with pipeline_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StorageConnectionRow.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(PipelineRunRow.id))) == 0


def test_sync_without_a_storage_says_what_to_do(
    client: FlaskClient, project: int, pipeline_app: Flask
) -> None:
    body = launch(client, project, "sync-storage").get_data(as_text=True)
    unknown = client.post(
        f"/projects/{project}/pipeline/run/train-everything",
        data={"csrf_token": csrf(client, project)},
    )

    assert "Sync storage was not started. This project has no storage connection yet" in body
    assert unknown.status_code == 404
    with pipeline_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PipelineRunRow.id))) == 0


def test_sync_storage_through_the_page_runs_in_dagster_and_imports_the_files(
    client: FlaskClient, project: int, pipeline_app: Flask, pipeline_env: Path
) -> None:
    add_storage(client, project, kind="local", prefix="incoming", file_pattern="*.jsonl")
    incoming = pipeline_env / "objects" / "incoming"
    incoming.mkdir(parents=True)
    lines = [json.dumps({"text": t}) for t in ("fine", "poor", "meh")]
    (incoming / "tasks.jsonl").write_text("\n".join(lines) + "\n")
    (incoming / "ignored.csv").write_text("text\nnot imported\n")

    started = launch(client, project, "sync-storage").get_data(as_text=True)
    body = wait_for_run(client, project)

    assert re.search(r"Sync storage started: Dagster run [0-9a-f-]{36}\.", started)
    assert '<span class="badge badge-run-succeeded">succeeded</span>' in body, runs_table(body)
    with pipeline_app.app_context():
        run = db.session.scalars(sa.select(PipelineRunRow)).one()
        texts = db.session.scalars(sa.select(TaskRow.data).order_by(TaskRow.id)).all()
    assert (run.job_name, run.status, run.launched_by_id is not None) == (
        "ingest_job",
        "succeeded",
        True,
    )
    assert f'href="{UI}/runs/{run.run_id}"' in body
    assert [t["text"] for t in texts] == ["fine", "poor", "meh"]
    assert "data-polling hidden" in body


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # one slow run is enough
def test_a_failed_run_shows_the_error_from_dagster(
    client: FlaskClient, project: int, pipeline_app: Flask
) -> None:
    add_storage(client, project, bucket="raw", endpoint_url=DEAD)

    launch(client, project, "sync-storage")
    body = wait_for_run(client, project)

    assert '<span class="badge badge-run-failed">failed</span>' in body, runs_table(body)
    assert "Could not connect to the endpoint URL" in body


def test_a_pre_annotation_without_a_model_says_why_and_offers_train_model(
    client: FlaskClient, project: int, pipeline_app: Flask, tmp_path: Path
) -> None:
    settings = pipeline_app.config["LABELOPS_SETTINGS"]
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    instance = dg.DagsterInstance.from_config(str(settings.dagster_home))
    registry = MlflowModelRegistry(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        instance.add_dynamic_partitions("projects", [str(project)])
        result = dg.materialize(  # as the new champion sensor or the CLI would run it
            [task_predictions],
            resources={
                "database": DatabaseResource(url=settings.database_url),
                "predictor": RegistryPredictor(model_registry=registry),
            },
            instance=instance,
            partition_key=str(project),
            tags={"dagster/sensor_name": "new_champion_sensor"},
        )
    finally:
        instance.dispose()
    assert result.success

    body = client.get(f"/projects/{project}/pipeline").get_data(as_text=True)
    table = runs_table(body)

    assert '<span class="badge badge-run-succeeded">succeeded</span>' in table
    assert "sensor new_champion_sensor" in table
    assert f"project {project} has no champion model yet" in table
    assert 'form="train-form" data-train>Train model</button>' in table
    assert 'id="train-form"' in body
    assert f'action="/projects/{project}/pipeline/run/train"' in body
