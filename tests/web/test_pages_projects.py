"""Project pages through the Flask client, on SQLite and PostgreSQL.

List, create from the gallery, settings, delete, members, the config preview and the API token.
"""

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from labelops.db.models import ProjectRow, utcnow
from labelops.domain.label_config import parse_label_config
from labelops.services.annotations import create_annotation
from labelops.services.projects import get_project, members, role_of
from labelops.services.users import get_user_by_email, grant_project_creation
from labelops.templates_gallery import gallery, get_template
from labelops.web.extensions import db
from tests.factories import choice_result, make_project, make_tasks, make_user

REQUIRED_TEMPLATES = {
    "text_classification",
    "multi_label_classification",
    "named_entity_recognition",
    "relation_extraction",
    "image_classification",
    "object_detection",
    "polygon_segmentation",
    "keypoints",
    "audio_segmentation",
    "audio_transcription",
    "transcription_segments",
    "html_classification",
    "time_series_events",
    "video_classification",
    "dialogue",
    "pairwise_comparison",
    "rating",
}


@pytest.mark.parametrize("template", gallery(), ids=lambda t: t.name)
def test_every_gallery_template_parses(template: Any) -> None:
    config = parse_label_config(template.label_config)
    assert config.controls and config.data_fields


def test_gallery_covers_the_starter_tasks() -> None:
    assert {t.name for t in gallery()} >= REQUIRED_TEMPLATES
    assert get_template("nope") is None


def csrf(client: FlaskClient, path: str = "/projects") -> str:
    found = re.search(
        r'name="csrf-token" content="([^"]+)"', client.get(path).get_data(as_text=True)
    )
    assert found
    return found.group(1)


@pytest.fixture
def manager(app: Flask, auth: Any) -> int:
    with app.app_context():
        user = make_user(db.session, "manager@example.com")
        grant_project_creation(db.session, user, by=None)
        db.session.commit()
        user_id = user.id
    auth.login("manager@example.com", "password123")
    return user_id


def project_form(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Reviews",
        "description": "Product reviews",
        "label_config": get_template("text_classification").label_config,  # type: ignore[union-attr]
        "expert_instruction": "Read the whole review.",
        "show_instruction": "y",
        "show_skip_button": "y",
        "maximum_annotations": "2",
        "sampling": "Uniform sampling",
        "color": "#3056D3",
        **overrides,
    }


def test_sign_in_page_and_sign_out(app: Flask, client: FlaskClient, auth: Any) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<label for="email">Email</label>' in page
    with app.app_context():
        make_user(db.session, "ann@example.com")
        db.session.commit()
    wrong = auth.login("ann@example.com", "wrong-password")
    assert wrong.status_code == 400
    assert "Wrong email or password." in wrong.get_data(as_text=True)
    assert auth.login("ann@example.com", "password123").location == "/projects"
    assert "ann@example.com" in client.get("/projects").get_data(as_text=True)
    auth.logout()
    assert client.get("/projects").status_code == 302


def test_project_list_shows_progress_from_counters(
    app: Flask, client: FlaskClient, manager: int
) -> None:
    with app.app_context():
        owner = get_user_by_email(db.session, "manager@example.com")
        project = make_project(db.session, owner, title="Progressing")
        make_tasks(db.session, project, 4)
        project.num_labeled_tasks = 1
        db.session.commit()
    body = client.get("/projects").get_data(as_text=True)
    assert "Progressing" in body
    assert "<strong>1</strong> / 4 labeled" in body
    assert 'aria-valuenow="25"' in body


def test_new_project_page_offers_the_gallery(client: FlaskClient, manager: int) -> None:
    body = client.get("/projects/new?template=object_detection").get_data(as_text=True)
    for template in gallery():
        assert f'data-template="{template.name}"' in body
    assert "RectangleLabels" in body
    assert 'data-template="object_detection" aria-pressed="true"' in body
    # The link fills the title as the button does (a click before the script binds follows it).
    title = next(t.title for t in gallery() if t.name == "object_detection")
    field = re.search(r'<input[^>]*name="title"[^>]*>', body)
    assert field and f'value="{title}"' in field.group(0)


