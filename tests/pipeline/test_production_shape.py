"""The production process layout on this machine, each part a separate process on PostgreSQL.

``labelops serve`` (gunicorn, two workers), ``dagster code-server start``, ``dagster-webserver``
pointing at the code server, ``dagster-daemon run`` and an ``mlflow server``; the labeling
database and the Dagster instance (the repository's ``dagster.yaml`` with DAGSTER_PG_*) live in
fresh PostgreSQL databases, the object store is an S3 endpoint (moto), LABELOPS_ENV=production.
The web app is told only the webserver's URL (LABELOPS_DAGSTER_UI_URL): a run launched through
its REST API is queued by the webserver, started by the daemon through the code server, and
followed through the web API until it ends. The second test drives the whole loop this way:
files uploaded to the bucket, synced, annotated, a model refresh to a champion on the MLflow
server, and pre-annotation that reorders the queue the next-task endpoint serves.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.migrate import upgrade
from tests.conftest import fresh_pg_database
from tests.factories import (
    TEXT_CONFIG,
    choice_result,
    make_project,
    make_tasks,
    make_token,
    make_user,
)
from tests.up_process import clean_env, free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Each answer closes its connection: gunicorn's graceful stop waits for idle keep-alive ones.
CLOSE = {"Connection": "close"}
LABELS = {  # task index -> (annotator A's label, annotator B's label)
    0: ("Positive", "Positive"),
    1: ("Positive", "Negative"),
    2: ("Negative", "Negative"),
    3: ("Negative", "Negative"),
}


@dataclass
class Layout:
    """The started processes, their log files and the addresses they answer on."""

    tmp: Path
    env: dict[str, str]
    processes: dict[str, "subprocess.Popen[bytes]"] = field(default_factory=dict)

    def start(self, name: str, *argv: str, cwd: Path | None = None) -> None:
        """Starts a process in its own process group, its output in ``<name>.log``."""
        with (self.tmp / f"{name}.log").open("wb") as log:
            self.processes[name] = subprocess.Popen(
                [str(BIN / argv[0]), *argv[1:]],
                env=self.env,
                cwd=cwd or self.tmp / "work",
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def logs(self) -> str:
        """Returns the tail of every process's log (for a failure message)."""
        parts = []
        for name in self.processes:
            text = (self.tmp / f"{name}.log").read_text(errors="replace")
            parts.append(f"--- {name} ---\n{text[-3000:]}")
        return "\n".join(parts)

    def wait_until(self, what: str, ready: Callable[[], bool], timeout: float = 90.0) -> None:
        """Returns once ``ready()`` holds; fails with the logs if a process died or time ran out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    pytest.fail(
                        f"{name} exited ({process.returncode}) before {what}\n{self.logs()}"
                    )
            if ready():
                return
            time.sleep(0.5)
        pytest.fail(f"{what}: not within {timeout:.0f} s\n{self.logs()}")

    def stop(self) -> dict[str, int | None]:
        """Returns each process's exit code after SIGTERM to its group (SIGKILL after 30 s)."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for name, process in self.processes.items():
            try:
                codes[name] = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                codes[name] = process.wait(timeout=10)
        return codes


