"""Accounts and sessions: each attack of the security review, reproduced and now refused.

Every test runs on SQLite and PostgreSQL (the ``database_url`` fixture behind ``app``).
"""

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from labelops.cli import main
from labelops.db.models import ApiTokenRow, ProjectRow, UserRow
from labelops.services.errors import PermissionDeniedError
from labelops.services.projects import create_project, members, role_of
from labelops.services.users import grant_project_creation
from labelops.settings import Settings
from labelops.web import create_app
from labelops.web.extensions import db
from tests.factories import TEXT_CONFIG, add_member, choice_result, make_tasks, make_user
from tests.web.helpers import user_with_token

PASSWORD = "password123"


def csrf(client: FlaskClient, path: str = "/auth/login") -> str:
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, **extra: str) -> Any:
    return client.post(
        "/auth/login",
        data={"email": email, "password": password, "csrf_token": csrf(client), **extra},
    )


def sign_out(client: FlaskClient) -> Any:
    return client.post("/auth/logout", data={"csrf_token": csrf(client, "/projects")})


def signed_in(client: FlaskClient) -> bool:
    return client.get("/projects").status_code == 200


def new_user(app: Flask, email: str, *, admin: bool = False, creator: bool = False) -> int:
    with app.app_context():
        user = make_user(db.session, email, admin=admin)
        if creator:
            grant_project_creation(db.session, user, by=None)
        db.session.commit()
        return user.id


def api_project(client: FlaskClient, headers: dict[str, str], title: str = "P") -> int:
    response = client.post(
        "/api/projects", json={"title": title, "label_config": TEXT_CONFIG}, headers=headers
    )
    assert response.status_code == 201, response.json
    return int(response.json["id"])


# --- Project creation is an instance permission -------------------------------------------


def test_plain_user_cannot_create_projects_through_page_api_or_service(
    app: Flask, client: FlaskClient
) -> None:
    plain_id, plain = user_with_token(app, "plain@example.com")
    _, admin = user_with_token(app, "admin@example.com", admin=True)

    refused = client.post(
        "/api/projects", json={"title": "Mine", "label_config": TEXT_CONFIG}, headers=plain
    )
    assert refused.status_code == 403
    assert "project-creation permission" in refused.json["detail"]
    assert refused.json["status_code"] == 403

    sign_in(client, "plain@example.com")
    assert client.get("/projects/new").status_code == 403
    form = {"title": "Mine", "label_config": TEXT_CONFIG, "csrf_token": csrf(client, "/projects")}
    assert client.post("/projects/new", data=form).status_code == 403
    assert "New project" not in client.get("/projects").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProjectRow)) == 0
        with pytest.raises(PermissionDeniedError):
            create_project(db.session, created_by=db.session.get(UserRow, plain_id), title="x")

    # Only an administrator grants it; then the page, the button and the API all allow it.
    assert (
        client.patch(
            f"/api/users/{plain_id}", json={"can_create_projects": True}, headers=plain
        ).status_code
        == 403
    )
    bad = client.patch(f"/api/users/{plain_id}", json={"can_create_projects": "yes"}, headers=admin)
    assert bad.status_code == 400 and "can_create_projects" in bad.json["detail"]
    unknown = client.patch(f"/api/users/{plain_id}", json={"is_admin": True}, headers=admin)
    assert unknown.status_code == 400 and "is_admin" in unknown.json["detail"]
    granted = client.patch(
        f"/api/users/{plain_id}", json={"can_create_projects": True}, headers=admin
    )
    assert granted.status_code == 200 and granted.json["can_create_projects"] is True
    assert "New project" in client.get("/projects").get_data(as_text=True)
    assert client.get("/projects/new").status_code == 200
    api_project(client, plain)


# --- Listing users and enumerating accounts through members -------------------------------


