"""Feature flags through the API, the admin page and the pages that read them."""

import html
import json
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from labelops.db.models import UserRow
from labelops.domain.feature_flags import FlagState
from labelops.services import feature_flags as flag_service
from labelops.web.extensions import db
from tests.conftest import AuthActions
from tests.factories import add_member, make_project, make_tasks
from tests.web.helpers import user_with_token

HINT = "labeling_shortcut_hint"
PASSWORD = "password123"
_FLAGS_ATTR = re.compile(r"<body data-feature-flags='([^']*)'>")
_ERROR = re.compile(r'<p class="flash error" role="alert" id="flag-error">(.*?)</p>')
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def _seed(app: Flask) -> dict[str, Any]:
    """An admin and an annotator with tokens, a project the annotator labels, and another."""
    admin_id, admin = user_with_token(app, "root@example.com", admin=True)
    annotator_id, annotator = user_with_token(app, "ann@example.com")
    with app.app_context():
        project = make_project(db.session)
        other = make_project(db.session, title="Elsewhere")
        add_member(db.session, project, db.session.get(UserRow, annotator_id), "annotator")
        add_member(db.session, other, db.session.get(UserRow, annotator_id), "annotator")
        make_tasks(db.session, project, 2)
        make_tasks(db.session, other, 2)
        db.session.commit()
        return {
            "admin": admin,
            "annotator": annotator,
            "admin_id": admin_id,
            "annotator_id": annotator_id,
            "project": project.id,
            "other": other.id,
        }


def _stored(app: Flask, key: str) -> FlagState:
    with app.app_context():
        return flag_service.get_flag(db.session, key)


def _page_flags(page: str) -> dict[str, bool]:
    match = _FLAGS_ATTR.search(page)
    assert match, "the page carries no data-feature-flags attribute on <body>"
    return json.loads(html.unescape(match.group(1)))


def _csrf(client: FlaskClient, path: str = "/admin/flags") -> str:
    match = _CSRF.search(client.get(path).get_data(as_text=True))
    assert match
    return match.group(1)


# --- API -------------------------------------------------------------------------------------


def test_api_evaluates_flags_for_the_caller_and_project(app: Flask, client: FlaskClient) -> None:
    ids = _seed(app)
    response = client.get("/api/feature-flags", headers=ids["annotator"])
    assert response.status_code == 200
    assert response.get_json() == {"feature_flags": {HINT: False}, "project": None}

    patch = {"project_overrides": [{"project_id": ids["project"], "enabled": True}]}
    assert (
        client.patch(
            f"/api/admin/feature-flags/{HINT}", json=patch, headers=ids["admin"]
        ).status_code
        == 200
    )
    inside = client.get(f"/api/feature-flags?project={ids['project']}", headers=ids["annotator"])
    assert inside.get_json()["feature_flags"][HINT] is True
    outside = client.get(f"/api/feature-flags?project={ids['other']}", headers=ids["annotator"])
    assert outside.get_json()["feature_flags"][HINT] is False


def test_api_refuses_projects_the_caller_cannot_see_and_bad_ids(
    app: Flask, client: FlaskClient
) -> None:
    ids = _seed(app)
    _, outsider = user_with_token(app, "out@example.com")
    hidden = client.get(f"/api/feature-flags?project={ids['project']}", headers=outsider)
    assert hidden.status_code == 404
    assert hidden.get_json()["detail"] == f"project {ids['project']} not found"
    bad = client.get("/api/feature-flags?project=abc", headers=outsider)
    assert bad.status_code == 400 and "'project'" in bad.get_json()["detail"]
    assert client.get("/api/feature-flags").status_code == 401


def test_annotator_cannot_read_or_change_flag_administration(
    app: Flask, client: FlaskClient
) -> None:
    ids = _seed(app)
    me = ids["annotator"]
    attempts = [
        client.get("/api/admin/feature-flags", headers=me),
        client.get(f"/api/admin/feature-flags/{HINT}", headers=me),
        client.post("/api/admin/feature-flags", json={"key": "mine"}, headers=me),
        client.patch(
            f"/api/admin/feature-flags/{HINT}",
            json={"user_overrides": [{"user_id": ids["annotator_id"], "enabled": True}]},
            headers=me,
        ),
        client.patch(f"/api/admin/feature-flags/{HINT}", json={"default": True}, headers=me),
        client.delete(f"/api/admin/feature-flags/{HINT}", headers=me),
    ]
    for response in attempts:
        assert response.status_code == 403, response.get_data(as_text=True)
        assert response.get_json() == {
            "detail": "only administrators may do this",
            "status_code": 403,
        }
    state = _stored(app, HINT)
    assert not state.default and state.user_overrides == {}
    assert [s.key for s in _all(app)] == [HINT]


def _all(app: Flask) -> list[FlagState]:
    with app.app_context():
        return flag_service.list_flags(db.session)


