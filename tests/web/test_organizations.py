"""Managing an organization's members through each entry point: API, page and CLI.

Every test runs on SQLite and PostgreSQL (the ``database_url`` fixture).
"""

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from labelops.cli import main
from labelops.db.engine import make_engine
from labelops.db.models import UserRow
from labelops.services import organizations as orgs
from labelops.services.users import get_user_by_email
from labelops.web.extensions import db
from tests.factories import make_org, make_user
from tests.web.helpers import user_with_token

PASSWORD = "password123"


def _acme_with_admin(app: Flask) -> tuple[int, dict[str, str]]:
    with app.app_context():
        acme = make_org(db.session, "Acme")
        db.session.commit()
        acme_id = acme.id
    boss_id, boss = user_with_token(app, "boss@example.com", organization_id=acme_id)
    with app.app_context():
        user = db.session.get_one(UserRow, boss_id)
        orgs.join(db.session, orgs.get_organization(db.session, acme_id), user, "admin")
        db.session.commit()
    return acme_id, boss


def test_organization_admin_manages_members_through_the_api(
    app: Flask, client: FlaskClient
) -> None:
    acme, boss = _acme_with_admin(app)
    member_id, member = user_with_token(app, "member@example.com", organization_id=acme)
    user_with_token(app, "joiner@example.com")
    base = f"/api/organizations/{acme}/memberships"

    page = client.get(f"{base}?page_size=1", headers=boss).json
    assert page["count"] == 2
    assert [m["user"]["email"] for m in page["results"]] == ["boss@example.com"]

    added = client.post(base, json={"email": "joiner@example.com"}, headers=boss)
    assert added.status_code == 202
    emails = [m["user"]["email"] for m in client.get(base, headers=boss).json["results"]]
    assert emails == ["boss@example.com", "joiner@example.com", "member@example.com"]

    promoted = client.patch(base, json={"user_id": member_id, "role": "admin"}, headers=boss)
    assert promoted.status_code == 200 and promoted.json["role"] == "admin"
    bad = client.patch(base, json={"user_id": member_id, "role": "owner"}, headers=boss)
    assert bad.status_code == 400
    assert bad.json["detail"] == "role: Input should be 'admin' or 'member'"
    assert list(bad.json["validation_errors"]) == ["role"]
    bad_id = client.patch(base, json={"user_id": "x", "role": "admin"}, headers=boss)
    assert bad_id.status_code == 400 and list(bad_id.json["validation_errors"]) == ["user_id"]

    removed = client.delete(f"{base}/{member_id}", headers=boss)
    assert removed.status_code == 204
    # Once removed, the member's token finds nothing of the organization any more.
    assert client.get(base, headers=member).status_code == 404


def test_the_last_admin_stays_and_plain_members_cannot_manage(
    app: Flask, client: FlaskClient
) -> None:
    acme, boss = _acme_with_admin(app)
    member_id, member = user_with_token(app, "member@example.com", organization_id=acme)
    boss_id = client.get("/api/current-user/whoami", headers=boss).json["id"]
    base = f"/api/organizations/{acme}/memberships"

    leave = client.delete(f"{base}/{boss_id}", headers=boss)
    assert leave.status_code == 409
    assert "last admin of organization" in leave.json["detail"]
    demote = client.patch(base, json={"user_id": boss_id, "role": "member"}, headers=boss)
    assert demote.status_code == 409

    for response in (
        client.post(base, json={"email": "x@example.com"}, headers=member),
        client.patch(base, json={"user_id": member_id, "role": "admin"}, headers=member),
        client.delete(f"{base}/{boss_id}", headers=member),
    ):
        assert response.status_code == 403
        assert f"admins of organization {acme}" in response.json["detail"]
    # Members may read their organization and leave it.
    assert client.get(f"/api/organizations/{acme}", headers=member).json["title"] == "Acme"
    assert client.delete(f"{base}/{member_id}", headers=member).status_code == 204


def test_only_instance_administrators_create_organizations_through_the_api(
    app: Flask, client: FlaskClient
) -> None:
    _, root = user_with_token(app, "root@example.com", admin=True)
    _, ann = user_with_token(app, "ann@example.com")
    refused = client.post("/api/organizations", json={"title": "Mine"}, headers=ann)
    assert refused.status_code == 403
    empty = client.post("/api/organizations", json={"title": " "}, headers=root)
    assert empty.status_code == 400 and "1 to 200 characters" in empty.json["detail"]
    created = client.post("/api/organizations", json={"title": "Beta"}, headers=root)
    assert created.status_code == 201 and created.json["title"] == "Beta"
    titles = [o["title"] for o in client.get("/api/organizations", headers=root).json]
    assert titles == ["Default", "Beta"]
    assert [o["title"] for o in client.get("/api/organizations", headers=ann).json] == ["Default"]


def _csrf(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, path
    return found.group(1)


def _sign_in(client: FlaskClient, email: str) -> None:
    response = client.post(
        "/auth/login",
        data={"email": email, "password": PASSWORD, "csrf_token": _csrf(client, "/auth/login")},
    )
    assert response.status_code == 302


def _post(client: FlaskClient, path: str, **data: Any) -> Any:
    token = _csrf(client, "/projects")
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=True)