def test_listing_users_is_for_administrators_only(app: Flask, client: FlaskClient) -> None:
    _, plain = user_with_token(app, "plain@example.com")
    _, admin = user_with_token(app, "admin@example.com", admin=True)
    refused = client.get("/api/users", headers=plain)
    assert refused.status_code == 403 and refused.json["detail"]
    listed = client.get("/api/users", headers=admin)
    assert listed.status_code == 200
    assert {u["email"] for u in listed.json} == {"plain@example.com", "admin@example.com"}


def test_member_lookup_by_id_or_email_reveals_no_accounts(app: Flask, client: FlaskClient) -> None:
    _, manager = user_with_token(app, "manager@example.com", can_create_projects=True)
    secret_ids = [new_user(app, f"secret{i}@example.com") for i in range(3)]
    project_id = api_project(client, manager)
    top = max(secret_ids) + 5

    # Ids 1..N: existing accounts the manager shares no project with answer exactly like ids
    # that do not exist, and no answer carries an email.
    answers = []
    for user_id in range(1, top):
        response = client.post(
            f"/api/projects/{project_id}/members", json={"user": user_id}, headers=manager
        )
        if user_id == 1:  # the manager themselves is already a member: that is no secret
            continue
        assert response.status_code == 404
        assert "@" not in response.get_data(as_text=True)
        answers.append(response.json["detail"].replace(str(user_id), "N"))
    assert len(set(answers)) == 1
    for user_id in (secret_ids[0], top + 100):
        for method in ("patch", "delete"):
            response = getattr(client, method)(
                f"/api/projects/{project_id}/members/{user_id}",
                json={"role": "reviewer"},
                headers=manager,
            )
            assert response.status_code == 404
            assert "@" not in response.json["detail"].replace("manager@example.com", "")

    # By email the API answers the same for an existing and an unknown account.
    known = client.post(
        f"/api/projects/{project_id}/members",
        json={"email": "secret0@example.com", "role": "annotator"},
        headers=manager,
    )
    unknown = client.post(
        f"/api/projects/{project_id}/members",
        json={"email": "nobody@example.com", "role": "annotator"},
        headers=manager,
    )
    assert known.status_code == unknown.status_code == 202
    assert known.json["detail"].replace("secret0", "X") == unknown.json["detail"].replace(
        "nobody", "X"
    )
    assert set(known.json) == set(unknown.json) == {"detail", "email", "role"}
    with app.app_context():
        assert sorted(m.user.email for m in members(db.session, project_id)) == [
            "manager@example.com",
            "secret0@example.com",
        ]
    # A co-member's id can now be used (the manager already sees them in the member list).
    other_project = api_project(client, manager, "Second")
    added = client.post(
        f"/api/projects/{other_project}/members", json={"user": secret_ids[0]}, headers=manager
    )
    assert added.status_code == 201 and added.json["email"] == "secret0@example.com"


def test_members_page_answers_the_same_for_known_and_unknown_emails(
    app: Flask, client: FlaskClient
) -> None:
    _, manager = user_with_token(app, "manager@example.com", can_create_projects=True)
    new_user(app, "bob@example.com")
    project_id = api_project(client, manager)
    sign_in(client, "manager@example.com")
    url = f"/projects/{project_id}/members"
    pages = {}
    for email in ("bob@example.com", "ghost@example.com"):
        response = client.post(
            url,
            data={"email": email, "role": "annotator", "csrf_token": csrf(client, url)},
            follow_redirects=True,
        )
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        found = re.search(r'<p class="flash success"[^>]*>([^<]+)</p>', text)
        assert found, text
        pages[email] = found.group(1).replace(email, "X")
    assert pages["bob@example.com"] == pages["ghost@example.com"]
    # Changing the role of someone who is not a member is a 404, never a silent add.
    stranger = new_user(app, "stranger@example.com")
    response = client.post(
        f"{url}/{stranger}", data={"role": "manager", "csrf_token": csrf(client, url)}
    )
    assert response.status_code == 404
    with app.app_context():
        assert role_of(db.session, db.session.get_one(UserRow, stranger), project_id) is None


# --- Blind labeling ------------------------------------------------------------------------


