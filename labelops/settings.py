"""Settings read once from the environment, with embedded defaults under LABELOPS_HOME."""

import os
from dataclasses import dataclass
from pathlib import Path


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
        )
