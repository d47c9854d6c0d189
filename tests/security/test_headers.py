"""Security headers: every page and API answer carries the CSP and the anti-framing headers.

The CSP forbids inline script, so the templates must hold none: a static check keeps it that way.
"""

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.services.users import create_user
from labelops.web.extensions import db

TEMPLATES = Path(__file__).resolve().parents[2] / "labelops" / "web" / "templates"
# script-src: the site's own files and, by its hash, the import map of versioned modules.
SCRIPT_SRC = re.compile(r"'self'( 'sha256-[A-Za-z0-9+/]+=*')?")
EXPECTED_DIRECTIVES = {
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
}


def directives(policy: str) -> dict[str, str]:
    """Returns the policy as directive name -> its sources."""
    parts = (p.strip().split(None, 1) for p in policy.split(";") if p.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


def assert_secure(response: Any) -> None:
    policy = directives(response.headers["Content-Security-Policy"])
    for name, sources in EXPECTED_DIRECTIVES.items():
        assert policy[name] == sources, (name, policy)
    assert SCRIPT_SRC.fullmatch(policy["script-src"]), policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy.get("script-src", "")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def signed_in_project(app: Flask, client: FlaskClient, auth: Any) -> int:
    with app.app_context():
        create_user(db.session, email="admin@example.com", password="password123", is_admin=True)
        db.session.commit()
    auth.login("admin@example.com", "password123")
    response = client.post(
        "/api/projects",
        json={"title": "Headers", "label_config": '<View><Text name="t" value="$text"/></View>'},
        headers={"X-CSRFToken": _csrf(client)},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    project_id = int(response.get_json()["id"])
    imported = client.post(
        f"/api/projects/{project_id}/import",
        json=[{"text": "hello"}],
        headers={"X-CSRFToken": _csrf(client)},
    )
    assert imported.status_code == 201, imported.get_data(as_text=True)
    return project_id


def _csrf(client: FlaskClient) -> str:
    html = client.get("/auth/login").get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match
    return match.group(1)


def test_every_page_and_api_answer_carries_the_security_headers(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    assert_secure(client.get("/auth/login"))
    assert_secure(client.get("/api/projects"))  # a 401 answer too
    project_id = signed_in_project(app, client, auth)
    for path in (
        "/projects/",
        f"/projects/{project_id}/settings",
        f"/projects/{project_id}/data",
        f"/projects/{project_id}/label",
        f"/projects/{project_id}/review",
        f"/projects/{project_id}/dashboard",
        f"/projects/{project_id}/pipeline",
        f"/projects/{project_id}/import",
        "/api/projects",
        "/static/labeling/page.js",
        "/projects/999999/data",  # an error page
    ):
        response = client.get(path)
        assert response.status_code < 500, path
        assert_secure(response)


def test_uploaded_media_keeps_its_own_sandbox_policy(
    app: Flask, client: FlaskClient, auth: Any
) -> None:
    project_id = signed_in_project(app, client, auth)
    folder = Path(app.config["LABELOPS_SETTINGS"].object_store_root) / "uploads" / str(project_id)
    folder.mkdir(parents=True)
    (folder / "pic.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>')
    response = client.get(f"/projects/{project_id}/media/pic.svg")
    assert response.status_code == 200
    policy = directives(response.headers["Content-Security-Policy"])
    assert "sandbox" in policy and policy["default-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_policy_can_be_replaced_by_configuration(tmp_path: Path, sqlite_url: str) -> None:
    from labelops.settings import Settings
    from labelops.web import create_app

    custom = "default-src 'self'; script-src 'self' https://cdn.example.com; frame-ancestors 'none'"
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": sqlite_url,
            "LABELOPS_SETTINGS": Settings.from_env(tmp_path / "home"),
            "SECRET_KEY": "test-secret",
            "SECURITY_CSP": custom,
        }
    )
    response = app.test_client().get("/auth/login")
    # The operator's policy, with the import map of versioned modules allowed by its hash.
    policy = response.headers["Content-Security-Policy"]
    head, _, tail = custom.partition("; frame-ancestors")
    assert re.fullmatch(
        re.escape(head) + r" 'sha256-[A-Za-z0-9+/]+=*'; frame-ancestors" + re.escape(tail), policy
    )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"javascript:", re.I)


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_templates_hold_no_inline_script_or_event_handler(template: Path) -> None:
    text = template.read_text()
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it into a static module"
    assert not INLINE_HANDLER.search(text), "inline on...= handler: bind it in a static module"
    assert not JAVASCRIPT_URL.search(text), "javascript: URL: bind the action in a static module"