@pytest.fixture
def blind_project(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """A project where annotators a and b both labeled task 1; r reviews it."""
    _, manager = user_with_token(app, "manager@example.com", can_create_projects=True)
    people = {name: user_with_token(app, f"{name}@example.com") for name in ("a", "b", "r")}
    project_id = api_project(client, manager)
    client.patch(f"/api/projects/{project_id}", json={"maximum_annotations": 2}, headers=manager)
    with app.app_context():
        project = db.session.get_one(ProjectRow, project_id)
        for name, role in (("a", "annotator"), ("b", "annotator"), ("r", "reviewer")):
            add_member(db.session, project, db.session.get_one(UserRow, people[name][0]), role)
        task_id = make_tasks(db.session, project, 1)[0].id
        db.session.commit()
    ids = {}
    for name, label in (("a", "Positive"), ("b", "Negative")):
        response = client.post(
            f"/api/tasks/{task_id}/annotations",
            json={"result": choice_result(label)},
            headers=people[name][1],
        )
        assert response.status_code == 201, response.json
        ids[name] = response.json["id"]
    return {
        "project": project_id,
        "task": task_id,
        "manager": manager,
        "headers": {n: h for n, (_, h) in people.items()},
        "users": {n: uid for n, (uid, _) in people.items()},
        "annotations": ids,
    }


def _authors_seen(client: FlaskClient, blind: dict[str, Any], who: str) -> dict[str, set[int]]:
    headers = blind["headers"][who] if who in blind["headers"] else blind["manager"]
    task, project = blind["task"], blind["project"]
    listed = client.get(f"/api/tasks/{task}/annotations", headers=headers).json
    history = client.get(f"/api/tasks/{task}/history", headers=headers).json
    one = client.get(f"/api/tasks/{task}", headers=headers).json
    full = client.get(f"/api/tasks?project={project}&fields=all", headers=headers).json
    return {
        "annotations": {a["completed_by"] for a in listed},
        "history": {r["changed_by"] for r in history},
        "task": {a["completed_by"] for a in one["annotations"]},
        "fields_all": {a["completed_by"] for t in full["tasks"] for a in t["annotations"]},
    }


def test_annotators_see_only_their_own_work_on_every_entry_point(
    app: Flask, client: FlaskClient, blind_project: dict[str, Any]
) -> None:
    users = blind_project["users"]
    seen = _authors_seen(client, blind_project, "a")
    assert seen == {key: {users["a"]} for key in seen}
    other = blind_project["annotations"]["b"]
    hidden = client.get(f"/api/annotations/{other}", headers=blind_project["headers"]["a"])
    assert hidden.status_code == 404
    own = client.get(
        f"/api/annotations/{blind_project['annotations']['a']}",
        headers=blind_project["headers"]["a"],
    )
    assert own.status_code == 200

    # The task page shows a's annotation and history, nothing of b's.
    sign_in(client, "a@example.com")
    page = client.get(f"/projects/{blind_project['project']}/tasks/{blind_project['task']}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    mine, theirs = blind_project["annotations"]["a"], blind_project["annotations"]["b"]
    assert text.count('<article class="pane">') == 1
    assert "a@example.com" in text and f"#{mine} ·" in text and f"annotation #{mine}" in text
    assert "b@example.com" not in text
    assert f"#{theirs} ·" not in text and f"annotation #{theirs}" not in text

    # Reviewers and managers see everybody's work.
    for who in ("r", "manager"):
        seen = _authors_seen(client, blind_project, who)
        assert all(authors >= {users["a"], users["b"]} for authors in seen.values()), who


def test_annotators_cannot_list_which_tasks_others_labeled(
    client: FlaskClient, blind_project: dict[str, Any]
) -> None:
    project, users, headers = (
        blind_project["project"],
        blind_project["users"],
        blind_project["headers"],
    )
    for path in (
        f"/api/tasks?project={project}&annotator={users['b']}",
        f"/api/projects/{project}/tasks?annotator={users['b']}",
    ):
        refused = client.get(path, headers=headers["a"])
        assert refused.status_code == 403 and "blind labeling" in refused.json["detail"], path
        assert client.get(path, headers=headers["r"]).status_code == 200, path
    own = client.get(f"/api/tasks?project={project}&annotator={users['a']}", headers=headers["a"])
    assert own.status_code == 200 and [t["id"] for t in own.json["tasks"]] == [
        blind_project["task"]
    ]

    sign_in(client, "a@example.com")
    page = client.get(f"/projects/{project}/data")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "a@example.com" in text and "b@example.com" not in text
    filtered = client.get(f"/projects/{project}/data?annotator={users['b']}")
    assert filtered.status_code == 400 and "blind labeling" in filtered.get_data(as_text=True)


def test_project_setting_shows_annotations_to_annotators(
    client: FlaskClient, blind_project: dict[str, Any]
) -> None:
    users = blind_project["users"]
    bad = client.patch(
        f"/api/projects/{blind_project['project']}",
        json={"show_annotations_to_annotators": "yes"},
        headers=blind_project["manager"],
    )
    assert bad.status_code == 400 and "show_annotations_to_annotators" in bad.json["detail"]
    changed = client.patch(
        f"/api/projects/{blind_project['project']}",
        json={"show_annotations_to_annotators": True},
        headers=blind_project["manager"],
    )
    assert changed.status_code == 200 and changed.json["show_annotations_to_annotators"] is True
    seen = _authors_seen(client, blind_project, "a")
    assert all(authors >= {users["a"], users["b"]} for authors in seen.values())


# --- Rate limits ---------------------------------------------------------------------------


@pytest.fixture
def limited_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app with small limits, so that a test exhausts them in a few requests."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "LABELOPS_SETTINGS": Settings.from_env(tmp_path / "home"),
            "SECRET_KEY": "test-secret",
            "LOGIN_LIMIT_PER_ACCOUNT": "3 per 10 minutes",
            "LOGIN_LIMIT_PER_IP": "5 per 10 minutes",
            "BAD_TOKEN_LIMIT_PER_IP": "4 per 10 minutes",
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_wrong_passwords_then_the_right_one_is_refused_with_429(limited_app: Flask) -> None:
    new_user(limited_app, "victim@example.com")
    client = limited_app.test_client()
    for _ in range(3):
        assert sign_in(client, "victim@example.com", "wrong-password").status_code == 400
    refused = sign_in(client, "victim@example.com", PASSWORD)
    assert refused.status_code == 429
    text = refused.get_data(as_text=True)
    assert "Too many failed sign-in attempts" in text and "<form" in text
    assert not signed_in(client)
    # Another account from the same address still signs in (until the per-address limit).
    new_user(limited_app, "other@example.com")
    assert sign_in(client, "other@example.com").status_code == 302
    assert signed_in(client)


def test_sign_in_is_limited_per_address_across_accounts(limited_app: Flask) -> None:
    new_user(limited_app, "last@example.com")
    client = limited_app.test_client()
    for i in range(5):
        assert sign_in(client, f"guess{i}@example.com", "wrong-password").status_code == 400
    assert sign_in(client, "last@example.com").status_code == 429
    assert not signed_in(client)


def test_bad_api_tokens_are_limited_with_a_json_429(limited_app: Flask) -> None:
    _, good = user_with_token(limited_app, "api@example.com")
    client = limited_app.test_client()
    for i in range(4):
        response = client.get(
            "/api/current-user/whoami", headers={"Authorization": f"Token guess{i}"}
        )
        assert response.status_code == 401
    refused = client.get("/api/current-user/whoami", headers={"Authorization": "Token guess9"})
    assert refused.status_code == 429
    assert refused.json["status_code"] == 429 and "invalid API token" in refused.json["detail"]
    assert int(refused.headers["Retry-After"]) > 0
    # From this address even a right token waits until the window passes.
    assert client.get("/api/current-user/whoami", headers=good).status_code == 429


def test_guessing_the_current_password_on_the_password_page_is_limited(
    limited_app: Flask,
) -> None:
    new_user(limited_app, "user@example.com")
    client = limited_app.test_client()
    sign_in(client, "user@example.com")
    url = "/account/password"

    def change(current: str) -> Any:
        return client.post(
            url,
            data={
                "current_password": current,
                "new_password": "a-new-secret",
                "confirm_password": "a-new-secret",
                "csrf_token": csrf(client, url),
            },
        )

    for i in range(3):
        assert change(f"guess-{i}").status_code == 400
    refused = change(PASSWORD)
    assert refused.status_code == 429
    assert "Too many wrong current passwords" in refused.get_data(as_text=True)
    fresh = limited_app.test_client()
    assert sign_in(fresh, "user@example.com", "a-new-secret").status_code == 400


# --- Server-side sessions ------------------------------------------------------------------


def _cookie(client: FlaskClient, name: str) -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def test_sign_out_kills_the_old_session_and_remember_cookies(app: Flask) -> None:
    new_user(app, "user@example.com")
    client = app.test_client()
    assert sign_in(client, "user@example.com", remember="y").status_code == 302
    session_cookie, remember_cookie = _cookie(client, "session"), _cookie(client, "remember_token")
    replay = app.test_client()
    replay.set_cookie("remember_token", remember_cookie)
    assert signed_in(replay)  # the remember cookie alone signs in before sign-out

    sign_out(client)
    for name, value in (("session", session_cookie), ("remember_token", remember_cookie)):
        thief = app.test_client()
        thief.set_cookie(name, value)
        response = thief.get("/projects")
        assert response.status_code == 302 and "/auth/login" in response.location, name
    # Signing in again issues a different remember cookie.
    assert sign_in(client, "user@example.com", remember="y").status_code == 302
    assert _cookie(client, "remember_token") != remember_cookie


def test_password_change_signs_out_other_sessions(app: Flask) -> None:
    new_user(app, "user@example.com")
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "user@example.com")
    sign_in(phone, "user@example.com")
    url = "/account/password"
    wrong = laptop.post(
        url,
        data={
            "current_password": "not-my-password",
            "new_password": "a-new-secret",
            "confirm_password": "a-new-secret",
            "csrf_token": csrf(laptop, url),
        },
    )
    assert wrong.status_code == 400 and "current password is wrong" in wrong.get_data(True)
    differ = laptop.post(
        url,
        data={
            "current_password": PASSWORD,
            "new_password": "a-new-secret",
            "confirm_password": "another-one",
            "csrf_token": csrf(laptop, url),
        },
    )
    assert differ.status_code == 400 and "the passwords differ" in differ.get_data(True)
    assert signed_in(phone)

    changed = laptop.post(
        url,
        data={
            "current_password": PASSWORD,
            "new_password": "a-new-secret",
            "confirm_password": "a-new-secret",
            "csrf_token": csrf(laptop, url),
        },
    )
    assert changed.status_code == 302
    assert signed_in(laptop)
    assert not signed_in(phone)
    fresh = app.test_client()
    assert sign_in(fresh, "user@example.com", PASSWORD).status_code == 400
    assert sign_in(fresh, "user@example.com", "a-new-secret").status_code == 302


def _change_on_the_page(app: Flask, email: str, new_password: str) -> None:
    laptop = app.test_client()
    assert sign_in(laptop, email).status_code == 302
    url = "/account/password"
    form = {
        "current_password": PASSWORD,
        "new_password": new_password,
        "confirm_password": new_password,
        "csrf_token": csrf(laptop, url),
    }
    assert laptop.post(url, data=form).status_code == 302
    assert signed_in(laptop)  # the browser that changed it goes on


def _change_with_the_cli(app: Flask, email: str, new_password: str) -> None:
    home = app.config["LABELOPS_SETTINGS"].home
    args = ["user", "set-password", "--email", email, "--password", new_password]
    result = CliRunner().invoke(main, [*args, "--home", str(home)])
    assert result.exit_code == 0, result.output


# There is no password change in the API (as in Label Studio): the page and the CLI are all.
@pytest.mark.parametrize("change", [_change_on_the_page, _change_with_the_cli], ids=["page", "cli"])
def test_a_password_change_revokes_api_tokens_and_other_sessions(
    app: Flask,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[Flask, str, str], None],
) -> None:
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)  # the CLI's database is the app's
    _, headers = user_with_token(app, "user@example.com")
    _, other = user_with_token(app, "other@example.com")
    phone = app.test_client()
    assert sign_in(phone, "user@example.com").status_code == 302
    api = app.test_client()
    assert api.get("/api/current-user/whoami", headers=headers).status_code == 200

    change(app, "user@example.com", "a-new-secret")

    assert api.get("/api/current-user/whoami", headers=headers).status_code == 401
    assert not signed_in(phone)
    assert api.get("/api/current-user/whoami", headers=other).status_code == 200  # others keep
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ApiTokenRow.id))) == 1


