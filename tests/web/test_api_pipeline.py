"""Pipeline endpoints, launching real Dagster runs in local processes on a temporary instance."""

import json
import time
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from labelops.assets.ingest import raw_tasks
from labelops.assets.preannotation import task_predictions
from labelops.db.models import PipelineRunRow, StorageConnectionRow, TaskRow
from labelops.resources.database import DatabaseResource
from labelops.resources.model_registry import MlflowModelRegistry
from labelops.resources.object_store import LocalObjectStore
from labelops.resources.predictor import RegistryPredictor
from labelops.settings import Settings
from labelops.web.extensions import db
from tests.factories import TEXT_CONFIG, choice_result
from tests.web.helpers import user_with_token

DEAD = "http://127.0.0.1:9"  # nothing listens there


@pytest.fixture
def pipeline_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Path:
    """The environment the local Dagster runs inherit: same database and home as the app."""
    home = tmp_path / "home"
    monkeypatch.setenv("LABELOPS_HOME", str(home))
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)
    monkeypatch.setenv("LABELOPS_ENV", "local")
    monkeypatch.setenv("LABELOPS_STORAGE_SECRET_KEY", Fernet.generate_key().decode())
    # What an administrator allows: two variables, and one endpoint where nothing listens.
    monkeypatch.setenv("LABELOPS_STORAGE_SECRET_ENV_ALLOWLIST", "MY_KEY,MY_SECRET")
    monkeypatch.setenv("LABELOPS_STORAGE_ENDPOINT_ALLOWLIST", DEAD)
    monkeypatch.setenv("LABELOPS_OUTBOUND_HOST_ALLOWLIST", "127.0.0.1:9")
    monkeypatch.delenv("MY_KEY", raising=False)
    monkeypatch.delenv("MY_SECRET", raising=False)
    for name in ("DAGSTER_HOME", "LABELOPS_OBJECT_STORE_ROOT", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    # Nothing listens here, so launches take the local-process path.
    monkeypatch.setenv("LABELOPS_DAGSTER_UI_URL", "http://127.0.0.1:9")
    return home


@pytest.fixture
def pipeline_app(pipeline_env: Path, app: Flask) -> Flask:
    app.config["LABELOPS_SETTINGS"] = Settings.from_env(pipeline_env)
    app.config["DAGSTER_UI_URL"] = "http://127.0.0.1:9"
    return app


@pytest.fixture
def api(pipeline_app: Flask) -> tuple[FlaskClient, dict[str, str], int]:
    client = pipeline_app.test_client()
    _, headers = user_with_token(pipeline_app, "manager@example.com", can_create_projects=True)
    response = client.post(
        "/api/projects", json={"title": "Loop", "label_config": TEXT_CONFIG}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    return client, headers, response.get_json()["id"]


def _wait_for(client: FlaskClient, headers: dict[str, str], project_id: int, run: int) -> Any:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = client.get(f"/api/projects/{project_id}/pipeline/runs", headers=headers).get_json()
        found = next(r for r in runs["results"] if r["id"] == run)
        if found["status"] in ("succeeded", "failed"):
            return found
        time.sleep(0.2)
    pytest.fail(f"run {run} did not finish in 120 s")


def test_storage_secrets_are_encrypted_and_never_returned(
    api: tuple[FlaskClient, dict[str, str], int], pipeline_app: Flask
) -> None:
    client, headers, project_id = api

    created = client.post(
        f"/api/projects/{project_id}/storages",
        json={
            "kind": "s3",
            "bucket": "b",
            "prefix": "in",
            "access_key_id": "AKIAVERYOWNKEY",
            "secret": "very-secret-value",
        },
        headers=headers,
    )
    by_env = client.post(
        f"/api/projects/{project_id}/storages",
        json={
            "kind": "s3",
            "bucket": "b",
            "access_key_id_env": "MY_KEY",
            "secret_env": "MY_SECRET",
        },
        headers=headers,
    )
    listed = client.get(f"/api/projects/{project_id}/storages", headers=headers)

    assert created.status_code == 201 and by_env.status_code == 201
    assert "very-secret-value" not in listed.get_data(as_text=True)
    assert "AKIAVERYOWNKEY" not in listed.get_data(as_text=True)
    sources = [(s["secret_source"], s["secret_env"]) for s in listed.get_json()["results"]]
    assert sources == [("encrypted", None), ("env", "MY_SECRET")]
    with pipeline_app.app_context():
        stored = db.session.scalars(sa.select(StorageConnectionRow.secret_encrypted)).all()
    assert stored[0].startswith("fernet:") and "very-secret-value" not in stored[0]
    assert stored[1] == "env:MY_SECRET"
    deleted = client.delete(
        f"/api/projects/{project_id}/storages/{created.get_json()['id']}", headers=headers
    )
    assert deleted.status_code == 204
    assert (
        len(
            client.get(f"/api/projects/{project_id}/storages", headers=headers).get_json()[
                "results"
            ]
        )
        == 1
    )


# Three real runs, each in its own process: SQLite only here; the loop test covers PostgreSQL.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sync_agreement_and_export_run_in_dagster_and_report_their_status(
    api: tuple[FlaskClient, dict[str, str], int], pipeline_app: Flask, pipeline_env: Path
) -> None:
    client, headers, project_id = api
    client.post(
        f"/api/projects/{project_id}/storages",
        json={"kind": "local", "prefix": "incoming"},
        headers=headers,
    )
    incoming = pipeline_env / "objects" / "incoming"
    incoming.mkdir(parents=True)
    (incoming / "tasks.json").write_text(json.dumps([{"text": "fine"}, {"text": "poor"}]))

    launched = client.post(f"/api/projects/{project_id}/pipeline/sync-storage", headers=headers)
    run = _wait_for(client, headers, project_id, launched.get_json()["id"])

    assert launched.status_code == 202
    assert run["status"] == "succeeded", run["error"]
    assert run["job_name"] == "ingest_job"
    assert run["dagster_url"] == f"http://127.0.0.1:9/runs/{run['run_id']}"
    with pipeline_app.app_context():
        task_ids = db.session.scalars(sa.select(TaskRow.id).order_by(TaskRow.id)).all()
    assert len(task_ids) == 2
    for task_id in task_ids:
        response = client.post(
            f"/api/tasks/{task_id}/annotations",
            json={"result": choice_result("Positive")},
            headers=headers,
        )
        assert response.status_code == 201

    agreement = client.post(f"/api/projects/{project_id}/pipeline/agreement", headers=headers)
    assert _wait_for(client, headers, project_id, agreement.get_json()["id"])["status"] == (
        "succeeded"
    )
    export = client.post(f"/api/projects/{project_id}/pipeline/export-dataset", headers=headers)
    assert _wait_for(client, headers, project_id, export.get_json()["id"])["status"] == (
        "succeeded"
    )

    report = client.get(f"/api/projects/{project_id}/agreement", headers=headers).get_json()
    assert report["report"]["num_tasks"] == 2
    assert "sentiment" in report["report"]["controls"]
    datasets = client.get(f"/api/projects/{project_id}/datasets", headers=headers).get_json()
    assert datasets["count"] == 1
    assert datasets["results"][0]["num_tasks"] == 2
    assert datasets["results"][0]["details"]["label_distribution"] == {"Positive": 2}
    runs = client.get(f"/api/projects/{project_id}/pipeline/runs", headers=headers).get_json()
    assert [r["job_name"] for r in runs["results"]] == [
        "dataset_job",
        "agreement_job",
        "ingest_job",
    ]


def test_a_failing_run_shows_the_error(api: tuple[FlaskClient, dict[str, str], int]) -> None:
    client, headers, project_id = api
    client.post(
        f"/api/projects/{project_id}/storages",
        json={"kind": "s3", "bucket": "b", "endpoint_url": DEAD},
        headers=headers,
    )

    launched = client.post(f"/api/projects/{project_id}/pipeline/sync-storage", headers=headers)
    run = _wait_for(client, headers, project_id, launched.get_json()["id"])

    assert run["status"] == "failed"
    assert "Could not connect to the endpoint URL" in run["error"]


def test_sync_with_an_unset_variable_is_refused_before_any_run(
    api: tuple[FlaskClient, dict[str, str], int], pipeline_app: Flask
) -> None:
    client, headers, project_id = api
    added = client.post(
        f"/api/projects/{project_id}/storages",
        json={
            "kind": "s3",
            "bucket": "b",
            "access_key_id_env": "MY_KEY",
            "secret_env": "MY_SECRET",
        },
        headers=headers,
    )

    launched = client.post(f"/api/projects/{project_id}/pipeline/sync-storage", headers=headers)

    assert added.status_code == 201
    assert launched.status_code == 400
    body = launched.get_json()
    assert body["field"] == "access_key_id_env" and body["status_code"] == 400
    assert "MY_KEY is not set" in body["detail"]
    with pipeline_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PipelineRunRow.id))) == 0


