"""Settings read once from the environment, with embedded defaults under LABELOPS_HOME."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Settings:
    """Where labelops keeps its data and which external systems it talks to."""

    home: Path
    database_url: str
    object_store_root: Path
    s3_bucket: str
    s3_prefix: str
    s3_endpoint_url: str
    mlflow_tracking_uri: str
    dagster_home: Path
    secret_key: str
    dagster_ui_url: str
    task_lock_ttl_seconds: int
    secure_cookies: bool
    # Rate limits (Flask-Limiter / ``limits`` notation, "; " between several windows).
    ratelimit_storage_uri: str = "memory://"
    login_limit_per_account: str = "10 per 15 minutes"
    login_limit_per_ip: str = "50 per 15 minutes"
    bad_token_limit_per_ip: str = "30 per 15 minutes"
    # Storage connections and outbound requests (administrator settings; empty by default).
    storage_secret_env_allowlist: tuple[str, ...] = ()
    storage_endpoint_allowlist: tuple[str, ...] = ()
    outbound_host_allowlist: tuple[str, ...] = ()
    # The web app's address as its users reach it, for links in pipeline metadata.
    web_url: str = "http://127.0.0.1:8080"
    # Whether the web app runs the background worker in a thread (else ``labelops worker`` does).
    background_worker: bool = True

    @property
    def uploads_root(self) -> Path:
        """Returns the folder of media files uploaded on the import page (one folder a project)."""
        return self.object_store_root / "uploads"

    @classmethod
    def from_env(cls, home: str | os.PathLike[str] | None = None) -> "Settings":
        """Returns settings from LABELOPS_* variables, defaulting to files under the home folder.

        Args:
            home: Overrides LABELOPS_HOME (default ``~/.labelops``).
        """
        env = os.environ
        root = Path(home or env.get("LABELOPS_HOME") or Path.home() / ".labelops").expanduser()
        root = root.resolve()
        return cls(
            home=root,
            database_url=env.get("LABELOPS_DATABASE_URL") or f"sqlite:///{root / 'labelops.db'}",
            object_store_root=Path(env.get("LABELOPS_OBJECT_STORE_ROOT") or root / "objects"),
            s3_bucket=env.get("LABELOPS_S3_BUCKET", ""),
            s3_prefix=env.get("LABELOPS_S3_PREFIX", ""),
            s3_endpoint_url=env.get("LABELOPS_S3_ENDPOINT_URL", ""),
            mlflow_tracking_uri=env.get("MLFLOW_TRACKING_URI") or f"sqlite:///{root / 'mlflow.db'}",
            dagster_home=Path(env.get("DAGSTER_HOME") or root / "dagster"),
            secret_key=env.get("LABELOPS_SECRET_KEY", ""),
            dagster_ui_url=env.get("LABELOPS_DAGSTER_UI_URL", "http://127.0.0.1:3000"),
            task_lock_ttl_seconds=int(env.get("LABELOPS_TASK_LOCK_TTL", "3600")),
            secure_cookies=env.get("LABELOPS_SECURE_COOKIES", "").lower() in ("1", "true", "yes"),
            ratelimit_storage_uri=env.get("LABELOPS_RATELIMIT_STORAGE_URI") or "memory://",
            login_limit_per_account=env.get("LABELOPS_LOGIN_LIMIT_PER_ACCOUNT")
            or "10 per 15 minutes",
            login_limit_per_ip=env.get("LABELOPS_LOGIN_LIMIT_PER_IP") or "50 per 15 minutes",
            bad_token_limit_per_ip=env.get("LABELOPS_BAD_TOKEN_LIMIT_PER_IP")
            or "30 per 15 minutes",
            storage_secret_env_allowlist=_names(env.get("LABELOPS_STORAGE_SECRET_ENV_ALLOWLIST")),
            storage_endpoint_allowlist=_names(env.get("LABELOPS_STORAGE_ENDPOINT_ALLOWLIST")),
            outbound_host_allowlist=_names(env.get("LABELOPS_OUTBOUND_HOST_ALLOWLIST")),
            web_url=env.get("LABELOPS_WEB_URL") or "http://127.0.0.1:8080",
            background_worker=env.get("LABELOPS_BACKGROUND_WORKER", "1").lower()
            not in ("0", "false", "no", "off"),
        )


@dataclass(frozen=True)
class Limits:
    """Size and concurrency limits that keep one user or request from starving the server.

    Read from the environment on every call of :func:`current_limits`, so a limit applies to the
    web app, the CLI and the pipeline alike (and tests can change one with an environment
    variable).
    """

    max_upload_bytes: int = 512 * 1024**2
    max_task_bytes: int = 1024**2
    max_unzipped_bytes: int = 1024**3
    max_unzipped_member_bytes: int = 512 * 1024**2
    max_zip_ratio: int = 200
    max_config_bytes: int = 64 * 1024
    max_concurrent_exports: int = 4
    export_batch_size: int = 1_000
    write_timeout_seconds: float = 60.0
    max_active_runs_per_project: int = 2
    # Import request bodies larger than this run in the background (answered with a status).
    background_import_bytes: int = 10 * 1024**2

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Limits":
        """Returns the limits from LABELOPS_* variables, each defaulting to the field's default.

        Raises:
            ValueError: A variable is not a positive number (the message names it).
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for item in fields(cls):
            name = _LIMIT_VARIABLES[item.name]
            raw = env.get(name, "").strip()
            if not raw:
                continue
            kind = float if item.type is float else int
            try:
                value = kind(raw)
            except ValueError:
                raise ValueError(f"{name} must be a number, got {raw!r}") from None
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {raw!r}")
            values[item.name] = value
        return cls(**values)


_LIMIT_VARIABLES = {
    "max_upload_bytes": "LABELOPS_MAX_UPLOAD_BYTES",
    "max_task_bytes": "LABELOPS_MAX_TASK_BYTES",
    "max_unzipped_bytes": "LABELOPS_MAX_UNZIPPED_BYTES",
    "max_unzipped_member_bytes": "LABELOPS_MAX_UNZIPPED_MEMBER_BYTES",
    "max_zip_ratio": "LABELOPS_MAX_ZIP_RATIO",
    "max_config_bytes": "LABELOPS_MAX_CONFIG_BYTES",
    "max_concurrent_exports": "LABELOPS_MAX_CONCURRENT_EXPORTS",
    "export_batch_size": "LABELOPS_EXPORT_BATCH_SIZE",
    "write_timeout_seconds": "LABELOPS_WRITE_TIMEOUT",
    "max_active_runs_per_project": "LABELOPS_MAX_RUNS_PER_PROJECT",
    "background_import_bytes": "LABELOPS_BACKGROUND_IMPORT_BYTES",
}


def limit_variable(field_name: str) -> str:
    """Returns the environment variable that sets a field of :class:`Limits`."""
    return _LIMIT_VARIABLES[field_name]


def current_limits() -> Limits:
    """Returns the limits in force now (from the environment)."""
    return Limits.from_env()


def _names(value: str | None) -> tuple[str, ...]:
    """Returns the non-empty items of a comma- or space-separated list."""
    return tuple(item for item in (value or "").replace(",", " ").split() if item)
