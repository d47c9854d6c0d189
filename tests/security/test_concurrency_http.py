"""Forty annotators at once, through HTTP, against gunicorn with several workers on PostgreSQL.

Each annotator loops ``GET /api/projects/<id>/next`` -> ``POST /api/tasks/<id>/annotations``
with their own token until the queue is empty (or a time bound passes). Before the queue re-counted
under the task's row lock, overlap 1 gave tasks two finished annotations and overlap 2 gave tasks
three; the API also took more than one annotation per annotator and task.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.engine import make_engine
from labelops.db.migrate import upgrade
from labelops.db.models import AnnotationRow, ProjectRow, TaskRow
from tests.conftest import fresh_pg_database
from tests.factories import (
    add_member,
    choice_result,
    make_project,
    make_tasks,
    make_token,
    make_user,
)

ANNOTATORS = 40
WORK_SECONDS = 60.0
SIZES = {1: 150, 2: 150}  # overlap -> tasks; enough hand-outs for the race to show
REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.postgres


@dataclass
class Outcome:
    """What the annotator threads saw, gathered under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    stored: list[tuple[int, int, int]] = field(default_factory=list)  # (annotation, task, user)
    refused_submits: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    finished: int = 0  # threads that ended because the queue was empty


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Served:
    """A fresh, migrated PostgreSQL database with two projects, served by gunicorn."""

    url: str
    base: str
    projects: dict[int, tuple[int, int]]  # overlap -> (project id, number of tasks)
    tokens: list[str]  # one per annotator, each a member of both projects


