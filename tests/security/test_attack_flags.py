"""Attacks on the feature flags API: hostile override targets, and non-administrators.

``PATCH /api/admin/feature-flags/<key>`` with ``user_id`` 2^63 answered a 500 (the id reached the
database); the service now answers 404 for an id no row can have, and a bad part of a body
changes nothing. Members, managers and outsiders cannot read or change flags, on the API or the
admin page.
"""

import re

from flask import Flask
from flask.testing import FlaskClient

from labelops.db.models import FeatureFlagOverrideRow, FeatureFlagRow
from labelops.web.extensions import db
from tests.factories import make_project
from tests.web.helpers import user_with_token


def test_override_for_an_impossible_user_id_is_404_and_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    admin_id, admin = user_with_token(app, "admin@example.com", admin=True)
    created = client.post("/api/admin/feature-flags", json={"key": "beta_x"}, headers=admin)
    assert created.status_code == 201, created.get_data(as_text=True)

    for target in (2**63, 2**63 + 1):
        response = client.patch(
            "/api/admin/feature-flags/beta_x",
            json={
                "default": True,
                "user_overrides": [
                    {"user_id": admin_id, "enabled": False},
                    {"user_id": target, "enabled": True},
                ],
            },
            headers=admin,
        )
        assert response.status_code == 404, response.get_data(as_text=True)
        assert response.get_json()["detail"] == f"user {target} not found"

    with app.app_context():
        flag = db.session.query(FeatureFlagRow).filter_by(key="beta_x").one()
        assert flag.default_enabled is False
        assert db.session.query(FeatureFlagOverrideRow).count() == 0


def _sign_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    html = client.get("/auth/login").get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found
    response = client.post(
        "/auth/login",
        data={"email": email, "password": "password123", "csrf_token": found.group(1)},
    )
    assert response.status_code == 302
    return client


def test_non_administrators_cannot_read_or_change_flags(app: Flask, client: FlaskClient) -> None:
    _, admin = user_with_token(app, "admin@example.com", admin=True)
    client.post("/api/admin/feature-flags", json={"key": "beta_x"}, headers=admin)
    manager_id, manager = user_with_token(app, "mgr@example.com", can_create_projects=True)
    with app.app_context():
        from labelops.db.models import UserRow

        make_project(db.session, db.session.get_one(UserRow, manager_id))
        db.session.commit()

    for method, path, body in (
        ("GET", "/api/admin/feature-flags", None),
        ("GET", "/api/admin/feature-flags/beta_x", None),
        ("POST", "/api/admin/feature-flags", {"key": "mine"}),
        ("PATCH", "/api/admin/feature-flags/beta_x", {"default": True}),
        ("DELETE", "/api/admin/feature-flags/beta_x", None),
    ):
        response = client.open(path, method=method, json=body, headers=manager)
        assert response.status_code == 403, (method, path)

    page = _sign_in(app, "mgr@example.com")
    token = re.search(
        r'name="csrf-token" content="([^"]+)"', page.get("/projects").get_data(as_text=True)
    )
    assert token
    assert page.get("/admin/flags").status_code == 403
    for path in ("/admin/flags/beta_x", "/admin/flags/beta_x/delete"):
        refused = page.post(path, data={"csrf_token": token.group(1), "default": "on"})
        assert refused.status_code == 403, path
    with app.app_context():
        flag = db.session.query(FeatureFlagRow).filter_by(key="beta_x").one()
        assert flag.default_enabled is False
