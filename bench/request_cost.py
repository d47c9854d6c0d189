"""``python -m bench.request_cost``: what one next-task and one submit cost the server.

Runs the web app in this process (Flask's test client, no network) on a fresh PostgreSQL
database with N imported tasks, and has one annotator do next -> submit ``--cycles`` times.
Prints, per request kind, the median wall time, the median CPU time of the serving thread and
the number of SQL statements; with ``--profile`` also a cProfile of CPU time by function.
"""

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import workloads as w
from bench.harness import database
from labelops.settings import Settings
from labelops.web import create_app
from labelops.web.extensions import db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.request_cost", description=__doc__)
    parser.add_argument("--tasks", type=int, default=2_000)
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="print a CPU profile too")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, database("postgres", Path(tmp)) as url:
        accounts = w.create_accounts(url, 1)
        settings = Settings.from_env(Path(tmp) / "home")
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "LABELOPS_SETTINGS": settings, "SECRET_KEY": "x"}
        )
        try:
            _measure(app, accounts, args)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    return 0


def _measure(app: Any, accounts: w.Accounts, args: argparse.Namespace) -> None:
    client = app.test_client()
    admin = {"Authorization": f"Token {accounts.admin}"}
    project = client.post(
        "/api/projects", json={"title": "cost", "label_config": w.CONFIG}, headers=admin
    ).json["id"]
    upload = {"file": (io.BytesIO(w.task_file("json", args.tasks)), "tasks.json")}
    client.post(f"/api/projects/{project}/import", data=upload, headers=admin)
    user_id, token = accounts.annotators[0]
    client.post(
        f"/api/projects/{project}/members",
        json={"user": user_id, "role": "annotator"},
        headers=admin,
    )
    annotator = {"Authorization": f"Token {token}"}
    with app.app_context():
        engine = db.engine
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    samples: dict[str, list[tuple[float, float, int]]] = {"next": [], "submit": []}

    def timed(kind: str, call: Callable[[], Any]) -> Any:
        statements[0] = 0
        wall, cpu = time.perf_counter(), time.thread_time()
        response = call()
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        samples[kind].append((wall * 1000, cpu * 1000, statements[0]))
        return response

    def cycle() -> None:
        task = timed("next", lambda: client.get(f"/api/projects/{project}/next", headers=annotator))
        assert task.status_code == 200, task.json
        body = {"result": [w.CHOICE], "lead_time": 1.0}
        path = f"/api/tasks/{task.json['id']}/annotations"
        done = timed("submit", lambda: client.post(path, json=body, headers=annotator))
        assert done.status_code == 201, done.json

    for _ in range(20):  # warm up: caches, pool, compiled statements
        cycle()
    for kinds in samples.values():
        kinds.clear()
    for _ in range(args.cycles):
        cycle()
    for kind, rows in samples.items():
        wall = w.percentile([r[0] for r in rows], 50)
        cpu = w.percentile([r[1] for r in rows], 50)
        sys.stdout.write(
            f"{kind:<7} wall p50 {wall:6.2f} ms  CPU p50 {cpu:5.2f} ms  "
            f"SQL statements {sum(r[2] for r in rows) / len(rows):.1f}\n"
        )
    if args.profile:
        profile = cProfile.Profile(time.thread_time)
        profile.enable()
        for _ in range(args.cycles):
            cycle()
        profile.disable()
        pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative").print_stats(
            "labelops", 40
        )


if __name__ == "__main__":
    raise SystemExit(main())
