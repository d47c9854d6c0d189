"""A small team on the embedded SQLite default never sees a 500 (issue 8, item 5, third bullet).

The attack: 30 annotator threads doing next + submit against the default install got
"database is locked" 500s, because the web app's engine ran with sqlite3's 5 s timeout and none of
the pragmas. Here a real threaded HTTP server runs the default configuration (a SQLite file under
LABELOPS_HOME) and 30 annotators work through HTTP for a bounded time.
"""

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from labelops.db.migrate import upgrade
from labelops.db.models import AnnotationRow
from labelops.settings import Settings
from labelops.web import create_app
from labelops.web.extensions import db
from tests.factories import TEXT_CONFIG, choice_result
from tests.web.helpers import user_with_token

ANNOTATORS = 30
WORK_SECONDS = 20.0
# A request that has not answered after this long counts as a failure, never as a hang.
REQUEST_TIMEOUT = 60.0


@pytest.fixture
def default_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The app as ``labelops up`` configures it with no database settings: SQLite in the home."""
    monkeypatch.delenv("LABELOPS_DATABASE_URL", raising=False)
    settings = Settings.from_env(tmp_path / "home")
    assert settings.database_url.startswith("sqlite:///")
    upgrade(settings.database_url)
    app = create_app({"LABELOPS_SETTINGS": settings})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def server(default_app: Flask) -> Iterator[str]:
    """Serves the app from a threaded werkzeug server on a free port; yields its base URL."""
    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, default_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


def _annotate(base: str, project_id: int, headers: dict[str, str], deadline: float) -> Counter:
    """Runs next + submit until the deadline or the queue is empty; returns status counts."""
    statuses: Counter = Counter()
    with requests.Session() as http:
        http.headers.update(headers)
        while time.monotonic() < deadline:
            try:
                nxt = http.get(f"{base}/api/projects/{project_id}/next", timeout=REQUEST_TIMEOUT)
            except requests.RequestException as exc:
                statuses[f"error {type(exc).__name__}"] += 1
                continue
            statuses[nxt.status_code] += 1
            if nxt.status_code == 404:
                break
            if nxt.status_code != 200:
                continue
            try:
                sent = http.post(
                    f"{base}/api/tasks/{nxt.json()['id']}/annotations",
                    json={"result": choice_result("Positive"), "lead_time": 1.0},
                    timeout=REQUEST_TIMEOUT,
                )
            except requests.RequestException as exc:
                statuses[f"error {type(exc).__name__}"] += 1
                continue
            statuses[sent.status_code] += 1
    return statuses


@pytest.mark.slow
def test_thirty_annotators_on_the_sqlite_default_get_no_server_error(
    default_app: Flask, server: str
) -> None:
    _, admin = user_with_token(default_app, "admin@example.com", admin=True)
    created = requests.post(
        f"{server}/api/projects",
        json={"title": "Load", "label_config": TEXT_CONFIG, "maximum_annotations": 2},
        headers=admin,
        timeout=REQUEST_TIMEOUT,
    )
    assert created.status_code == 201, created.text
    project_id = created.json()["id"]
    imported = requests.post(
        f"{server}/api/projects/{project_id}/import",
        json=[{"text": f"item {i}"} for i in range(3000)],
        headers=admin,
        timeout=REQUEST_TIMEOUT,
    )
    assert imported.status_code == 201, imported.text
    annotators = []
    for n in range(ANNOTATORS):
        user_id, headers = user_with_token(default_app, f"annotator{n}@example.com")
        added = requests.post(
            f"{server}/api/projects/{project_id}/members",
            json={"user": user_id, "role": "annotator"},
            headers=admin,
            timeout=REQUEST_TIMEOUT,
        )
        assert added.status_code in (200, 201), added.text
        annotators.append(headers)

    deadline = time.monotonic() + WORK_SECONDS
    results: list[Counter] = [Counter() for _ in annotators]

    def work(i: int) -> None:
        results[i] = _annotate(server, project_id, annotators[i], deadline)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(ANNOTATORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WORK_SECONDS + 2 * REQUEST_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "an annotator thread hung"

    total = sum(results, Counter())
    failures = {k: v for k, v in total.items() if not isinstance(k, int) or k >= 500}
    assert failures == {}, f"server errors or dropped connections: {total}"
    assert total[201] >= ANNOTATORS, f"too little work got through to mean anything: {total}"
    with default_app.app_context():
        per_task = db.session.execute(
            sa.select(AnnotationRow.task_id, sa.func.count())
            .where(AnnotationRow.project_id == project_id)
            .group_by(AnnotationRow.task_id)
        ).all()
    assert sum(count for _, count in per_task) == total[201]
    assert max(count for _, count in per_task) <= 2