def _seed(url: str, sizes: dict[int, int]) -> tuple[dict[int, tuple[int, int]], list[str]]:
    """Returns {overlap: (project id, tasks)} and the annotators' tokens, all committed."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            manager = make_user(session, "manager@example.com", password=None)
            projects = {}
            for overlap, num_tasks in sizes.items():
                project = make_project(
                    session, manager, title=f"Overlap {overlap}", maximum_annotations=overlap
                )
                make_tasks(session, project, num_tasks)
                projects[overlap] = (project.id, num_tasks)
            tokens = []
            for i in range(ANNOTATORS):
                # no password: hashing 40 of them would cost seconds and no one signs in
                user = make_user(session, f"annotator{i}@example.com", password=None)
                for project_id, _ in projects.values():
                    add_member(session, session.get_one(ProjectRow, project_id), user, "annotator")
                tokens.append(make_token(session, user))
            session.commit()
            return projects, tokens
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Yields the seeded database behind ``gunicorn -w 3 --threads 4`` on a free port."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    with fresh_pg_database("labelops_concurrency") as url:
        upgrade(url)
        port = _free_port()
        env = {
            **os.environ,
            "LABELOPS_DATABASE_URL": url,
            "LABELOPS_HOME": str(tmp_path / "home"),
            "LABELOPS_SECRET_KEY": "concurrency-test",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
        }
        log_path = tmp_path / "gunicorn.log"
        command = [sys.executable, "-m", "gunicorn", "-w", "3", "--threads", "4"]
        command += ["-b", f"127.0.0.1:{port}", "labelops.web:create_app()"]
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                command,
                env=env,
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                projects, tokens = _seed(url, SIZES)  # while the workers boot
                base = f"http://127.0.0.1:{port}"
                _wait_until_serving(proc, base, log_path)
                yield Served(url=url, base=base, projects=projects, tokens=tokens)
            finally:
                # The database is dropped next, so nothing is lost by not waiting for a graceful
                # exit (gunicorn's shutdown takes seconds); the group holds master and workers.
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait_until_serving(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    """Returns once a worker answers the sign-in page; fails if gunicorn exits or stays silent."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/auth/login", timeout=10).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        try:
            proc.wait(timeout=0.2)  # doubles as the pause between polls
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"gunicorn exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
    pytest.fail(f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")


def _annotate(
    base: str, project_id: int, token: str, outcome: Outcome, start: threading.Barrier
) -> None:
    headers = {"Authorization": f"Token {token}"}
    with requests.Session() as http:
        start.wait()
        deadline = time.monotonic() + WORK_SECONDS
        while time.monotonic() < deadline:
            handed = http.get(f"{base}/api/projects/{project_id}/next", headers=headers, timeout=30)
            with outcome.lock:
                outcome.statuses["next", handed.status_code] += 1
            if handed.status_code == 404:
                with outcome.lock:
                    outcome.finished += 1
                return
            if handed.status_code != 200:
                with outcome.lock:
                    outcome.errors.append(f"next: {handed.status_code} {handed.text[:200]}")
                return
            task_id = handed.json()["id"]
            submitted = http.post(
                f"{base}/api/tasks/{task_id}/annotations",
                json={"result": choice_result("Positive"), "lead_time": 1.5},
                headers=headers,
                timeout=30,
            )
            with outcome.lock:
                outcome.statuses["submit", submitted.status_code] += 1
                if submitted.status_code == 201:
                    body = submitted.json()
                    outcome.stored.append((body["id"], body["task"], body["completed_by"]))
                else:
                    outcome.refused_submits.append(
                        f"task {task_id}: {submitted.status_code} {submitted.text[:200]}"
                    )


def _run_annotators(served: Served, project_id: int) -> Outcome:
    """Returns what 40 annotator threads saw labeling the project until its queue ran dry."""
    outcome = Outcome()
    start = threading.Barrier(ANNOTATORS)
    threads = [
        threading.Thread(target=_annotate, args=(served.base, project_id, token, outcome, start))
        for token in served.tokens
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WORK_SECONDS + 60)
    assert not any(t.is_alive() for t in threads), "an annotator thread hung"
    return outcome


def _finished_annotations(url: str, project_id: int) -> tuple[set[tuple[int, int, int]], dict]:
    """Returns the project's finished annotations (id, task, user) and each task's counter."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            finished = sa.select(
                AnnotationRow.id, AnnotationRow.task_id, AnnotationRow.completed_by_id
            ).where(AnnotationRow.project_id == project_id, AnnotationRow.was_cancelled.is_(False))
            rows = {(r.id, r.task_id, r.completed_by_id) for r in session.execute(finished)}
            counters = dict(
                session.execute(
                    sa.select(TaskRow.id, TaskRow.total_annotations).where(
                        TaskRow.project_id == project_id
                    )
                ).all()
            )
            return rows, counters
    finally:
        engine.dispose()


@pytest.mark.parametrize("overlap", sorted(SIZES))
def test_forty_annotators_through_gunicorn_keep_overlap_and_lose_nothing(
    served: Served, overlap: int
) -> None:
    project_id, num_tasks = served.projects[overlap]
    outcome = _run_annotators(served, project_id)

    server_errors = {k: n for k, n in outcome.statuses.items() if k[1] >= 500}
    assert server_errors == {}, outcome.errors[:5]
    assert outcome.errors == []
    # the queue only hands out free slots, so every submission it led to is accepted
    assert outcome.refused_submits == []

    stored, counters = _finished_annotations(served.url, project_id)
    # zero lost: every 2xx submission is in the database, as answered
    assert set(outcome.stored) == stored
    assert len(outcome.stored) == len(stored)
    # zero duplicated: no annotator has two annotations on one task
    per_author = Counter((task, user) for _, task, user in stored)
    assert max(per_author.values()) == 1
    # zero over overlap, and the task counters agree with the rows
    per_task = Counter(task for _, task, _ in stored)
    assert [t for t, n in per_task.items() if n > overlap] == []
    assert all(counters[t] == per_task.get(t, 0) for t in counters)
    # the work got done: the queue ran dry for every annotator and every task is full
    assert outcome.finished == ANNOTATORS, f"queue not emptied within {WORK_SECONDS} s"
    assert sorted(per_task.values()) == [overlap] * num_tasks