# --- API token reads do not rotate -----------------------------------------------------------


def test_reading_the_token_does_not_mint_or_rotate(app: Flask, client: FlaskClient) -> None:
    user_id, headers = user_with_token(app, "tok@example.com")
    for _ in range(3):
        state = client.get("/api/current-user/token", headers=headers)
        assert state.status_code == 200 and state.json["token"] is None
        assert "POST /api/current-user/reset-token" in state.json["detail"]
    with app.app_context():
        tokens = db.session.scalars(
            sa.select(ApiTokenRow).where(ApiTokenRow.user_id == user_id)
        ).all()
        assert len(tokens) == 1
        assert state.json["tokens"] == [
            {
                "prefix": tokens[0].prefix,
                "name": "api",
                "created_at": tokens[0].created_at.isoformat() + "Z",
                "last_used_at": state.json["tokens"][0]["last_used_at"],
            }
        ]
    assert client.get("/api/current-user/whoami", headers=headers).status_code == 200
    rotated = client.post("/api/current-user/reset-token", headers=headers)
    assert rotated.status_code == 200
    assert client.get("/api/current-user/whoami", headers=headers).status_code == 401
    new = {"Authorization": f"Token {rotated.json['token']}"}
    assert client.get("/api/current-user/whoami", headers=new).status_code == 200