def test_pipeline_endpoints_refuse_unknown_actions_and_non_managers(
    api: tuple[FlaskClient, dict[str, str], int], pipeline_app: Flask
) -> None:
    client, headers, project_id = api
    _, stranger = user_with_token(pipeline_app, "stranger@example.com")

    unknown = client.post(f"/api/projects/{project_id}/pipeline/train-everything", headers=headers)
    hidden = client.post(f"/api/projects/{project_id}/pipeline/agreement", headers=stranger)
    no_report = client.get(f"/api/projects/{project_id}/agreement", headers=headers)

    assert unknown.status_code == 404
    assert "sync-storage" in unknown.get_json()["detail"]
    assert hidden.status_code == 404
    assert no_report.status_code == 404
    assert client.get(f"/api/projects/{project_id}/pipeline/runs", headers=headers).get_json() == {
        "results": [],
        "problem": "",
    }


def _outside_runs(settings: Settings, project_id: int, tmp_path: Path) -> None:
    """Runs the project's partition the way a sensor and the CLI do, in the app's Dagster home."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    instance = dg.DagsterInstance.from_config(str(settings.dagster_home))
    registry = MlflowModelRegistry(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    resources = {
        "database": DatabaseResource(url=settings.database_url),
        "object_store": LocalObjectStore(root=str(settings.object_store_root)),
        "model_registry": registry,
        "predictor": RegistryPredictor(model_registry=registry),
    }
    key = str(project_id)
    try:
        instance.add_dynamic_partitions("projects", [key])
        sensor = dg.materialize(
            [raw_tasks],
            resources=resources,
            instance=instance,
            partition_key=key,
            tags={"dagster/sensor_name": "new_object_sensor"},
            raise_on_error=False,
        )
        cli = dg.materialize(
            [task_predictions], resources=resources, instance=instance, partition_key=key
        )
    finally:
        instance.dispose()
    assert not sensor.success and cli.success


def test_runs_started_outside_the_web_app_are_listed_with_error_and_outcome(
    api: tuple[FlaskClient, dict[str, str], int], pipeline_app: Flask, tmp_path: Path
) -> None:
    client, headers, project_id = api
    client.post(
        f"/api/projects/{project_id}/storages",
        json={"kind": "s3", "bucket": "b", "endpoint_url": DEAD},
        headers=headers,
    )
    _outside_runs(pipeline_app.config["LABELOPS_SETTINGS"], project_id, tmp_path)

    runs = client.get(f"/api/projects/{project_id}/pipeline/runs", headers=headers).get_json()

    assert runs["problem"] == ""
    predictions, ingest = runs["results"]
    assert (ingest["status"], ingest["id"]) == ("failed", None)  # not launched by the web app
    assert ingest["source"] == "sensor new_object_sensor"
    assert "Could not connect to the endpoint URL" in ingest["error"]
    assert predictions["status"] == "succeeded" and predictions["source"] == "CLI or Dagster UI"
    assert "has no champion model yet" in predictions["outcome"]
    assert predictions["dagster_url"] == f"{DEAD}/runs/{predictions['run_id']}"


def test_in_production_the_web_app_never_runs_a_job_itself(
    api: tuple[FlaskClient, dict[str, str], int],
    pipeline_app: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, headers, project_id = api
    monkeypatch.setenv("LABELOPS_ENV", "production")

    launched = client.post(f"/api/projects/{project_id}/pipeline/agreement", headers=headers)
    runs = client.get(f"/api/projects/{project_id}/pipeline/runs", headers=headers).get_json()

    assert launched.status_code == 202
    body = launched.get_json()
    assert body["status"] == "failed" and body["run_id"] == ""
    assert (
        f"the Dagster webserver at {DEAD} (LABELOPS_DAGSTER_UI_URL) is unreachable"
        in (body["error"])
    )
    assert "the Dagster webserver" in runs["problem"]
    assert [r["status"] for r in runs["results"]] == ["failed"]
    assert not pipeline_app.config["LABELOPS_SETTINGS"].dagster_home.exists()
