"""Cross-organization attacks: a user, token or admin of one organization reaching into another.

Each test reproduces the attack through the API or the pages and shows it now gets a 404 (the
other organization's objects do not exist for the caller) and changes nothing. Every test runs on
SQLite and PostgreSQL (the ``database_url`` fixture behind ``app``).
"""

import re
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from labelops.clock import utcnow
from labelops.db.models import ProjectMemberRow, TaskRow
from labelops.services import organizations as orgs
from labelops.services.annotations import create_annotation
from labelops.services.users import get_user
from labelops.web.extensions import db
from tests.factories import choice_result, make_org, make_project, make_tasks
from tests.web.helpers import user_with_token

PASSWORD = "password123"


@dataclass(frozen=True)
class Tenants:
    """Default (root, alice, project A) and Acme (bob, project B), with ids and token headers."""

    root: dict[str, str]
    alice: dict[str, str]
    bob: dict[str, str]
    alice_id: int
    bob_id: int
    acme_id: int
    project_a: int
    project_b: int
    task_a: int
    annotation_a: int
    task_b: int


@pytest.fixture
def tenants(app: Flask) -> Tenants:
    _, root = user_with_token(app, "root@example.com", admin=True)
    alice_id, alice = user_with_token(app, "alice@example.com", can_create_projects=True)
    with app.app_context():
        acme = make_org(db.session, "Acme")
        db.session.commit()
        acme_id = acme.id
    bob_id, bob = user_with_token(
        app, "bob@example.com", can_create_projects=True, organization_id=acme_id
    )
    with app.app_context():
        alice_row = get_user(db.session, alice_id)
        bob_row = get_user(db.session, bob_id)
        orgs.join(db.session, orgs.get_organization(db.session, acme_id), bob_row, "admin")
        project_a = make_project(db.session, alice_row, title="Alpha secrets")
        task_a, _spare = make_tasks(db.session, project_a, 2)
        annotation = create_annotation(
            db.session,
            task_a,
            user_id=alice_id,
            result=choice_result("Positive"),
            now=utcnow(),
        )
        project_b = make_project(db.session, bob_row, title="Bravo work")
        (task_b,) = make_tasks(db.session, project_b, 1)
        db.session.commit()
        return Tenants(
            root=root,
            alice=alice,
            bob=bob,
            alice_id=alice_id,
            bob_id=bob_id,
            acme_id=acme_id,
            project_a=project_a.id,
            project_b=project_b.id,
            task_a=task_a.id,
            annotation_a=annotation.id,
            task_b=task_b.id,
        )


def _ids(response: Any) -> list[int]:
    return [p["id"] for p in response.json["results"]]


def test_project_lists_stay_inside_the_organization(client: FlaskClient, tenants: Tenants) -> None:
    assert _ids(client.get("/api/projects", headers=tenants.bob)) == [tenants.project_b]
    assert _ids(client.get("/api/projects", headers=tenants.alice)) == [tenants.project_a]
    # An instance administrator too sees only the projects of their active organization.
    assert _ids(client.get("/api/projects", headers=tenants.root)) == [tenants.project_a]


@pytest.mark.parametrize(
    "path",
    [
        "/api/projects/{project_a}",
        "/api/projects/{project_a}/tasks",
        "/api/projects/{project_a}/members",
        "/api/projects/{project_a}/export?exportType=JSON",
        "/api/projects/{project_a}/next",
        "/api/tasks?project={project_a}",
        "/api/tasks/{task_a}",
        "/api/tasks/{task_a}/annotations",
        "/api/tasks/{task_a}/history",
        "/api/annotations/{annotation_a}",
    ],
)
def test_token_of_one_organization_finds_nothing_in_another(
    client: FlaskClient, tenants: Tenants, path: str
) -> None:
    url = path.format(**vars(tenants))
    response = client.get(url, headers=tenants.bob)
    assert response.status_code == 404, url
    assert response.json["status_code"] == 404
    assert "Alpha" not in response.get_data(as_text=True)
    # The same request by a member of the project's organization works: the 404 is the wall.
    assert client.get(url, headers=tenants.alice).status_code == 200, url


def test_writes_into_another_organization_are_refused_and_change_nothing(
    app: Flask, client: FlaskClient, tenants: Tenants
) -> None:
    a = tenants.project_a
    attempts = [
        client.post(f"/api/projects/{a}/import", json=[{"text": "planted"}], headers=tenants.bob),
        client.patch(f"/api/projects/{a}", json={"title": "owned"}, headers=tenants.bob),
        client.delete(f"/api/projects/{a}", headers=tenants.bob),
        client.post(
            f"/api/tasks/{tenants.task_a}/annotations",
            json={"result": choice_result("Negative")},
            headers=tenants.bob,
        ),
        client.patch(
            f"/api/annotations/{tenants.annotation_a}",
            json={"result": choice_result("Negative")},
            headers=tenants.bob,
        ),
        client.post(
            f"/api/projects/{a}/members",
            json={"email": "bob@example.com", "role": "manager"},
            headers=tenants.bob,
        ),
    ]
    assert [r.status_code for r in attempts] == [404] * len(attempts)
    with app.app_context():
        tasks = db.session.scalars(sa.select(TaskRow.project_id)).all()
        assert sorted(tasks) == sorted([a, a, tenants.project_b])
    project = client.get(f"/api/projects/{a}", headers=tenants.alice).json
    assert project["title"] == "Alpha secrets"
    assert project["total_annotations_number"] == 1