def _listens(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _answers(url: str, status: int) -> bool:
    try:
        return requests.get(url, timeout=2, headers=CLOSE).status_code == status
    except requests.RequestException:
        return False


def _pg_env(url: str) -> dict[str, str]:
    parsed = sa.engine.make_url(url)
    return {
        "DAGSTER_PG_HOST": parsed.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(parsed.port or 5432),
        "DAGSTER_PG_USERNAME": parsed.username or "postgres",
        "DAGSTER_PG_PASSWORD": parsed.password or "",
        "DAGSTER_PG_DB": parsed.database or "",
    }


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """Yields fresh PostgreSQL databases for labelops (migrated) and for the Dagster instance."""
    with (
        fresh_pg_database("labelops_prod") as labelops_url,
        fresh_pg_database("dagster_prod") as dagster_url,
    ):
        labelops_url = labelops_url.replace("postgresql://", "postgresql+psycopg2://", 1)
        upgrade(labelops_url)
        yield labelops_url, dagster_url


@pytest.fixture
def layout(
    tmp_path: Path, databases: tuple[str, str], s3_endpoint: str
) -> Iterator[tuple[Layout, dict[str, Any]]]:
    """Yields the four processes, started and answering, and their addresses; stops them."""
    labelops_url, dagster_url = databases
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    (tmp_path / "work").mkdir()
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket="labelops")
    ports = {name: free_port() for name in ("code", "dagster", "web", "mlflow")}
    mlflow_url = f"http://127.0.0.1:{ports['mlflow']}"
    env = clean_env(
        LABELOPS_ENV="production",
        LABELOPS_HOME=str(tmp_path / "home"),
        LABELOPS_DATABASE_URL=labelops_url,
        LABELOPS_S3_BUCKET="labelops",
        LABELOPS_S3_ENDPOINT_URL=s3_endpoint,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION="us-east-1",
        MLFLOW_TRACKING_URI=mlflow_url,
        DAGSTER_HOME=str(dagster_home),
        PYTHONPATH=str(ROOT),
        **_pg_env(dagster_url),
    )
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        "load_from:\n  - grpc_server:\n      host: 127.0.0.1\n"
        f"      port: {ports['code']}\n      location_name: labelops\n"
    )
    shape = Layout(tmp_path, env)
    try:
        # The tracking server keeps runs in SQLite and serves artifacts from a folder.
        shape.start(
            "mlflow",
            "mlflow", "server", "--host=127.0.0.1", f"--port={ports['mlflow']}", "--workers=1",
            f"--backend-store-uri=sqlite:///{tmp_path / 'mlflow.db'}",
            f"--artifacts-destination={(tmp_path / 'mlartifacts').as_uri()}", "--serve-artifacts",
        )  # fmt: skip
        shape.start(
            "code-server",
            "dagster", "code-server", "start", "--host=127.0.0.1", f"--port={ports['code']}",
            "--module-name=labelops.definitions", "--location-name=labelops",
        )  # fmt: skip
        shape.wait_until("the code server listens", lambda: _listens(ports["code"]), 120)
        shape.start(
            "dagster-webserver",
            "dagster-webserver", "--host=127.0.0.1", f"--port={ports['dagster']}",
            f"--workspace={workspace}",
        )  # fmt: skip
        shape.start("dagster-daemon", "dagster-daemon", "run", f"--workspace={workspace}")
        # The web app knows the webserver's URL only; it never starts Dagster itself.
        shape.env = {**env, "LABELOPS_DAGSTER_UI_URL": f"http://127.0.0.1:{ports['dagster']}"}
        shape.start(
            "web", "labelops", "serve", "--host=127.0.0.1", f"--port={ports['web']}",
            "--workers=2", "--threads=4", "--no-migrate",
        )  # fmt: skip
        dagster_url_ = f"http://127.0.0.1:{ports['dagster']}"
        web_url = f"http://127.0.0.1:{ports['web']}"
        shape.wait_until(
            "the webserver answers", lambda: _answers(f"{dagster_url_}/server_info", 200)
        )
        shape.wait_until("the web app answers", lambda: _answers(f"{web_url}/api/projects", 401))
        shape.wait_until("MLflow answers", lambda: _answers(f"{mlflow_url}/health", 200))
        yield (
            shape,
            {
                "web": web_url,
                "dagster": dagster_url_,
                "dagster_port": ports["dagster"],
                "mlflow": mlflow_url,
                "labelops_url": labelops_url,
                "s3": s3_endpoint,
            },
        )
    finally:
        shape.stop()


def _seed(labelops_url: str) -> tuple[int, str, list[int], list[str]]:
    """Returns a project with two annotators' tokens: (project id, admin token, tasks, tokens)."""
    engine = sa.create_engine(labelops_url)
    try:
        with Session(engine) as session:
            admin = make_user(session, "admin@example.com", admin=True)
            project = make_project(session, admin, maximum_annotations=2)
            tasks = make_tasks(session, project, n=len(LABELS))
            annotators = [make_user(session, f"ann{i}@example.com", admin=True) for i in range(2)]
            tokens = [make_token(session, user) for user in annotators]
            admin_token = make_token(session, admin)
            session.commit()
            return project.id, admin_token, [t.id for t in tasks], tokens
    finally:
        engine.dispose()


