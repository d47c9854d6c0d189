"""The measured phases of the benchmark, each on the real database through the real services."""

import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.engine import make_engine
from labelops.db.migrate import upgrade
from labelops.services.annotations import create_annotation
from labelops.services.imports import ImportOptions, ImportSource, import_source
from labelops.services.next_task import next_task
from labelops.services.projects import create_project
from labelops.services.users import create_user

PG_ADMIN = os.environ.get(
    "LABELOPS_BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
</View>"""
# name -> (comparison, target) for N = 1,000,000 on PostgreSQL (issue targets)
TARGETS = {
    "import_tasks_per_s": (">=", 50_000),
    "next_task_p99_ms": ("<=", 20),
    "export_json_tasks_per_s": (">=", 100_000),
    "export_json_peak_rss_mb": ("<=", 500),
    "export_parquet_peak_rss_mb": ("<=", 500),
}
WORDS = "the a model label data quick brown fox jumps over lazy dog review great bad fine".split()


def write_tasks(path: Path, n: int, rng: random.Random) -> None:
    """Writes n text tasks as JSON lines (about 100 characters each)."""
    with path.open("w") as out:
        for i in range(n):
            text = " ".join(rng.choice(WORDS) for _ in range(16))
            out.write(json.dumps({"text": f"{i}: {text}", "source": "bench"}) + "\n")


@contextmanager
def database(kind: str, folder: Path, pg_admin_url: str | None = None) -> Iterator[str]:
    """Yields the URL of a fresh, migrated database of this kind, dropped afterwards.

    PostgreSQL databases are made through ``pg_admin_url`` (default: LABELOPS_BENCH_PG_URL).
    """
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'bench.db'}"
        upgrade(url)
        yield url
        return
    admin_url = pg_admin_url or PG_ADMIN
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"labelops_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def run_suite(kind: str, n: int, *, next_calls: int, formats: list[str]) -> dict[str, Any]:
    """Returns the figures of import, next task and exports for n tasks on this database."""
    rng = random.Random(7)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        data = Path(tmp) / "tasks.jsonl"
        write_tasks(data, n, rng)
        engine = make_engine(url)
        with Session(engine) as session:
            owner = create_user(
                session, email="owner@bench.io", password="password123", is_admin=True
            )
            project = create_project(session, created_by=owner, title="bench", label_config=CONFIG)
            session.commit()
            project_id = project.id
            started = time.perf_counter()
            import_source(
                session,
                project,
                ImportSource(name=data.name, opener=lambda: data.open("rb")),
                ImportOptions(created_by_id=owner.id),
            )
            session.commit()
            elapsed = time.perf_counter() - started
        figures["import_seconds"] = elapsed
        figures["import_tasks_per_s"] = n / elapsed
        figures.update(_next_task_latency(engine, project_id, next_calls, rng))
        engine.dispose()
        for fmt in formats:
            figures.update(_export_in_child(url, project_id, fmt.strip(), n))
    return {"db": kind, "tasks": n, "figures": {k: round(v, 2) for k, v in figures.items()}}


def _next_task_latency(
    engine: sa.Engine, project_id: int, calls: int, rng: random.Random
) -> dict[str, float]:
    """Times next-task requests from 50 annotators who submit most of what they are handed."""
    from labelops.db.models import ProjectRow

    with Session(engine) as session:
        users = [
            create_user(session, email=f"a{i}@bench.io", password="password123").id
            for i in range(50)
        ]
        session.commit()
    timings: list[float] = []
    with Session(engine) as session:
        project = session.get_one(ProjectRow, project_id)
        for i in range(calls):
            user_id = users[i % len(users)]
            started = time.perf_counter()
            task = next_task(session, project, user_id, now=_now())
            session.commit()
            timings.append(time.perf_counter() - started)
            if task is not None and rng.random() < 0.8:
                create_annotation(
                    session,
                    task,
                    user_id=user_id,
                    now=_now(),
                    result=[
                        {
                            "from_name": "sentiment",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": ["Positive"]},
                        }
                    ],
                )
                session.commit()
    timings.sort()
    return {
        "next_task_p50_ms": timings[len(timings) // 2] * 1000,
        "next_task_p99_ms": timings[int(len(timings) * 0.99) - 1] * 1000,
    }


def _export_in_child(url: str, project_id: int, fmt: str, n: int) -> dict[str, float]:
    code = (
        "import sys, time, resource\n"
        "from sqlalchemy.orm import Session\n"
        "from labelops.db.engine import make_engine\n"
        "from labelops.db.models import ProjectRow\n"
        "from labelops.services.exports import export_project\n"
        f"engine = make_engine({url!r})\n"
        "with Session(engine) as s:\n"
        f"    p = s.get_one(ProjectRow, {project_id})\n"
        "    t = time.perf_counter(); size = 0\n"
        f"    fmt, chunks = export_project(s, p, {fmt!r}, download_all_tasks=True)\n"
        "    with open('/dev/null', 'wb') as out:\n"
        "        for c in chunks: size += len(c); out.write(c)\n"
        "    e = time.perf_counter() - t\n"
        "print(e, size, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, size, rss_kb = out.stdout.split()
    key = fmt.lower()
    return {
        f"export_{key}_seconds": float(seconds),
        f"export_{key}_tasks_per_s": n / float(seconds),
        f"export_{key}_mb": int(size) / 1e6,
        f"export_{key}_peak_rss_mb": int(rss_kb) / 1024,
    }