def test_a_user_of_another_organization_cannot_be_added_to_a_project(
    app: Flask, client: FlaskClient, tenants: Tenants
) -> None:
    b = tenants.project_b
    known = client.post(
        f"/api/projects/{b}/members",
        json={"email": "alice@example.com", "role": "annotator"},
        headers=tenants.bob,
    )
    unknown = client.post(
        f"/api/projects/{b}/members",
        json={"email": "ghost@example.com", "role": "annotator"},
        headers=tenants.bob,
    )
    # Same answer as for nobody: bob learns nothing about Default's accounts.
    assert known.status_code == unknown.status_code == 202
    assert known.json["detail"].replace("alice", "X") == unknown.json["detail"].replace(
        "ghost", "X"
    )
    by_id = client.post(
        f"/api/projects/{b}/members", json={"user": tenants.alice_id}, headers=tenants.bob
    )
    assert by_id.status_code == 404
    with app.app_context():
        members = db.session.scalars(
            sa.select(ProjectMemberRow.user_id).where(ProjectMemberRow.project_id == b)
        ).all()
    assert members == [tenants.bob_id]


def test_user_and_organization_lookups_stay_inside_the_organization(
    client: FlaskClient, tenants: Tenants
) -> None:
    emails = [u["email"] for u in client.get("/api/users", headers=tenants.root).json]
    assert emails == ["root@example.com", "alice@example.com"]
    bob = f"/api/users/{tenants.bob_id}"
    assert client.get(bob, headers=tenants.root).status_code == 404
    grant = client.patch(bob, json={"can_create_projects": False}, headers=tenants.root)
    assert grant.status_code == 404
    assert client.get(f"/api/users/{tenants.alice_id}", headers=tenants.root).status_code == 200
    assert client.get(bob, headers=tenants.bob).json["can_create_projects"] is True
    acme = tenants.acme_id
    for response in (
        client.get(f"/api/organizations/{acme}", headers=tenants.alice),
        client.get(f"/api/organizations/{acme}/memberships", headers=tenants.alice),
        client.post(
            f"/api/organizations/{acme}/memberships",
            json={"email": "alice@example.com"},
            headers=tenants.alice,
        ),
        client.delete(
            f"/api/organizations/{acme}/memberships/{tenants.bob_id}", headers=tenants.alice
        ),
        client.post(f"/api/organizations/{acme}/switch", headers=tenants.alice),
    ):
        assert response.status_code == 404
        assert "bob@" not in response.get_data(as_text=True)
    assert [o["title"] for o in client.get("/api/organizations", headers=tenants.alice).json] == [
        "Default"
    ]


def test_a_token_acts_in_its_users_active_organization_only(
    app: Flask, client: FlaskClient, tenants: Tenants
) -> None:
    # Alice also joins Acme: her token reaches Acme's project only once she switches to Acme,
    # and then no longer reaches Default's.
    added = client.post(
        f"/api/organizations/{tenants.acme_id}/memberships",
        json={"email": "alice@example.com"},
        headers=tenants.bob,
    )
    assert added.status_code == 202
    client.post(
        f"/api/projects/{tenants.project_b}/members",
        json={"email": "alice@example.com", "role": "annotator"},
        headers=tenants.bob,
    )
    assert (
        client.get(f"/api/projects/{tenants.project_b}", headers=tenants.alice).status_code == 404
    )
    switched = client.post(f"/api/organizations/{tenants.acme_id}/switch", headers=tenants.alice)
    assert switched.status_code == 200
    whoami = client.get("/api/current-user/whoami", headers=tenants.alice).json
    assert whoami["active_organization"] == tenants.acme_id
    assert (
        client.get(f"/api/projects/{tenants.project_b}", headers=tenants.alice).status_code == 200
    )
    assert (
        client.get(f"/api/projects/{tenants.project_a}", headers=tenants.alice).status_code == 404
    )
    assert _ids(client.get("/api/projects", headers=tenants.alice)) == [tenants.project_b]


def _sign_in(client: FlaskClient, email: str) -> None:
    html = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert token
    response = client.post(
        "/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "path",
    [
        "/projects/{project_a}",
        "/projects/{project_a}/settings",
        "/projects/{project_a}/members",
        "/projects/{project_a}/import",
        "/projects/{project_a}/data",
        "/projects/{project_a}/tasks/{task_a}",
        "/projects/{project_a}/label",
        "/projects/{project_a}/label?task={task_a}",
        "/projects/{project_a}/review",
    ],
)
def test_pages_of_another_organizations_project_are_not_found(
    client: FlaskClient, tenants: Tenants, path: str
) -> None:
    _sign_in(client, "bob@example.com")
    url = path.format(**vars(tenants))
    response = client.get(url)
    assert response.status_code == 404, url
    assert "Alpha secrets" not in response.get_data(as_text=True)


def test_project_page_lists_only_the_active_organizations_projects(
    client: FlaskClient, tenants: Tenants
) -> None:
    _sign_in(client, "root@example.com")
    html = client.get("/projects").get_data(as_text=True)
    assert "Alpha secrets" in html
    assert "Bravo work" not in html
    # Switching needs membership (or instance administration): root may, and then sees Acme's.
    html = client.get("/projects").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert token
    switched = client.post(
        f"/organizations/switch/{tenants.acme_id}", data={"csrf_token": token.group(1)}
    )
    assert switched.status_code == 302
    html = client.get("/projects").get_data(as_text=True)
    assert "Bravo work" in html
    assert "Alpha secrets" not in html


def test_a_member_cannot_switch_into_a_foreign_organization_page(
    client: FlaskClient, tenants: Tenants
) -> None:
    _sign_in(client, "alice@example.com")
    html = client.get("/projects").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert token
    response = client.post(
        f"/organizations/switch/{tenants.acme_id}", data={"csrf_token": token.group(1)}
    )
    assert response.status_code == 404
    assert "Bravo work" not in client.get("/projects").get_data(as_text=True)