def test_admin_creates_changes_and_deletes_a_flag(app: Flask, client: FlaskClient) -> None:
    ids = _seed(app)
    admin = ids["admin"]
    created = client.post(
        "/api/admin/feature-flags",
        json={"key": "new_export", "description": "Faster export", "rollout": 25},
        headers=admin,
    )
    assert created.status_code == 201
    assert created.get_json() == {
        "key": "new_export",
        "description": "Faster export",
        "default": False,
        "rollout": 25,
        "shipped": False,
        "user_overrides": [],
        "project_overrides": [],
    }
    again = client.post("/api/admin/feature-flags", json={"key": "new_export"}, headers=admin)
    assert again.status_code == 409
    assert again.get_json()["detail"] == "feature flag 'new_export' already exists"

    changed = client.patch(
        "/api/admin/feature-flags/new_export",
        json={
            "default": True,
            "rollout": None,
            "user_overrides": [{"user_id": ids["annotator_id"], "enabled": False}],
            "project_overrides": [{"project_id": ids["project"], "enabled": True}],
        },
        headers=admin,
    ).get_json()
    assert changed["default"] is True and changed["rollout"] is None
    assert changed["user_overrides"] == [
        {"user_id": ids["annotator_id"], "email": "ann@example.com", "enabled": False}
    ]
    assert changed["project_overrides"] == [
        {"project_id": ids["project"], "title": "Sentiment", "enabled": True}
    ]
    # The user override beats the project override for the annotator.
    mine = client.get(f"/api/feature-flags?project={ids['project']}", headers=ids["annotator"])
    assert mine.get_json()["feature_flags"]["new_export"] is False
    listed = client.get("/api/admin/feature-flags", headers=admin).get_json()
    assert [flag["key"] for flag in listed] == [HINT, "new_export"]

    assert client.delete("/api/admin/feature-flags/new_export", headers=admin).status_code == 204
    gone = client.get("/api/admin/feature-flags/new_export", headers=admin)
    assert gone.status_code == 404
    assert gone.get_json() == {"detail": "unknown feature flag 'new_export'", "status_code": 404}


def test_patch_with_a_bad_part_changes_nothing(app: Flask, client: FlaskClient) -> None:
    ids = _seed(app)
    admin, url = ids["admin"], f"/api/admin/feature-flags/{HINT}"
    cases = [
        # an override for a user that does not exist, after a valid default
        (
            {"default": True, "user_overrides": [{"user_id": 9999, "enabled": True}]},
            404,
            "user 9999 not found",
        ),
        # a project override for a missing project, after a valid user override
        (
            {
                "user_overrides": [{"user_id": ids["annotator_id"], "enabled": True}],
                "project_overrides": [{"project_id": 9999, "enabled": True}],
            },
            404,
            "project 9999 not found",
        ),
        ({"rollout": 150}, 400, "rollout must be a whole percentage from 0 to 100, got 150"),
        ({"default": "yes"}, 400, "default: Input should be a valid boolean"),
        ({"colour": "red"}, 400, "colour: unknown field"),
        (
            {"user_overrides": [{"user_id": ids["annotator_id"], "enabled": "yes"}]},
            400,
            "user_overrides[0].enabled: Input should be a valid boolean",
        ),
        (
            {"project_overrides": {"1": True}},
            400,
            "project_overrides: Input should be a valid list",
        ),
    ]
    for body, status, message in cases:
        response = client.patch(url, json=body, headers=admin)
        assert response.status_code == status, body
        assert message in response.get_json()["detail"], response.get_json()
    state = _stored(app, HINT)
    assert not state.default and state.rollout_percent is None
    assert state.user_overrides == {} and state.project_overrides == {}
    unknown = client.patch("/api/admin/feature-flags/nope", json={}, headers=admin)
    assert unknown.status_code == 404
    assert unknown.get_json()["detail"] == "unknown feature flag 'nope'"
    bad_key = client.post("/api/admin/feature-flags", json={"key": "Bad Key"}, headers=admin)
    assert bad_key.status_code == 400 and "key must be" in bad_key.get_json()["detail"]


# --- pages -----------------------------------------------------------------------------------


