"""The private PostgreSQL that a test run starts where none answers at LABELOPS_TEST_PG_URL."""

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa

from tests.pg_server import answers, free_port, start_private_postgres

ROOT = Path(__file__).resolve().parents[1]
MACHINE_PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


@pytest.mark.slow
def test_starter_serves_a_database_on_a_silent_port_and_leaves_nothing_behind() -> None:
    machine_pg_was_up = answers(MACHINE_PG)
    port = free_port()
    assert not answers(f"postgresql+psycopg2://postgres@127.0.0.1:{port}/test")

    server = start_private_postgres(port)
    try:
        engine = sa.create_engine(server.url)
        with engine.connect() as conn:
            conn.execute(sa.text("CREATE TABLE t (x int)"))
            conn.execute(sa.text("INSERT INTO t VALUES (41)"))
            assert conn.execute(sa.text("SELECT x + 1 FROM t")).scalar() == 42
            data_dir = conn.execute(sa.text("SHOW data_directory")).scalar()
        engine.dispose()
        assert str(server.url).endswith(f":{port}/test")
        assert Path(data_dir) == server.data_dir
        assert psutil.pid_exists(server.pid)
    finally:
        server.stop()

    assert not psutil.pid_exists(server.pid)
    assert not answers(server.url)
    assert not server.root.exists()
    assert answers(MACHINE_PG) == machine_pg_was_up  # the machine's own server is left alone


_INNER_TEST = """
import os
from pathlib import Path

import pytest
import sqlalchemy as sa


@pytest.mark.parametrize("case", range(4))
def test_on_postgres(worker_id: str, case: int) -> None:
    url = os.environ["LABELOPS_TEST_PG_URL"]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        data_dir = conn.execute(sa.text("SHOW data_directory")).scalar()
    engine.dispose()
    (Path(os.environ["PROBE_OUT"]) / f"{worker_id}-{case}").write_text(url + "\\n" + data_dir)
"""


@pytest.mark.slow
def test_a_run_without_postgresql_starts_one_private_server_for_all_workers(
    tmp_path: Path,
) -> None:
    silent = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/test"
    (tmp_path / "test_inner.py").write_text(_INNER_TEST)
    probes = tmp_path / "probes"
    probes.mkdir()
    env = {
        **os.environ,
        "LABELOPS_TEST_PG_URL": silent,
        "PROBE_OUT": str(probes),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
         "-n", "2", "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    seen = [path.read_text().splitlines() for path in sorted(probes.iterdir())]
    assert len(seen) == 4
    assert {path.name.split("-")[0] for path in probes.iterdir()} == {"gw0", "gw1"}
    urls, data_dirs = {url for url, _ in seen}, {data_dir for _, data_dir in seen}
    assert len(urls) == 1 and len(data_dirs) == 1, seen
    (url,) = urls
    assert url != silent
    assert not answers(url), "the private server outlived the test run"
    assert not Path(next(iter(data_dirs))).exists()
    port_option = f"-p {sa.engine.make_url(url).port} "
    assert not any(
        port_option in " ".join(p.info["cmdline"]) + " "
        for p in psutil.process_iter(["cmdline"])
        if p.info["cmdline"] and p.info["cmdline"][0].endswith("postgres")
    )
