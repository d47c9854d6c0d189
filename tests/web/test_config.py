from dataclasses import replace
from pathlib import Path

from flask import Flask

from labelops.services.users import create_user
from labelops.settings import Settings
from labelops.web import create_app
from labelops.web.extensions import db


def _login_cookie(app: Flask) -> str:
    with app.app_context():
        create_user(db.session, email="c@example.com", password="password123")
        db.session.commit()
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    marker = 'name="csrf-token" content="'
    token = page[page.index(marker) + len(marker) :].split('"', 1)[0]
    response = client.post(
        "/auth/login",
        data={"email": "c@example.com", "password": "password123", "csrf_token": token},
    )
    assert response.status_code == 302
    return "; ".join(response.headers.getlist("Set-Cookie"))


def test_session_cookie_is_httponly_and_lax(sqlite_url: str, tmp_path: Path) -> None:
    settings = Settings.from_env(tmp_path / "home")
    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlite_url, "LABELOPS_SETTINGS": settings})
    cookie = _login_cookie(app)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_secure_cookies_setting_marks_the_session_cookie_secure(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = replace(Settings.from_env(tmp_path / "home"), secure_cookies=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlite_url, "LABELOPS_SETTINGS": settings})
    assert "Secure" in _login_cookie(app)


def test_secret_key_is_created_once_under_home(sqlite_url: str, tmp_path: Path) -> None:
    settings = Settings.from_env(tmp_path / "home")
    first = create_app({"SQLALCHEMY_DATABASE_URI": sqlite_url, "LABELOPS_SETTINGS": settings})
    second = create_app({"SQLALCHEMY_DATABASE_URI": sqlite_url, "LABELOPS_SETTINGS": settings})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) == 64
    assert (tmp_path / "home" / "secret_key").stat().st_mode & 0o077 == 0
