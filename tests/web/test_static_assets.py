"""Static files under content-versioned URLs: kept a year, found by modules via an import map."""

import base64
import hashlib
import json
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from labelops.settings import Settings
from labelops.web import create_app

STATIC = Path(__file__).resolve().parents[2] / "labelops" / "web" / "static"


def _app(database_url: str, tmp_path: Path, **config: object) -> Flask:
    settings = Settings.from_env(tmp_path / "home")
    overrides = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url}
    return create_app({**overrides, "LABELOPS_SETTINGS": settings, "SECRET_KEY": "s", **config})


def _version(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def _import_map(page: str) -> str:
    found = re.search(r'<script type="importmap">(.*?)</script>', page, re.S)
    assert found, "the page has no import map"
    return found.group(1)


def test_pages_link_static_files_by_their_content_version(client: FlaskClient) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    assert f'href="/static/css/app.css?v={_version("css/app.css")}"' in page


def test_the_import_map_sends_every_module_to_its_versioned_url(client: FlaskClient) -> None:
    imports = json.loads(_import_map(client.get("/auth/login").get_data(as_text=True)))["imports"]
    modules = sorted(p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*.js"))
    assert modules, "no modules found"
    assert sorted(imports) == [f"/static/{name}" for name in modules]
    for name in modules:
        assert imports[f"/static/{name}"] == f"/static/{name}?v={_version(name)}"


def test_the_policy_allows_exactly_the_import_map_as_inline_script(client: FlaskClient) -> None:
    response = client.get("/auth/login")
    text = _import_map(response.get_data(as_text=True))
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    script_src = next(
        d.split()[1:]
        for d in response.headers["Content-Security-Policy"].split(";")
        if d.split()[0] == "script-src"
    )
    assert script_src == ["'self'", f"'sha256-{digest}'"]


def test_a_versioned_file_is_cached_for_a_year_and_others_are_revalidated(
    client: FlaskClient,
) -> None:
    name = "labeling/render.js"
    versioned = client.get(f"/static/{name}?v={_version(name)}")
    assert versioned.status_code == 200
    assert versioned.cache_control.max_age == 365 * 24 * 3600
    assert versioned.cache_control.immutable and versioned.cache_control.public
    for url in (f"/static/{name}", f"/static/{name}?v=000000000000"):
        other = client.get(url)
        assert other.status_code == 200
        assert not other.cache_control.immutable and other.cache_control.max_age in (None, 0)


def test_in_debug_mode_nothing_is_versioned(database_url: str, tmp_path: Path) -> None:
    app = _app(database_url, tmp_path, DEBUG=True)
    page = app.test_client().get("/auth/login").get_data(as_text=True)
    assert "importmap" not in page
    assert 'href="/static/css/app.css"' in page


def test_a_static_response_never_varies_on_or_sets_the_session_cookie(
    client: FlaskClient, auth: object
) -> None:
    from labelops.services.users import create_user
    from labelops.web.extensions import db

    app = client.application
    with app.app_context():
        create_user(db.session, email="a@example.com", password="password123")
        db.session.commit()
    auth.login("a@example.com", "password123")  # type: ignore[attr-defined]
    name = "labeling/render.js"
    response = client.get(f"/static/{name}?v={_version(name)}")
    assert response.status_code == 200
    assert "Cookie" not in response.vary
    assert "Set-Cookie" not in response.headers
    page = client.get("/projects/")
    assert page.status_code == 200  # pages still keep the session
