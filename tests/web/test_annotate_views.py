"""The labeling page: what it embeds for the browser, who may open it, and the end screen."""

import json
import re
from datetime import datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from labelops.services.annotations import create_annotation
from labelops.web.extensions import db
from tests.conftest import AuthActions
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user

_PAYLOAD = re.compile(r'<script type="application/json" id="lo-payload">(.*?)</script>', re.S)
HTML_CONFIG = """<View>
  <HyperText name="html" value="$html"/>
  <Choices name="kind" toName="html"><Choice value="Spam"/><Choice value="Ham"/></Choices>
</View>"""


def _seed(app: Flask, data: dict[str, Any] | None = None, **project_fields: Any) -> dict[str, Any]:
    with app.app_context():
        admin = make_user(db.session, "admin@example.com", admin=True)
        project = make_project(db.session, admin, **project_fields)
        tasks = make_tasks(db.session, project, 2, **(data or {}))
        db.session.commit()
        return {"admin": admin.id, "project": project.id, "tasks": [t.id for t in tasks]}


def _payload(html: str) -> dict[str, Any]:
    match = _PAYLOAD.search(html)
    assert match, "the page embeds no labeling payload"
    return json.loads(match.group(1))


def test_embeds_the_next_task_and_the_interface_description(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    ids = _seed(app)
    auth.login("admin@example.com", "password123")
    response = client.get(f"/projects/{ids['project']}/label")
    assert response.status_code == 200
    payload = _payload(response.get_data(as_text=True))
    assert payload["task"]["id"] == ids["tasks"][0]
    assert payload["task"]["data"] == {"text": "task number 0"}
    sentiment = payload["description"]["controls"]["sentiment"]
    assert [label["hotkey"] for label in sentiment["labels"]] == ["1", "2", "3"]
    assert payload["annotation"] is None and payload["unsupported"] == []


def test_sanitizes_hypertext_before_it_reaches_the_browser(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    dirty = '<p onclick="steal()">Hi<script>steal()</script></p><a href="javascript:x()">x</a>'
    ids = _seed(app, {"html": dirty}, label_config=HTML_CONFIG)
    auth.login("admin@example.com", "password123")
    html = _payload(client.get(f"/projects/{ids['project']}/label").get_data(as_text=True))
    cleaned = html["task"]["data"]["html"]
    assert "script" not in cleaned and "onclick" not in cleaned and "javascript:" not in cleaned
    assert "<p>Hi</p>" in cleaned


def test_shows_the_end_screen_when_no_task_is_left(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    ids = _seed(app)
    with app.app_context():
        from labelops.db.models import TaskRow

        for task_id in ids["tasks"]:
            task = db.session.get_one(TaskRow, task_id)
            create_annotation(
                db.session,
                task,
                user_id=ids["admin"],
                result=[],
                was_cancelled=True,
                now=datetime(2024, 1, 1),
            )
        db.session.commit()
    auth.login("admin@example.com", "password123")
    body = client.get(f"/projects/{ids['project']}/label").get_data(as_text=True)
    assert "No more tasks" in body and "lo-payload" not in body


def test_opens_a_given_task_with_the_users_own_annotation(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    ids = _seed(app)
    with app.app_context():
        from labelops.db.models import TaskRow

        task = db.session.get_one(TaskRow, ids["tasks"][1])
        annotation = create_annotation(
            db.session,
            task,
            user_id=ids["admin"],
            result=choice_result("Positive"),
            now=datetime(2024, 1, 1),
        )
        db.session.commit()
        annotation_id = annotation.id
    auth.login("admin@example.com", "password123")
    response = client.get(f"/projects/{ids['project']}/label?task={ids['tasks'][1]}")
    payload = _payload(response.get_data(as_text=True))
    assert payload["task"]["id"] == ids["tasks"][1]
    assert payload["annotation"]["id"] == annotation_id
    assert ">Update<" in response.get_data(as_text=True)


def test_hides_projects_from_non_members_and_needs_sign_in(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    ids = _seed(app)
    with app.app_context():
        make_user(db.session, "out@example.com")
        member = make_user(db.session, "ann@example.com")
        from labelops.db.models import ProjectRow

        add_member(db.session, db.session.get_one(ProjectRow, ids["project"]), member, "annotator")
        db.session.commit()
    url = f"/projects/{ids['project']}/label"
    assert client.get(url).status_code == 302
    auth.login("out@example.com", "password123")
    assert client.get(url).status_code == 404
    auth.logout()
    auth.login("ann@example.com", "password123")
    assert client.get(url).status_code == 200
    assert client.get(f"{url}?task=999999").status_code == 404


def test_names_tags_the_view_cannot_show(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    config = """<View>
      <Image name="image" value="$image"/>
      <Filter name="find" toName="mask"/>
      <BrushLabels name="mask" toName="image"><Label value="Sky"/></BrushLabels>
    </View>"""
    ids = _seed(app, {"image": "https://example.com/a.png"}, label_config=config)
    auth.login("admin@example.com", "password123")
    response = client.get(f"/projects/{ids['project']}/label")
    assert _payload(response.get_data(as_text=True))["unsupported"] == ["Filter"]
    assert "Not supported by the labeling view yet: &lt;Filter&gt;" in response.get_data(
        as_text=True
    )