def test_every_gallery_template_shows_its_picture(client: FlaskClient, manager: int) -> None:
    body = client.get("/projects/new").get_data(as_text=True)
    for template in gallery():
        src = f"/static/gallery/{template.name}.svg"
        assert re.search(rf'src="{re.escape(src)}\?v=[0-9a-f]{{12}}"', body), src  # versioned
        response = client.get(src)
        assert response.status_code == 200, src
        assert response.mimetype == "image/svg+xml"
        assert b"<script" not in response.data


def test_transcription_with_segments_transcribes_each_segment() -> None:
    template = get_template("transcription_segments")
    assert template is not None
    config = parse_label_config(template.label_config)
    transcription = config.control("transcription")
    assert transcription.per_region and transcription.to_names == ("audio",)
    assert config.control("segment").label_values() == ("Speech", "Noise")


def test_creates_project_and_makes_creator_manager(
    app: Flask, client: FlaskClient, manager: int
) -> None:
    response = client.post("/projects/new", data={**project_form(), "csrf_token": csrf(client)})
    assert response.status_code == 302
    project_id = int(response.location.split("/")[2])
    assert response.location == f"/projects/{project_id}/import"
    with app.app_context():
        project = get_project(db.session, project_id)
        assert (project.title, project.maximum_annotations, project.sampling) == (
            "Reviews",
            2,
            "Uniform sampling",
        )
        assert project.expert_instruction == "Read the whole review."
        user = get_user_by_email(db.session, "manager@example.com")
        assert user is not None
        assert role_of(db.session, user, project_id) == "manager"


def test_broken_config_is_refused_with_its_line(
    app: Flask, client: FlaskClient, manager: int
) -> None:
    broken = (
        '<View>\n  <Text name="text" value="$text"/>\n'
        '  <Choices name="c" toName="nope">\n    <Choice value="A"/>\n  </Choices>\n</View>'
    )
    response = client.post(
        "/projects/new", data={**project_form(label_config=broken), "csrf_token": csrf(client)}
    )
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "line 3: toName &#39;nope&#39;" in body
    assert 'aria-invalid="true"' in body
    with app.app_context():
        assert db.session.scalars(sa.select(ProjectRow)).first() is None


def test_overlap_out_of_range_is_shown_next_to_the_field(client: FlaskClient, manager: int) -> None:
    response = client.post(
        "/projects/new",
        data={**project_form(maximum_annotations="0"), "csrf_token": csrf(client)},
    )
    assert response.status_code == 400
    assert 'id="maximum_annotations-error"' in response.get_data(as_text=True)


def test_preview_describes_the_interface_or_names_the_line(
    client: FlaskClient, manager: int
) -> None:
    token = csrf(client)
    ok = client.post(
        "/projects/preview",
        json={"label_config": get_template("named_entity_recognition").label_config},  # type: ignore[union-attr]
        headers={"X-CSRFToken": token},
    )
    assert ok.status_code == 200
    assert ok.get_json()["interface"]["controls"]["label"]["tag"] == "Labels"
    assert "text" in ok.get_json()["task_data"]
    bad = client.post(
        "/projects/preview",
        json={"label_config": "<View>\n<Text name='t' value='$t'>\n</View>"},
        headers={"X-CSRFToken": token},
    )
    assert bad.status_code == 400
    assert bad.get_json()["validation_errors"]["label_config"][0]["line"] == 3


