"""Alembic environment: migrates the database named in the config with the labelops models."""

from alembic import context

from labelops.db import models  # noqa: F401 - registers every table on the metadata
from labelops.db.base import Base
from labelops.db.engine import make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""


def run_migrations() -> None:
    """Runs the migrations online against the configured URL."""
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            # SQLite can only turn foreign keys off between transactions (0002 needs that).
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
