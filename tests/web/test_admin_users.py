"""The users page, ``/api/users`` and ``labelops user``: the same account rules on every path."""

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from labelops.cli import main
from labelops.db.models import UserRow
from labelops.services import user_admin
from labelops.services import users as user_service
from labelops.web.extensions import db
from tests.conftest import AuthActions
from tests.factories import make_org
from tests.web.helpers import user_with_token

PASSWORD = "password123"
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
_LINK = re.compile(r'id="issued-url" type="text" readonly value="([^"]+)"')


def _csrf(client: FlaskClient, path: str = "/admin/users") -> str:
    match = _CSRF.search(client.get(path).get_data(as_text=True))
    assert match
    return match.group(1)


def _user_id(app: Flask, email: str) -> int:
    with app.app_context():
        found = user_service.get_user_by_email(db.session, email)
        assert found is not None
        return found.id


def _link_path(page: str) -> str:
    match = _LINK.search(page)
    assert match, "the page shows no one-time link"
    return "/" + match.group(1).split("/", 3)[3]


def test_admin_invites_and_the_invitee_sets_a_password_once(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    user_with_token(app, "root@example.com", admin=True)
    auth.login("root@example.com", PASSWORD)
    answer = client.post(
        "/admin/users/invite",
        data={"invite-email": "new@example.com", "csrf_token": _csrf(client)},
    )
    assert answer.status_code == 201
    path = _link_path(answer.get_data(as_text=True))
    assert path.startswith("/auth/link/")
    auth.logout()

    form = client.get(path)
    assert form.status_code == 200 and "new@example.com" in form.get_data(as_text=True)
    token = _csrf(client, path)
    mismatch = client.post(
        path, data={"password": "chosen-pass", "confirm": "other-pass", "csrf_token": token}
    )
    assert mismatch.status_code == 400 and "the passwords differ" in mismatch.get_data(as_text=True)
    done = client.post(
        path, data={"password": "chosen-pass", "confirm": "chosen-pass", "csrf_token": token}
    )
    assert done.status_code == 302
    assert client.get("/api/current-user/whoami").get_json()["email"] == "new@example.com"
    again = client.get(path)
    assert again.status_code == 410 and "already used" in again.get_data(as_text=True)
    guessed = client.get("/auth/link/" + "A" * 43)
    assert guessed.status_code == 410 and "not valid" in guessed.get_data(as_text=True)


def test_link_form_needs_its_csrf_token(app: Flask, client: FlaskClient) -> None:
    root_id, _ = user_with_token(app, "root@example.com", admin=True)
    with app.app_context():
        admin = db.session.get(UserRow, root_id)
        _, link = user_admin.invite_user(db.session, email="new@example.com", by=admin)
        db.session.commit()
    refused = client.post(link.path, data={"password": "chosen-pass", "confirm": "chosen-pass"})
    assert refused.status_code == 400
    assert "CSRF" in refused.get_data(as_text=True)
    assert client.get(link.path).status_code == 200  # still unused


def test_admin_deactivates_and_the_user_loses_sign_in_session_and_token(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    user_with_token(app, "root@example.com", admin=True)
    ann_id, ann_token = user_with_token(app, "ann@example.com")
    ann_client = app.test_client()
    AuthActions(ann_client).login("ann@example.com", PASSWORD)
    assert ann_client.get("/projects/").status_code == 200

    auth.login("root@example.com", PASSWORD)
    done = client.post(
        f"/admin/users/{ann_id}/active", data={"active": "off", "csrf_token": _csrf(client)}
    )
    assert done.status_code == 302
    page = client.get("/admin/users").get_data(as_text=True)
    assert 'data-user="ann@example.com" data-state="deactivated"' in page
    assert client.get("/api/users/1", headers=ann_token).status_code == 401
    assert ann_client.get("/projects/").status_code == 302  # back to sign-in
    assert AuthActions(app.test_client()).login("ann@example.com", PASSWORD).status_code == 400

    client.post(f"/admin/users/{ann_id}/active", data={"active": "on", "csrf_token": _csrf(client)})
    assert AuthActions(app.test_client()).login("ann@example.com", PASSWORD).status_code == 302


def test_admin_resets_a_password_by_temporary_password_and_by_link(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    user_with_token(app, "root@example.com", admin=True)
    ann_id, ann_token = user_with_token(app, "ann@example.com")
    auth.login("root@example.com", PASSWORD)
    client.post(
        f"/admin/users/{ann_id}/password",
        data={"password": "temporary1", "csrf_token": _csrf(client)},
    )
    assert client.get("/api/current-user/whoami", headers=ann_token).status_code == 401
    assert AuthActions(app.test_client()).login("ann@example.com", "temporary1").status_code == 302

    answer = client.post(
        f"/admin/users/{ann_id}/password", data={"password": "", "csrf_token": _csrf(client)}
    )
    assert answer.status_code == 200 and 'data-purpose="reset"' in answer.get_data(as_text=True)
    path = _link_path(answer.get_data(as_text=True))
    short = client.post(
        f"/admin/users/{ann_id}/password", data={"password": "short", "csrf_token": _csrf(client)}
    )
    assert short.status_code == 400 and "at least 8" in short.get_data(as_text=True)
    with app.app_context():
        assert user_admin.set_password_by_link(db.session, path.rsplit("/", 1)[1], "ann-own-pw")
        db.session.commit()
    assert AuthActions(app.test_client()).login("ann@example.com", "ann-own-pw").status_code == 302


def test_admin_grants_project_creation_and_pages_through_users(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    user_with_token(app, "root@example.com", admin=True)
    for n in range(26):
        user_with_token(app, f"user{n:02d}@example.com")
    auth.login("root@example.com", PASSWORD)
    first = client.get("/admin/users").get_data(as_text=True)
    assert "27 users" in first and "Page 1 of 2" in first and "user24@example.com" not in first
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert "user25@example.com" in second and "user00@example.com" not in second
    beyond = client.get("/admin/users?page=99")
    assert beyond.status_code == 200 and "Page 2 of 2" in beyond.get_data(as_text=True)

    target = _user_id(app, "user25@example.com")
    client.post(
        f"/admin/users/{target}/project-creation",
        data={"allowed": "on", "csrf_token": _csrf(client)},
    )
    with app.app_context():
        assert db.session.get(UserRow, target).can_create_projects is True


def test_create_user_form_reports_bad_input(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    user_with_token(app, "root@example.com", admin=True)
    auth.login("root@example.com", PASSWORD)
    token = _csrf(client)
    bad = client.post(
        "/admin/users",
        data={"new-email": "not-an-email", "new-password": "password99", "csrf_token": token},
    )
    assert bad.status_code == 400 and "expected name@domain" in bad.get_data(as_text=True)
    made = client.post(
        "/admin/users",
        data={"new-email": "made@example.com", "new-password": "password99", "csrf_token": token},
    )
    assert made.status_code == 302
    again = client.post(
        "/admin/users",
        data={"new-email": "made@example.com", "new-password": "password99", "csrf_token": token},
    )
    assert again.status_code == 409 and "already exists" in again.get_data(as_text=True)
    assert AuthActions(app.test_client()).login("made@example.com", "password99").status_code == 302


def test_non_admins_get_403_and_forms_need_csrf(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    user_with_token(app, "root@example.com", admin=True)
    other_id, _ = user_with_token(app, "other@example.com")
    user_with_token(app, "ann@example.com")
    auth.login("ann@example.com", PASSWORD)
    token = _csrf(client, "/projects/")
    attempts = [
        client.get("/admin/users"),
        client.post("/admin/users", data={"csrf_token": token, "new-email": "x@example.com"}),
        client.post("/admin/users/invite", data={"csrf_token": token, "invite-email": "x@e.com"}),
        client.post(f"/admin/users/{other_id}/active", data={"csrf_token": token, "active": "off"}),
        client.post(f"/admin/users/{other_id}/password", data={"csrf_token": token}),
        client.post(
            f"/admin/users/{other_id}/project-creation",
            data={"csrf_token": token, "allowed": "on"},
        ),
    ]
    assert [a.status_code for a in attempts] == [403] * len(attempts)
    assert "Only administrators manage users" in attempts[0].get_data(as_text=True)
    auth.logout()
    auth.login("root@example.com", PASSWORD)
    no_csrf = client.post(f"/admin/users/{other_id}/active", data={"active": "off"})
    assert no_csrf.status_code == 400 and "CSRF" in no_csrf.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(UserRow, other_id).is_active is True


# --- API -------------------------------------------------------------------------------------


def test_api_invites_deactivates_and_resets(app: Flask, client: FlaskClient) -> None:
    _, admin = user_with_token(app, "root@example.com", admin=True)
    ann_id, ann = user_with_token(app, "ann@example.com")
    invited = client.post("/api/users/invite", json={"email": "new@example.com"}, headers=admin)
    assert invited.status_code == 201
    body = invited.get_json()
    assert body["user"]["email"] == "new@example.com" and body["user"]["is_active"] is True
    assert body["link"]["purpose"] == "invite" and "/auth/link/" in body["link"]["url"]
    assert body["link"]["expires_at"].endswith("Z")

    off = client.patch(f"/api/users/{ann_id}", json={"is_active": False}, headers=admin)
    assert off.status_code == 200 and off.get_json()["is_active"] is False
    assert client.get("/api/current-user/whoami", headers=ann).status_code == 401
    on = client.patch(f"/api/users/{ann_id}", json={"is_active": True}, headers=admin)
    assert on.get_json()["is_active"] is True

    reset = client.post(f"/api/users/{ann_id}/reset-password", json={}, headers=admin)
    assert reset.status_code == 200 and reset.get_json()["link"]["purpose"] == "reset"
    temp = client.post(
        f"/api/users/{ann_id}/reset-password", json={"password": "temporary1"}, headers=admin
    )
    assert temp.status_code == 200 and temp.get_json()["link"] is None
    short = client.post(
        f"/api/users/{ann_id}/reset-password", json={"password": "x"}, headers=admin
    )
    assert short.status_code == 400 and "at least 8" in short.get_json()["detail"]
    self_off = client.patch("/api/users/1", json={"is_active": False}, headers=admin)
    assert self_off.status_code == 400 and "your own account" in self_off.get_json()["detail"]
    dup = client.post("/api/users/invite", json={"email": "ann@example.com"}, headers=admin)
    assert dup.status_code == 409


def test_api_refuses_non_admins(app: Flask, client: FlaskClient) -> None:
    user_with_token(app, "root@example.com", admin=True)
    other_id, _ = user_with_token(app, "other@example.com")
    _, ann = user_with_token(app, "ann@example.com")
    attempts = [
        client.get("/api/users", headers=ann),
        client.post("/api/users/invite", json={"email": "x@example.com"}, headers=ann),
        client.patch(f"/api/users/{other_id}", json={"is_active": False}, headers=ann),
        client.post(f"/api/users/{other_id}/reset-password", json={}, headers=ann),
    ]
    assert [a.status_code for a in attempts] == [403] * len(attempts)
    assert client.post("/api/users/invite", json={"email": "x@example.com"}).status_code == 401


# --- CLI -------------------------------------------------------------------------------------


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LABELOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)
    monkeypatch.setenv("LABELOPS_WEB_URL", "http://labels.example.com")
    return CliRunner()


def test_cli_invites_deactivates_resets_and_grants(cli: CliRunner) -> None:
    invited = cli.invoke(main, ["user", "invite", "--email", "new@example.com"])
    assert invited.exit_code == 0, invited.output
    assert "http://labels.example.com/auth/link/" in invited.output
    made = cli.invoke(main, ["user", "create", "--email", "a@example.com", "--password", PASSWORD])
    assert made.exit_code == 0, made.output
    for args, expected in [
        (["deactivate", "--email", "a@example.com"], "deactivated"),
        (["reactivate", "--email", "a@example.com"], "reactivated"),
        (["reset-password", "--email", "a@example.com", "--password", "temporary1"], "reset"),
        (["grant-create", "--email", "a@example.com"], "may now create"),
        (["grant-create", "--email", "a@example.com", "--revoke"], "may no longer create"),
    ]:
        result = cli.invoke(main, ["user", *args])
        assert result.exit_code == 0 and expected in result.output, result.output
    linked = cli.invoke(main, ["user", "reset-password", "--email", "a@example.com"])
    assert "/auth/link/" in linked.output
    missing = cli.invoke(main, ["user", "deactivate", "--email", "nobody@example.com"])
    assert missing.exit_code == 1 and "no user with email 'nobody@example.com'" in missing.output


def test_an_admin_of_another_organization_cannot_reach_its_users(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    ann_id, _ = user_with_token(app, "ann@example.com")
    with app.app_context():
        acme = make_org(db.session, "Acme")
        db.session.commit()
        acme_id = acme.id
    _, boss = user_with_token(app, "boss@acme.com", admin=True, organization_id=acme_id)
    listed = client.get("/api/users", headers=boss).get_json()
    assert [u["email"] for u in listed] == ["boss@acme.com"]
    off = client.patch(f"/api/users/{ann_id}", json={"is_active": False}, headers=boss)
    assert off.status_code == 404
    reset = client.post(f"/api/users/{ann_id}/reset-password", json={}, headers=boss)
    assert reset.status_code == 404
    auth.login("boss@acme.com", PASSWORD)
    assert "ann@example.com" not in client.get("/admin/users").get_data(as_text=True)
    page_off = client.post(
        f"/admin/users/{ann_id}/active", data={"active": "off", "csrf_token": _csrf(client)}
    )
    assert page_off.status_code == 404
    with app.app_context():
        assert db.session.get(UserRow, ann_id).is_active is True
