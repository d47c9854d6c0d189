"""Attacks on what pages hand out: member-only media in shared caches, headers on new pages.

Uploaded media (scans, recordings, documents) is served to project members only, yet it went out
with ``Cache-Control: public, max-age=3600``: any shared cache between the users and the server
(a reverse proxy, a CDN, a corporate proxy) could keep it and hand it to people who never signed
in, and a member removed from the project kept reading it for an hour. Media is now ``private,
no-cache`` (revalidated through the ETag, so each read passes the membership check).

The pages and API answers added in the same round (feature flags, workflows, the password page)
carry the same Content-Security-Policy and framing headers as every other page.
"""

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from labelops.db.models import ProjectRow
from labelops.services.projects import remove_member
from labelops.services.users import get_user_by_email
from labelops.web.extensions import db
from tests.factories import add_member, make_project, make_tasks, make_user

PASSWORD = "password123"


def _csrf(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).get_data(True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def _sign_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    response = client.post(
        "/auth/login",
        data={"email": email, "password": PASSWORD, "csrf_token": _csrf(client, "/auth/login")},
    )
    assert response.status_code in (302, 303), response.get_data(True)
    return client


def _project_with_media(app: Flask) -> tuple[int, int]:
    """A project with a manager, an annotator and one uploaded image; returns (project, task)."""
    with app.app_context():
        manager = make_user(db.session, "mgr@example.com")
        annotator = make_user(db.session, "ann@example.com")
        make_user(db.session, "admin@example.com", admin=True)
        project = make_project(db.session, manager)
        add_member(db.session, project, annotator, "annotator")
        task = make_tasks(db.session, project, 1)[0]
        db.session.commit()
        ids = project.id, task.id
    root = Path(app.config["LABELOPS_SETTINGS"].object_store_root) / "uploads" / str(ids[0])
    root.mkdir(parents=True)
    (root / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"patient scan" * 10)
    return ids


def test_member_only_media_is_never_stored_by_shared_caches(app: Flask) -> None:
    project_id, _ = _project_with_media(app)
    client = _sign_in(app, "ann@example.com")
    url = f"/projects/{project_id}/media/scan.png"

    first = client.get(url)
    assert first.status_code == 200
    cache = first.headers["Cache-Control"]
    assert "public" not in cache
    assert "private" in cache and "no-cache" in cache
    assert first.headers.get("ETag")

    revalidated = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert revalidated.status_code == 304

    with app.app_context():
        user = get_user_by_email(db.session, "ann@example.com")
        assert user is not None
        project = db.session.get_one(ProjectRow, project_id)
        remove_member(db.session, project, user.id, by=None)
        db.session.commit()
    gone = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert gone.status_code == 404


def test_new_pages_and_api_answers_carry_the_csp_and_framing_headers(app: Flask) -> None:
    project_id, task_id = _project_with_media(app)
    admin = _sign_in(app, "admin@example.com")
    for path in (
        "/admin/flags",
        "/account/password",
        "/account/token",
        f"/projects/{project_id}/settings",
        f"/projects/{project_id}/members",
        f"/projects/{project_id}/tasks/{task_id}",
        "/api/feature-flags",
        "/api/admin/feature-flags",
        f"/api/projects/{project_id}/workflow",
        f"/api/tasks/{task_id}/transitions",
        "/admin/flags/no-such-flag",  # a 405 error answer
        "/api/admin/feature-flags/no-such-flag",  # a 404 error answer
    ):
        response = admin.get(path)
        assert response.status_code < 500, path
        policy = response.headers.get("Content-Security-Policy", "")
        assert (
            "script-src 'self'" in policy
            and "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
        ), (path, policy)
        assert "frame-ancestors 'none'" in policy, path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
    annotator = _sign_in(app, "ann@example.com")
    refused = annotator.get("/admin/flags")
    assert refused.status_code == 403
    assert "frame-ancestors 'none'" in refused.headers["Content-Security-Policy"]
