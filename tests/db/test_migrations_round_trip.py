"""Every migration can be undone: upgrade -> downgrade -> upgrade on SQLite and PostgreSQL.

After each upgrade to head the migrated schema must match the models exactly (Alembic's
``compare_metadata`` finds nothing); after a downgrade to base no labelops table is left; and
stepping through the revisions one at a time (+1, -1, +1) gives back the same schema each time.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from labelops.db.base import Base
from labelops.db.engine import make_engine
from labelops.db.migrate import alembic_config, upgrade
from tests.conftest import fresh_pg_database

LABELOPS_TABLES = {table.name for table in Base.metadata.sorted_tables}
# Indexes with an ordered column (``priority DESC``): Alembic cannot compare these on SQLite (it
# reflects plain columns and warns about an approximate signature), so on SQLite they are checked
# through ``sqlite_master`` against a database made by ``create_all`` instead.
ORDERED_INDEXES = {
    index.name
    for table in Base.metadata.sorted_tables
    for index in table.indexes
    if any(not isinstance(expr, sa.Column) for expr in index.expressions)
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new, never migrated database: a fresh SQLite file or PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'round_trip.db'}"
        return
    with fresh_pg_database("labelops_migrations") as url:
        yield url


def _differences(url: str) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()
    if engine.dialect.name != "sqlite":
        return differences
    return [
        diff
        for diff in differences
        if not (diff[0] in ("add_index", "remove_index") and diff[1].name in ORDERED_INDEXES)
    ]


def _schema_from_models(tmp_path: Path) -> dict[str, Any]:
    url = f"sqlite:///{tmp_path / 'from_models.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return _schema(url)


def _current(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _schema(url: str) -> dict[str, Any]:
    """Returns a comparable description of every table, index and constraint in the database."""
    engine = make_engine(url)
    try:
        if engine.dialect.name == "sqlite":
            # SQLite keeps each object's CREATE statement: it also shows AUTOINCREMENT and the
            # column order of indexes, which reflection does not report.
            with engine.connect() as conn:
                rows = conn.exec_driver_sql(
                    "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                    "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
                ).fetchall()
            return {
                f"{kind}:{name}": sorted(re.sub(r'[\s"(),]+', " ", sql).split())
                for kind, name, sql in rows
            }
        inspector = sa.inspect(engine)
        return {
            table: {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in inspector.get_columns(table)
                ],
                "pk": inspector.get_pk_constraint(table),
                "fks": sorted(inspector.get_foreign_keys(table), key=lambda fk: fk["name"]),
                "indexes": sorted(inspector.get_indexes(table), key=lambda ix: ix["name"]),
                "uniques": sorted(inspector.get_unique_constraints(table), key=lambda u: u["name"]),
                "checks": sorted(inspector.get_check_constraints(table), key=lambda c: c["name"]),
            }
            for table in inspector.get_table_names()
            if table != "alembic_version"
        }
    finally:
        engine.dispose()


def _revisions_base_to_head() -> list[tuple[str, str]]:
    """Returns ``(revision, down_revision or "base")`` pairs from the first to the last."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    walk = list(script.walk_revisions(base="base", head="heads"))
    walk.reverse()
    return [(rev.revision, str(rev.down_revision or "base")) for rev in walk]


def test_revisions_form_one_line_of_history() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, script.get_heads()
    assert _revisions_base_to_head()[0][1] == "base"


def test_upgrade_downgrade_upgrade_matches_the_models(
    empty_database_url: str, tmp_path: Path
) -> None:
    url = empty_database_url
    config = alembic_config(url)

    upgrade(url)
    assert _differences(url) == []
    first = _schema(url)
    if url.startswith("sqlite"):
        models = _schema_from_models(tmp_path)
        assert first == models

    command.downgrade(config, "base")
    assert _tables(url) & LABELOPS_TABLES == set()
    assert _tables(url) <= {"alembic_version"}

    upgrade(url)
    assert _differences(url) == []
    assert _schema(url) == first


def test_each_revision_steps_up_down_and_up_again(empty_database_url: str) -> None:
    url = empty_database_url
    config = alembic_config(url)
    before = _schema(url)
    for revision, down_revision in _revisions_base_to_head():
        upgrade(url, revision)
        assert _current(url) == revision
        after = _schema(url)

        command.downgrade(config, "-1")
        assert _current(url) == (None if down_revision == "base" else down_revision)
        assert _schema(url) == before, f"downgrade of {revision} to {down_revision} differs"

        upgrade(url, revision)
        assert _schema(url) == after, f"upgrade {revision} again gives another schema"
        before = after
    assert _differences(url) == []
