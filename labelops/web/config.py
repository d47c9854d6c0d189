"""Flask configuration built from Settings; tests pass overrides to the app factory."""

import secrets
from typing import Any

from flask import current_app

from labelops.db.engine import normalize_url
from labelops.services.home import make_private_dir
from labelops.settings import Settings, current_limits


def config_from_settings(settings: Settings) -> dict[str, Any]:
    """Returns the Flask config mapping for these settings."""
    secret = settings.secret_key or _home_secret(settings)
    return {
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": normalize_url(settings.database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Behind HTTPS set LABELOPS_SECURE_COOKIES=true so cookies never travel in clear text.
        "SESSION_COOKIE_SECURE": settings.secure_cookies,
        "REMEMBER_COOKIE_SECURE": settings.secure_cookies,
        "WTF_CSRF_TIME_LIMIT": None,
        # Request bodies past LABELOPS_MAX_UPLOAD_BYTES (default 512 MiB) are refused with 413.
        "MAX_CONTENT_LENGTH": current_limits().max_upload_bytes,
        "LABELOPS_SETTINGS": settings,
        "TASK_LOCK_TTL_SECONDS": settings.task_lock_ttl_seconds,
        "DAGSTER_UI_URL": settings.dagster_ui_url,
        "RATELIMIT_STORAGE_URI": settings.ratelimit_storage_uri,
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_STRATEGY": "moving-window",
        "LOGIN_LIMIT_PER_ACCOUNT": settings.login_limit_per_account,
        "LOGIN_LIMIT_PER_IP": settings.login_limit_per_ip,
        "BAD_TOKEN_LIMIT_PER_IP": settings.bad_token_limit_per_ip,
        # The web app runs background jobs and webhook deliveries in a thread of its own unless
        # LABELOPS_BACKGROUND_WORKER=0 (when ``labelops worker`` runs them instead).
        "LABELOPS_BACKGROUND_WORKER": settings.background_worker,
    }


def _home_secret(settings: Settings) -> str:
    """Returns a secret key persisted under LABELOPS_HOME, created on first use."""
    path = settings.home / "secret_key"
    if path.exists():
        return path.read_text().strip()
    make_private_dir(settings.home)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def app_settings() -> Settings:
    """Returns the settings the current app was made with (read once, when it was created)."""
    settings: Settings = current_app.config["LABELOPS_SETTINGS"]
    return settings


def outbound_hosts() -> tuple[str, ...]:
    """Returns the hosts the administrator allowed outbound requests to (webhooks, ML backends).

    The one allowlist of every outbound call the app makes; storage connections read it through
    ``StoragePolicy.from_settings``.
    """
    return app_settings().outbound_host_allowlist