def test_admin_page_is_for_administrators_only(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    _seed(app)
    anonymous = client.get("/admin/flags")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    auth.login("ann@example.com", PASSWORD)
    refused = client.get("/admin/flags")
    assert refused.status_code == 403
    assert "Only administrators manage feature flags" in refused.get_data(as_text=True)
    token = _csrf(client, "/projects/")
    post = client.post(
        f"/admin/flags/{HINT}", data={"csrf_token": token, "default": "on", "rollout": ""}
    )
    assert post.status_code == 403
    assert not _stored(app, HINT).default
    assert "Feature flags</a>" not in client.get("/projects/").get_data(as_text=True)


def test_admin_page_lists_and_changes_flags(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    ids = _seed(app)
    auth.login("root@example.com", PASSWORD)
    page = client.get("/admin/flags")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'<tr data-flag="{HINT}">' in text and "Feature flags</a>" in text
    token = _csrf(client)

    saved = client.post(
        f"/admin/flags/{HINT}",
        data={"csrf_token": token, "description": "hint", "default": "off", "rollout": "40"},
    )
    assert saved.status_code == 302
    override = client.post(
        f"/admin/flags/{HINT}/overrides",
        data={"csrf_token": token, "target": "user", "who": "ann@example.com", "state": "on"},
    )
    assert override.status_code == 302
    client.post(
        f"/admin/flags/{HINT}/overrides",
        data={"csrf_token": token, "target": "project", "who": str(ids["other"]), "state": "off"},
    )
    state = _stored(app, HINT)
    assert state.rollout_percent == 40 and state.description == "hint"
    assert state.user_overrides == {ids["annotator_id"]: True}
    assert state.project_overrides == {ids["other"]: False}
    listed = client.get("/admin/flags").get_data(as_text=True)
    assert "user ann@example.com: <strong>on</strong>" in listed
    assert f"project {ids['other']} (Elsewhere): <strong>off</strong>" in listed

    created = client.post(
        "/admin/flags",
        data={"csrf_token": token, "key": "beta_tools", "default": "on", "description": "x"},
    )
    assert created.status_code == 302 and _stored(app, "beta_tools").default
    deleted = client.post("/admin/flags/beta_tools/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    assert [s.key for s in _all(app)] == [HINT]


def test_admin_page_answers_bad_input_with_a_400_naming_it(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    _seed(app)
    auth.login("root@example.com", PASSWORD)
    token = _csrf(client)
    cases = [
        (
            f"/admin/flags/{HINT}",
            {"default": "on", "rollout": "150"},
            "Rollout %: Number must be between 0 and 100.",
        ),
        (
            f"/admin/flags/{HINT}/overrides",
            {"target": "user", "who": "nobody@example.com", "state": "on"},
            "no user with email 'nobody@example.com'",
        ),
        (
            f"/admin/flags/{HINT}/overrides",
            {"target": "project", "who": "9999", "state": "on"},
            "project 9999 not found",
        ),
        (
            f"/admin/flags/{HINT}/overrides",
            {"target": "project", "who": "first", "state": "on"},
            "a project is named by its id, got 'first'",
        ),
        ("/admin/flags", {"key": "Bad Key", "default": "off"}, "key must be"),
        ("/admin/flags", {"key": HINT, "default": "off"}, "already exists"),
    ]
    for path, data, message in cases:
        response = client.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 400, (path, data)
        shown = _ERROR.search(response.get_data(as_text=True))
        assert shown and message in html.unescape(shown.group(1)), message
    state = _stored(app, HINT)
    assert not state.default and state.rollout_percent is None and state.user_overrides == {}
    assert client.post("/admin/flags/nope", data={"csrf_token": token}).status_code == 404
    no_csrf = client.post(f"/admin/flags/{HINT}", data={"default": "on"})
    assert no_csrf.status_code == 400 and not _stored(app, HINT).default


# --- the shipped flag, both sides ------------------------------------------------------------


def test_shortcut_hint_follows_the_flag_on_the_labeling_page(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    ids = _seed(app)
    auth.login("ann@example.com", PASSWORD)
    label = f"/projects/{ids['project']}/label"

    off = client.get(label).get_data(as_text=True)
    assert 'id="lo-shortcuts"' not in off
    assert _page_flags(off) == {HINT: False}

    with app.app_context():
        flag_service.set_override(db.session, HINT, by=None, project=ids["project"], enabled=True)
        db.session.commit()
    on = client.get(label).get_data(as_text=True)
    assert 'id="lo-shortcuts"' in on and "Ctrl+Enter" in on
    assert _page_flags(on) == {HINT: True}
    # Only in that project: the other project's page stays without the hint.
    elsewhere = client.get(f"/projects/{ids['other']}/label").get_data(as_text=True)
    assert 'id="lo-shortcuts"' not in elsewhere and _page_flags(elsewhere) == {HINT: False}

    # The annotator's own override beats the project's.
    with app.app_context():
        flag_service.set_override(
            db.session, HINT, by=None, user=ids["annotator_id"], enabled=False
        )
        db.session.commit()
    mine = client.get(label).get_data(as_text=True)
    assert 'id="lo-shortcuts"' not in mine and _page_flags(mine) == {HINT: False}


def test_page_flags_ignore_projects_the_user_cannot_see(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    ids = _seed(app)
    user_with_token(app, "out@example.com")
    with app.app_context():
        flag_service.set_override(db.session, HINT, by=None, project=ids["project"], enabled=True)
        db.session.commit()
    auth.login("out@example.com", PASSWORD)
    refused = client.get(f"/projects/{ids['project']}/dashboard")
    assert refused.status_code == 404
    assert _page_flags(refused.get_data(as_text=True)) == {HINT: False}
