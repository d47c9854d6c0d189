"""Schemathesis over /api/openapi.json against a live server: zero 5xx, on SQLite and PostgreSQL.

Every operation the document lists gets schema-conforming (positive) and schema-violating
(negative) requests with a valid token and the ids of real objects in its path, so the requests
reach the validation and service code rather than stopping at a 404. Deletions run last (the
project's own last of all), so they do not empty the fixtures under the other operations; revoking
the token and launching pipeline processes (pipeline actions, storage syncs) are left out.
Examples are bounded and derandomized, so the run is reproducible and fits CI.
"""

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from werkzeug.serving import make_server

from tests.factories import TEXT_CONFIG
from tests.web.helpers import user_with_token

MAX_EXAMPLES = 12
# Left out: revoking the token would fail every later request; launches start processes.
EXCLUDED = {
    ("POST", "/api/current-user/reset-token"),
    ("POST", "/api/projects/{project_id}/pipeline/{action}"),
}


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def fixtures(app: Flask, client: FlaskClient) -> tuple[dict[str, str], dict[str, Any]]:
    user_id, headers = user_with_token(app, "fuzz-admin@example.com", admin=True)
    project = client.post(
        "/api/projects", json={"title": "Fuzz", "label_config": TEXT_CONFIG}, headers=headers
    ).json
    task = client.post(
        "/api/tasks", json={"project": project["id"], "data": {"text": "hi"}}, headers=headers
    ).json
    annotation = client.post(
        f"/api/tasks/{task['id']}/annotations", json={"result": []}, headers=headers
    ).json
    prediction = client.post(
        "/api/predictions", json={"task": task["id"], "result": [], "score": 0.5}, headers=headers
    ).json
    ids = {
        "project_id": project["id"],
        "task_id": task["id"],
        "annotation_id": annotation["id"],
        "prediction_id": prediction["id"],
        "user_id": user_id,
        "storage_id": 1,
    }
    return headers, ids


def _fuzz(
    operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str], ids: dict
) -> list[str]:
    names = {p.name for p in operation.path_parameters}
    strategy = operation.as_strategy(
        generation_mode=mode,
        headers=headers,
        path_parameters={k: v for k, v in ids.items() if k in names},
    )
    failures: list[str] = []

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        try:
            case.validate_response(response, checks=[not_a_server_error], headers=headers)
        except FailureGroup:
            failures.append(
                f"{case.method} {case.formatted_path} [{mode}] body={case.body!r:.300} "
                f"-> {response.status_code}: {response.text[:200]}"
            )

    try:
        run()
    except Unsatisfiable:
        # Nothing to break: every parameter of the operation is fixed (negative mode only).
        assert mode == GenerationMode.NEGATIVE, operation.label
    return failures


def test_schemathesis_finds_no_server_error(
    live_url: str, fixtures: tuple[dict[str, str], dict[str, Any]]
) -> None:
    headers, ids = fixtures
    schema = schemathesis.openapi.from_url(f"{live_url}/api/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(
        key=lambda op: (op.method.upper() == "DELETE", op.path == "/api/projects/{project_id}")
    )
    fuzzed = 0
    for operation in operations:
        if (operation.method.upper(), operation.path) in EXCLUDED or operation.path.endswith(
            "/sync"
        ):  # a storage sync launches the sync run too
            continue
        fuzzed += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += _fuzz(operation, mode, live_url, headers, ids)
    assert fuzzed >= 30
    assert failures == []
