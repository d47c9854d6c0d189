"""The Flask web app: annotators, reviewers and managers, plus the REST API."""

from collections.abc import Mapping
from typing import Any

from flask import Flask, redirect, send_from_directory, url_for

from labelops.db.models import UserRow
from labelops.services.users import session_user
from labelops.settings import Settings
from labelops.web.account.views import bp as account_bp
from labelops.web.admin.people import bp as admin_bp
from labelops.web.annotate.views import bp as annotate_bp
from labelops.web.api import BLUEPRINTS as API_BLUEPRINTS
from labelops.web.auth.views import bp as auth_bp
from labelops.web.background import register_background_worker
from labelops.web.cli import register_commands
from labelops.web.config import config_from_settings
from labelops.web.converters import IdConverter
from labelops.web.dashboard.views import bp as dashboard_bp
from labelops.web.errors import register_error_handlers
from labelops.web.extensions import csrf, db, limiter, login_manager
from labelops.web.json_provider import LimitedJSONProvider
from labelops.web.organizations.views import bp as organizations_bp
from labelops.web.pipeline.views import bp as pipeline_bp
from labelops.web.projects.views import bp as projects_bp
from labelops.web.review.views import bp as review_bp
from labelops.web.security_headers import register_security_headers
from labelops.web.static_assets import register_static_assets
from labelops.web.tasks.views import bp as tasks_bp


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Returns a configured Flask app; ``overrides`` replace config keys (tests use it)."""
    app = Flask(__name__)
    app.url_map.converters["int"] = IdConverter
    app.json = LimitedJSONProvider(app)
    settings = (overrides or {}).get("LABELOPS_SETTINGS") or Settings.from_env()
    app.config.update(config_from_settings(settings))
    app.config.update(overrides or {})
    app.url_map.strict_slashes = False
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_static_assets(app)
    register_security_headers(app)
    register_background_worker(app)

    @app.get("/")
    def index() -> Any:
        return redirect(url_for("projects.index"))

    @app.get("/favicon.ico")
    def favicon() -> Any:
        # Browsers ask for it at the root whatever the page links to.
        return send_from_directory(str(app.static_folder), "favicon.ico", mimetype="image/x-icon")

    return app


def register_extensions(app: Flask) -> None:
    """Binds the database, login manager and CSRF protection to the app."""
    db.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    limiter.init_app(app)

    @login_manager.user_loader
    def load_user(user_id: str) -> UserRow | None:
        # "<id>:<session_version>": cookies from before a sign-out or password change fail here.
        return session_user(db.session, user_id)


def register_blueprints(app: Flask) -> None:
    """Registers the feature blueprints; the API is exempt from form CSRF (it checks its own)."""
    for blueprint in (
        auth_bp,
        account_bp,
        projects_bp,
        tasks_bp,
        annotate_bp,
        review_bp,
        dashboard_bp,
        pipeline_bp,
        admin_bp,
        organizations_bp,
    ):
        app.register_blueprint(blueprint)
    for blueprint in API_BLUEPRINTS:
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
