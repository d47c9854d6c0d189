"""Flask extensions, created unbound and initialised by the app factory."""

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from labelops.db.base import Base
from labelops.db.engine import make_engine


class LabelopsSQLAlchemy(SQLAlchemy):
    """Flask-SQLAlchemy whose engines come from the shared factory ``db.engine.make_engine``.

    Flask-SQLAlchemy would otherwise build its own engine, without the SQLite pragmas (foreign
    keys, WAL, busy timeout) that the CLI and the pipeline get.
    """

    if TYPE_CHECKING:
        # A scoped_session at runtime: a proxy that hands every Session call to the request's own
        # session. Services take a plain Session, so the views' ``db.session`` is typed as one.
        session: Session  # type: ignore[assignment]

    def _make_engine(
        self, bind_key: str | None, options: dict[str, Any], app: Flask
    ) -> sa.engine.Engine:
        """Returns the engine for one bind, built by ``make_engine`` from the bind's options."""
        options = dict(options)
        return make_engine(options.pop("url"), **options)


db = LabelopsSQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
# Storage and limits come from the app config (RATELIMIT_STORAGE_URI, LOGIN_LIMIT_*).
limiter = Limiter(key_func=get_remote_address)