def _run_status(web: str, headers: dict[str, str], project_id: int, run_id: int) -> dict[str, Any]:
    response = requests.get(
        f"{web}/api/projects/{project_id}/pipeline/runs", headers=headers, timeout=60
    )
    assert response.status_code == 200, response.text
    (run,) = [r for r in response.json()["results"] if r["id"] == run_id]
    return run


def test_a_run_launched_from_the_web_app_finishes_in_the_separate_process_layout(
    layout: tuple[Layout, dict[str, Any]],
) -> None:
    shape, urls = layout
    web = urls["web"]
    project_id, admin_token, task_ids, tokens = _seed(urls["labelops_url"])
    for index, task_id in enumerate(task_ids):
        for token, label in zip(tokens, LABELS[index], strict=True):
            result = [
                {
                    "id": "r1",
                    "from_name": "sentiment",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": [label]},
                }
            ]
            response = requests.post(
                f"{web}/api/tasks/{task_id}/annotations",
                json={"result": result},
                headers={"Authorization": f"Token {token}", **CLOSE},
                timeout=30,
            )
            assert response.status_code == 201, response.text
    headers = {"Authorization": f"Token {admin_token}", **CLOSE}

    launched = requests.post(
        f"{web}/api/projects/{project_id}/pipeline/agreement", headers=headers, timeout=60
    )
    assert launched.status_code == 202, launched.text
    run = launched.json()
    assert run["status"] != "failed", f"{run['error']}\n{shape.logs()}"
    assert run["dagster_url"].startswith(urls["dagster"])
    shape.wait_until(
        "the agreement run ends",
        lambda: (
            _run_status(web, headers, project_id, run["id"])["status"] in ("succeeded", "failed")
        ),
        timeout=240,
    )
    final = _run_status(web, headers, project_id, run["id"])
    assert final["status"] == "succeeded", f"{final['error']}\n{shape.logs()}"

    # The run went through the webserver's queue and the daemon, and wrote to the labeling DB.
    report = requests.get(f"{web}/api/projects/{project_id}/agreement", headers=headers, timeout=30)
    assert report.status_code == 200, report.text
    assert report.json()["report"]["num_tasks"] == len(LABELS)
    assert "QueuedRunCoordinatorDaemon" in (shape.tmp / "dagster-daemon.log").read_text()
    assert "gthread" in (shape.tmp / "web.log").read_text()

    codes = shape.stop()
    assert codes["web"] == 0, shape.logs()


# The loop's texts with annotator A's and B's labels (None: left for the queue).
LOOP_TASKS = [
    ("good great fun", "Positive", "Positive"),
    ("great lovely film", "Positive", "Positive"),
    ("good lovely acting", "Positive", "Positive"),
    ("good but dull", "Positive", "Negative"),
    ("bad awful plot", "Negative", "Negative"),
    ("awful boring film", "Negative", "Negative"),
    ("bad dull acting", "Negative", "Negative"),
    ("boring but great", "Negative", "Positive"),
    ("great great good", None, None),
    ("awful bad boring", None, None),
    ("film", None, None),
    ("good bad", None, None),
]


def _launch_and_finish(
    shape: Layout, web: str, headers: dict[str, str], project_id: int, action: str
) -> dict[str, Any]:
    """Returns the run of a web-app launch once it succeeded (fails with the logs otherwise)."""
    launched = requests.post(
        f"{web}/api/projects/{project_id}/pipeline/{action}", headers=headers, timeout=60
    )
    assert launched.status_code == 202, launched.text
    run = launched.json()
    assert run["status"] != "failed", f"{action}: {run['error']}\n{shape.logs()}"
    shape.wait_until(
        f"the {action} run ends",
        lambda: (
            _run_status(web, headers, project_id, run["id"])["status"] in ("succeeded", "failed")
        ),
        timeout=300,
    )
    final = _run_status(web, headers, project_id, run["id"])
    assert final["status"] == "succeeded", f"{action}: {final['error']}\n{shape.logs()}"
    return final


def _next_text(web: str, token: str, project_id: int) -> str:
    response = requests.get(
        f"{web}/api/projects/{project_id}/next",
        headers={"Authorization": f"Token {token}", **CLOSE},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["text"])