def test_settings_save_overlap_sampling_and_instructions(
    app: Flask, client: FlaskClient, manager: int
) -> None:
    created = client.post("/projects/new", data={**project_form(), "csrf_token": csrf(client)})
    project_id = int(created.location.split("/")[2])
    page = client.get(f"/projects/{project_id}/settings").get_data(as_text=True)
    assert "Read the whole review." in page
    response = client.post(
        f"/projects/{project_id}/settings",
        data={
            **project_form(
                title="Renamed", maximum_annotations="3", sampling="Uncertainty sampling"
            ),
            "csrf_token": csrf(client),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        project = get_project(db.session, project_id)
        assert (project.title, project.maximum_annotations, project.sampling) == (
            "Renamed",
            3,
            "Uncertainty sampling",
        )


def test_settings_refuse_a_config_that_drops_a_label_in_use(
    app: Flask, client: FlaskClient, manager: int
) -> None:
    created = client.post("/projects/new", data={**project_form(), "csrf_token": csrf(client)})
    project_id = int(created.location.split("/")[2])
    with app.app_context():
        task = make_tasks(db.session, get_project(db.session, project_id), n=1)[0]
        create_annotation(
            db.session, task, user_id=manager, result=choice_result("Neutral"), now=utcnow()
        )
        db.session.commit()
    without_neutral = project_form()["label_config"].replace('<Choice value="Neutral"/>', "")

    response = client.post(
        f"/projects/{project_id}/settings",
        data={**project_form(label_config=without_neutral), "csrf_token": csrf(client)},
    )

    assert response.status_code == 400
    assert "choices=&#39;Neutral&#39;" in response.get_data(as_text=True)
    with app.app_context():
        assert "Neutral" in get_project(db.session, project_id).label_config


def test_clone_prefills_the_settings_of_another_project(client: FlaskClient, manager: int) -> None:
    created = client.post(
        "/projects/new",
        data={**project_form(expert_instruction="Clone me"), "csrf_token": csrf(client)},
    )
    project_id = int(created.location.split("/")[2])
    body = client.get(f"/projects/new?clone={project_id}").get_data(as_text=True)
    assert 'value="Reviews (copy)"' in body
    assert "Clone me" in body


def test_delete_needs_the_title(app: Flask, client: FlaskClient, manager: int) -> None:
    created = client.post("/projects/new", data={**project_form(), "csrf_token": csrf(client)})
    project_id = int(created.location.split("/")[2])
    wrong = client.post(
        f"/projects/{project_id}/delete", data={"confirm": "nope", "csrf_token": csrf(client)}
    )
    assert wrong.status_code == 400
    assert "the title does not match" in wrong.get_data(as_text=True)
    done = client.post(
        f"/projects/{project_id}/delete", data={"confirm": "Reviews", "csrf_token": csrf(client)}
    )
    assert done.location == "/projects"
    with app.app_context():
        assert db.session.get(ProjectRow, project_id) is None


def test_members_are_added_by_email_changed_and_removed(
    app: Flask, client: FlaskClient, manager: int
) -> None:
    with app.app_context():
        other = make_user(db.session, "bob@example.com")
        db.session.commit()
        other_id = other.id
    created = client.post("/projects/new", data={**project_form(), "csrf_token": csrf(client)})
    project_id = int(created.location.split("/")[2])
    url = f"/projects/{project_id}/members"
    unknown = client.post(
        url, data={"email": "ghost@example.com", "role": "annotator", "csrf_token": csrf(client)}
    )
    # An unknown email gets the same answer as a known one: the page reveals no accounts.
    assert unknown.status_code == 302
    with app.app_context():
        assert [m.user.email for m in members(db.session, project_id)] == ["manager@example.com"]
    added = client.post(
        url, data={"email": "bob@example.com", "role": "reviewer", "csrf_token": csrf(client)}
    )
    assert added.status_code == 302
    assert "bob@example.com" in client.get(url).get_data(as_text=True)
    client.post(f"{url}/{other_id}", data={"role": "annotator", "csrf_token": csrf(client)})
    with app.app_context():
        roles = {m.user.email: m.role for m in members(db.session, project_id)}
        assert roles == {"manager@example.com": "manager", "bob@example.com": "annotator"}
    client.post(f"{url}/{other_id}/remove", data={"csrf_token": csrf(client)})
    with app.app_context():
        assert [m.user.email for m in members(db.session, project_id)] == ["manager@example.com"]


def test_token_page_issues_a_working_api_token(client: FlaskClient, manager: int) -> None:
    page = client.get("/account/token")
    assert page.status_code == 200
    assert "Issue a new token" in page.get_data(as_text=True)
    issued = client.post("/account/token", data={"csrf_token": csrf(client)})
    assert issued.headers["Cache-Control"] == "no-store"
    found = re.search(r'<p class="token" data-token>([0-9a-f]+)</p>', issued.get_data(as_text=True))
    assert found
    whoami = client.application.test_client().get(
        "/api/projects", headers={"Authorization": f"Token {found.group(1)}"}
    )
    assert whoami.status_code == 200