# --- The last manager ----------------------------------------------------------------------


def test_last_manager_cannot_demote_or_remove_themselves(app: Flask, client: FlaskClient) -> None:
    manager_id, manager = user_with_token(app, "manager@example.com", can_create_projects=True)
    project_id = api_project(client, manager)
    url = f"/api/projects/{project_id}/members/{manager_id}"
    demoted = client.patch(url, json={"role": "annotator"}, headers=manager)
    assert demoted.status_code == 409 and "last manager" in demoted.json["detail"]
    removed = client.delete(url, headers=manager)
    assert removed.status_code == 409 and "last manager" in removed.json["detail"]

    sign_in(client, "manager@example.com")
    page = f"/projects/{project_id}/members"
    response = client.post(
        f"{page}/{manager_id}",
        data={"role": "annotator", "csrf_token": csrf(client, page)},
        follow_redirects=True,
    )
    assert "last manager" in response.get_data(as_text=True)
    response = client.post(
        f"{page}/{manager_id}/remove",
        data={"csrf_token": csrf(client, page)},
        follow_redirects=True,
    )
    assert "last manager" in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get_one(UserRow, manager_id)
        assert role_of(db.session, user, project_id) == "manager"

    # With a second manager the first may step down.
    second_id, _ = user_with_token(app, "second@example.com")
    with app.app_context():
        add_member(
            db.session,
            db.session.get_one(ProjectRow, project_id),
            db.session.get_one(UserRow, second_id),
            "manager",
        )
        db.session.commit()
    assert client.patch(url, json={"role": "annotator"}, headers=manager).status_code == 200
    last = client.delete(f"/api/projects/{project_id}/members/{second_id}", headers=manager)
    assert last.status_code == 403  # an annotator no longer manages members