def test_the_loop_from_a_bucket_upload_to_a_new_champion_and_a_reordered_queue(
    layout: tuple[Layout, dict[str, Any]],
) -> None:
    from dagster_graphql import DagsterGraphQLClient
    from mlflow.tracking import MlflowClient

    from labelops.resources.model_registry import model_name

    shape, urls = layout
    web = urls["web"]
    engine = sa.create_engine(urls["labelops_url"])
    try:
        with Session(engine) as session:
            manager = make_user(session, "manager@example.com", admin=True)
            people = [make_user(session, f"{who}@example.com") for who in ("a", "b", "c", "d")]
            manager_token = make_token(session, manager)
            tokens = [make_token(session, person) for person in people]
            session.commit()
    finally:
        engine.dispose()
    headers = {"Authorization": f"Token {manager_token}", **CLOSE}
    created = requests.post(
        f"{web}/api/projects",
        json={"title": "Reviews", "label_config": TEXT_CONFIG, "maximum_annotations": 2},
        headers=headers,
        timeout=60,
    )
    assert created.status_code == 201, created.text
    project_id = created.json()["id"]
    for who in ("a", "b", "c", "d"):
        member = requests.post(
            f"{web}/api/projects/{project_id}/members",
            json={"email": f"{who}@example.com"},
            headers=headers,
            timeout=60,
        )
        assert member.status_code in (200, 201), member.text
    storage = requests.post(
        f"{web}/api/projects/{project_id}/storages",
        json={"kind": "local", "prefix": "incoming", "file_pattern": "*.*"},
        headers=headers,
        timeout=60,
    )
    assert storage.status_code == 201, storage.text

    # Files land in the bucket; "Sync storage" imports them.
    s3 = boto3.client(
        "s3",
        endpoint_url=urls["s3"],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    head, tail = LOOP_TASKS[:8], LOOP_TASKS[8:]
    s3.put_object(
        Bucket="labelops",
        Key="incoming/batch1.jsonl",
        Body="".join(json.dumps({"text": t}) + "\n" for t, *_ in head).encode(),
    )
    s3.put_object(
        Bucket="labelops",
        Key="incoming/batch2.csv",
        Body=("text\n" + "".join(f"{t}\n" for t, *_ in tail)).encode(),
    )
    _launch_and_finish(shape, web, headers, project_id, "sync-storage")
    listed = requests.get(
        f"{web}/api/projects/{project_id}/tasks?limit=100", headers=headers, timeout=60
    )
    assert listed.status_code == 200, listed.text
    ids = {t["data"]["text"]: t["id"] for t in listed.json()["tasks"]}
    assert set(ids) == {t for t, *_ in LOOP_TASKS}

    # Two annotators label eight tasks through the REST API.
    for token, column in ((tokens[0], 1), (tokens[1], 2)):
        for task in head:
            response = requests.post(
                f"{web}/api/tasks/{ids[task[0]]}/annotations",
                json={"result": choice_result(task[column])},
                headers={"Authorization": f"Token {token}", **CLOSE},
                timeout=60,
            )
            assert response.status_code == 201, response.text
    # No model yet: the queue serves the unlabeled tasks in import order.
    assert _next_text(web, tokens[3], project_id) == "great great good"

    # Agreement, dataset and model, run by the daemon through the webserver's queue.
    dagster = DagsterGraphQLClient("127.0.0.1", port_number=urls["dagster_port"])
    run_id = dagster.submit_job_execution(
        "model_refresh_job", tags={"dagster/partition": str(project_id)}
    )
    shape.wait_until(
        "the model refresh run ends",
        lambda: dagster.get_run_status(run_id).value in ("SUCCESS", "FAILURE", "CANCELED"),
        timeout=400,
    )
    assert dagster.get_run_status(run_id).value == "SUCCESS", shape.logs()
    champion = MlflowClient(urls["mlflow"]).get_model_version_by_alias(
        model_name(project_id), "champion"
    )
    assert str(champion.version) == "1"

    # "Run pre-annotation" predicts with the champion and reorders the queue.
    _launch_and_finish(shape, web, headers, project_id, "preannotate")
    assert _next_text(web, tokens[2], project_id) in {"film", "good bad"}