def test_members_page_adds_by_email_without_telling_which_accounts_exist(
    app: Flask, client: FlaskClient
) -> None:
    acme, _ = _acme_with_admin(app)
    user_with_token(app, "known@example.com")
    _sign_in(client, "boss@example.com")
    page = client.get("/organizations/")
    assert page.status_code == 200
    assert "boss@example.com" in page.get_data(as_text=True)

    known = _post(client, "/organizations/members", email="known@example.com", role="member")
    unknown = _post(client, "/organizations/members", email="ghost@example.com", role="member")
    flash = re.compile(r'<p class="flash success"[^>]*>(.*?)</p>')
    known_text = flash.search(known.get_data(as_text=True))
    unknown_text = flash.search(unknown.get_data(as_text=True))
    assert known_text and unknown_text
    assert known_text.group(1).replace("known", "X") == unknown_text.group(1).replace("ghost", "X")
    html = client.get("/organizations/").get_data(as_text=True)
    assert "known@example.com" in html and "ghost@example.com" not in html

    with app.app_context():
        known_id = get_user_by_email(db.session, "known@example.com").id
        boss_id = get_user_by_email(db.session, "boss@example.com").id
    promoted = _post(client, f"/organizations/members/{known_id}/role", role="admin")
    assert "Role saved." in promoted.get_data(as_text=True)
    with app.app_context():
        assert orgs.membership(db.session, acme, known_id).role == "admin"
    removed = _post(client, f"/organizations/members/{known_id}/remove")
    assert "Member removed." in removed.get_data(as_text=True)
    last = _post(client, f"/organizations/members/{boss_id}/remove")
    assert "last admin of organization" in last.get_data(as_text=True)
    with app.app_context():
        assert orgs.membership(db.session, acme, boss_id) is not None
        assert orgs.membership(db.session, acme, known_id) is None


def test_members_page_is_for_organization_admins(app: Flask, client: FlaskClient) -> None:
    acme, _ = _acme_with_admin(app)
    user_with_token(app, "member@example.com", organization_id=acme)
    _sign_in(client, "member@example.com")
    assert client.get("/organizations/").status_code == 403
    refused = client.post(
        "/organizations/members",
        data={"csrf_token": _csrf(client, "/projects"), "email": "member@example.com"},
    )
    assert refused.status_code == 403


def test_top_bar_switches_between_a_users_organizations(app: Flask, client: FlaskClient) -> None:
    acme, _ = _acme_with_admin(app)
    with app.app_context():
        user = make_user(db.session, "both@example.com")
        orgs.join(db.session, orgs.get_organization(db.session, acme), user)
        db.session.commit()
    _sign_in(client, "both@example.com")
    html = client.get("/projects").get_data(as_text=True)
    assert f'action="/organizations/switch/{acme}"' in html
    assert "<script>" not in html
    switched = _post(client, f"/organizations/switch/{acme}")
    assert "You are now working in Acme." in switched.get_data(as_text=True)
    with app.app_context():
        user = get_user_by_email(db.session, "both@example.com")
        assert orgs.active_organization_id(db.session, user) == acme


def test_single_organization_members_see_no_switcher(app: Flask, client: FlaskClient) -> None:
    user_with_token(app, "solo@example.com")
    _sign_in(client, "solo@example.com")
    assert "/organizations/switch/" not in client.get("/projects").get_data(as_text=True)


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LABELOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABELOPS_DATABASE_URL", database_url)
    return CliRunner()


def _ok(result: Any) -> str:
    assert result.exit_code == 0, result.output + repr(result.exception)
    return str(result.output)


def test_cli_creates_organizations_and_adds_members(cli: CliRunner, database_url: str) -> None:
    _ok(cli.invoke(main, ["user", "create", "--email", "boss@example.com", "--password", PASSWORD]))
    out = _ok(cli.invoke(main, ["org", "create", "--title", "Acme", "--admin", "boss@example.com"]))
    acme = int(re.search(r"created organization (\d+)", out).group(1))  # type: ignore[union-attr]
    _ok(
        cli.invoke(
            main,
            ["user", "create", "--email", "w@example.com", "--password", PASSWORD, "--org", acme],
        )
    )
    _ok(cli.invoke(main, ["user", "create", "--email", "x@example.com", "--password", PASSWORD]))
    out = _ok(cli.invoke(main, ["org", "add-member", str(acme), "--email", "x@example.com"]))
    assert f"x@example.com is member of organization {acme}" in out
    unknown = cli.invoke(main, ["org", "add-member", str(acme), "--email", "ghost@example.com"])
    assert unknown.exit_code != 0 and "no user with email 'ghost@example.com'" in unknown.output
    bad_role = cli.invoke(
        main, ["org", "add-member", str(acme), "--email", "x@e.io", "--role", "x"]
    )
    assert bad_role.exit_code != 0
    missing = cli.invoke(main, ["org", "add-member", "999", "--email", "x@example.com"])
    assert missing.exit_code != 0 and "organization 999 not found" in missing.output

    listing = _ok(cli.invoke(main, ["org", "list"])).splitlines()
    assert listing == ["1\tDefault\t2 member(s)", f"{acme}\tAcme\t3 member(s)"]
    engine = make_engine(database_url)
    with Session(engine) as session:
        boss = get_user_by_email(session, "boss@example.com")
        worker = get_user_by_email(session, "w@example.com")
        assert orgs.membership(session, acme, boss.id).role == "admin"
        assert orgs.active_organization_id(session, worker) == acme
    engine.dispose()
