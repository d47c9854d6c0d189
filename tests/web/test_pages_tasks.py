"""The data manager, the task page, the review stream and the dashboard through the Flask client."""

import re
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.db.models import AgreementReportRow
from labelops.domain.label_interface import LABEL_KEYS
from labelops.services.annotations import create_annotation, update_annotation
from labelops.services.projects import get_project
from labelops.services.tasks import get_task
from labelops.services.users import get_user_by_email
from labelops.web.extensions import db
from labelops.web.tasks.display import result_summary
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user

NOW = datetime(2024, 5, 2, 12, 0)


def csrf(client: FlaskClient) -> str:
    found = re.search(
        r'name="csrf-token" content="([^"]+)"', client.get("/projects").get_data(as_text=True)
    )
    assert found
    return found.group(1)


@pytest.fixture
def project(app: Flask, auth: Any) -> dict[str, Any]:
    """Five tasks; Ann annotated the first two (Positive, Negative), the first one twice edited."""
    with app.app_context():
        manager = make_user(db.session, "manager@example.com")
        project = make_project(db.session, manager)
        ann = make_user(db.session, "ann@example.com")
        add_member(db.session, project, ann, "annotator")
        add_member(db.session, project, make_user(db.session, "rev@example.com"), "reviewer")
        tasks = make_tasks(db.session, project, 5)
        tasks[3].data = {"text": "a needle in the haystack"}
        first = create_annotation(
            db.session, tasks[0], user_id=ann.id, result=choice_result("Neutral"), now=NOW
        )
        update_annotation(
            db.session, first, user_id=ann.id, result=choice_result("Positive"), now=NOW
        )
        create_annotation(
            db.session, tasks[1], user_id=ann.id, result=choice_result("Negative"), now=NOW
        )
        db.session.commit()
        ids = {"id": project.id, "tasks": [t.id for t in tasks], "annotation": first.id}
    auth.login("manager@example.com", "password123")
    return ids


def row_ids(body: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr data-task-id="(\d+)"', body)]


def test_data_manager_shows_data_columns_state_and_annotators(
    client: FlaskClient, project: dict[str, Any]
) -> None:
    body = client.get(f"/projects/{project['id']}/data").get_data(as_text=True)
    assert row_ids(body) == project["tasks"]
    assert '<th scope="col">text</th>' in body
    assert "task number 0" in body
    assert '<span class="badge badge-completed">completed</span>' in body
    assert "ann@example.com" in body
    assert f'href="/projects/{project["id"]}/label?task={project["tasks"][0]}"' in body


def test_data_manager_filters_by_state_annotator_and_text(
    client: FlaskClient, project: dict[str, Any]
) -> None:
    url = f"/projects/{project['id']}/data"
    tasks = project["tasks"]
    assert row_ids(client.get(f"{url}?state=new").get_data(as_text=True)) == tasks[2:]
    with client.application.app_context():
        ann = get_user_by_email(db.session, "ann@example.com")
        assert ann is not None
        ann_id = ann.id
    by_ann = client.get(f"{url}?annotator={ann_id}").get_data(as_text=True)
    assert row_ids(by_ann) == tasks[:2]
    found = client.get(f"{url}?field=text&search=NEEDLE").get_data(as_text=True)
    assert row_ids(found) == [tasks[3]]
    none = client.get(f"{url}?has_predictions=1").get_data(as_text=True)
    assert row_ids(none) == []
    assert "No tasks match these filters." in none


def test_data_manager_sorts_and_pages_with_cursors(
    client: FlaskClient, project: dict[str, Any]
) -> None:
    url = f"/projects/{project['id']}/data"
    tasks = project["tasks"]
    first = client.get(f"{url}?sort=id&direction=desc&limit=2").get_data(as_text=True)
    assert row_ids(first) == [tasks[4], tasks[3]]
    assert '<span class="btn btn-small" aria-disabled="true">← Previous</span>' in first
    next_url = re.search(r'rel="next" href="([^"]+)"', first)
    assert next_url
    second = client.get(next_url.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert row_ids(second) == [tasks[2], tasks[1]]
    prev_url = re.search(r'rel="prev" href="([^"]+)"', second)
    assert prev_url
    back = client.get(prev_url.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert row_ids(back) == [tasks[4], tasks[3]]
    third_url = re.search(r'rel="next" href="([^"]+)"', second)
    assert third_url
    last = client.get(third_url.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert row_ids(last) == [tasks[0]]
    assert 'rel="next"' not in last


def test_data_manager_explains_bad_filters(client: FlaskClient, project: dict[str, Any]) -> None:
    response = client.get(f"/projects/{project['id']}/data?min_score=abc&cursor=zz")
    assert response.status_code == 400
    assert "Min score" in response.get_data(as_text=True)
    broken_cursor = client.get(f"/projects/{project['id']}/data?cursor=zz")
    assert broken_cursor.status_code == 400
    assert "malformed page cursor" in broken_cursor.get_data(as_text=True)


def test_deletes_selected_tasks(app: Flask, client: FlaskClient, project: dict[str, Any]) -> None:
    tasks = project["tasks"]
    response = client.post(
        f"/projects/{project['id']}/data/delete",
        data={"task": [str(tasks[0]), str(tasks[4])], "csrf_token": csrf(client)},
    )
    assert response.status_code == 302
    with app.app_context():
        current = get_project(db.session, project["id"])
        assert (current.num_tasks, current.num_annotations, current.num_labeled_tasks) == (3, 1, 1)
    body = client.get(f"/projects/{project['id']}/data").get_data(as_text=True)
    assert row_ids(body) == tasks[1:4]


def test_task_page_shows_annotations_and_history(
    client: FlaskClient, project: dict[str, Any]
) -> None:
    task_id = project["tasks"][0]
    body = client.get(f"/projects/{project['id']}/tasks/{task_id}").get_data(as_text=True)
    assert "task number 0" in body
    assert "<strong>ann@example.com</strong>" in body
    assert "Positive" in body
    history = body[body.index("data-history") :]
    assert history.index("updated annotation") < history.index("created annotation")
    assert "Neutral" in history
    other = make_other_project_task(client)
    assert client.get(f"/projects/{project['id']}/tasks/{other}").status_code == 404


def make_other_project_task(client: FlaskClient) -> int:
    with client.application.app_context():
        owner = get_user_by_email(db.session, "manager@example.com")
        other = make_project(db.session, owner, title="Other")
        task = make_tasks(db.session, other, 1)[0]
        db.session.commit()
        return task.id


def test_review_accept_moves_task_to_reviewed(
    app: Flask, client: FlaskClient, auth: Any, project: dict[str, Any]
) -> None:
    auth.logout()
    auth.login("rev@example.com", "password123")
    url = f"/projects/{project['id']}/review"
    body = client.get(url).get_data(as_text=True)
    assert f'data-annotation-id="{project["annotation"]}"' in body
    response = client.post(
        f"{url}/annotations/{project['annotation']}",
        data={"decision": "accepted", "csrf_token": csrf(client)},
    )
    assert response.status_code == 302
    with app.app_context():
        assert get_task(db.session, project["tasks"][0]).state == "reviewed"
    after = client.get(url).get_data(as_text=True)
    assert f'data-annotation-id="{project["annotation"]}"' not in after
    assert "Task {}".format(project["tasks"][1]) in after


def test_review_reject_needs_a_comment_and_requeues(
    app: Flask, client: FlaskClient, project: dict[str, Any]
) -> None:
    url = f"/projects/{project['id']}/review/annotations/{project['annotation']}"
    refused = client.post(url, data={"decision": "rejected", "csrf_token": csrf(client)})
    assert refused.status_code == 302
    with app.app_context():
        assert get_task(db.session, project["tasks"][0]).state == "completed"
    client.post(
        url, data={"decision": "rejected", "comment": "Sarcasm", "csrf_token": csrf(client)}
    )
    with app.app_context():
        task = get_task(db.session, project["tasks"][0])
        assert (task.state, task.is_labeled) == ("rejected", False)
    page = client.get(f"/projects/{project['id']}/tasks/{project['tasks'][0]}")
    assert "Sarcasm" in page.get_data(as_text=True)


def test_review_skip_and_empty_queue(client: FlaskClient, project: dict[str, Any]) -> None:
    url = f"/projects/{project['id']}/review"
    skipped = client.get(f"{url}?after={project['tasks'][1]}").get_data(as_text=True)
    assert "Nothing to review after task" in skipped


def test_dashboard_draws_progress_throughput_labels_and_agreement(
    app: Flask, client: FlaskClient, project: dict[str, Any]
) -> None:
    url = f"/projects/{project['id']}/dashboard"
    body = client.get(url).get_data(as_text=True)
    assert "this project's overlap is 1" in body
    assert '"email": "ann@example.com", "finished": 2' in body
    assert '"label": "Positive"' in body
    report = {
        "num_tasks": 12,
        "controls": {
            "sentiment": {"name": "sentiment", "kind": "classification", "fleiss_kappa": 0.71}
        },
    }
    with app.app_context():
        db.session.add(AgreementReportRow(project_id=project["id"], report=report))
        db.session.commit()
    body = client.get(url).get_data(as_text=True)
    assert '<dd data-figure="kappa">0.710</dd>' in body
    assert "overlap is 1" not in body


def test_dashboard_of_an_overlap_two_project_does_not_blame_the_overlap(
    app: Flask, client: FlaskClient, project: dict[str, Any]
) -> None:
    with app.app_context():
        get_project(db.session, project["id"]).maximum_annotations = 2
        db.session.commit()
    body = client.get(f"/projects/{project['id']}/dashboard").get_data(as_text=True)
    assert "No agreement report yet" in body
    assert "overlap" not in body.split("data-agreement>", 1)[1].split("</section>", 1)[0]


def test_annotator_sees_instructions_and_no_manager_tabs(
    app: Flask, client: FlaskClient, auth: Any, project: dict[str, Any]
) -> None:
    with app.app_context():
        current = get_project(db.session, project["id"])
        current.expert_instruction = "Irony counts as <b>negative</b>."
        db.session.commit()
    auth.logout()
    auth.login("ann@example.com", "password123")
    body = client.get(f"/projects/{project['id']}/data").get_data(as_text=True)
    assert "Irony counts as &lt;b&gt;negative&lt;/b&gt;." in body
    for tab in ("/import", "/settings", "/members", "/review"):
        assert f'href="/projects/{project["id"]}{tab}"' not in body
    assert "Delete selected" not in body
    assert 'name="task"' not in body


def test_filter_by_a_former_member_still_works(
    app: Flask, client: FlaskClient, project: dict[str, Any]
) -> None:
    with app.app_context():
        ann = get_user_by_email(db.session, "ann@example.com")
        assert ann is not None
        from labelops.services.projects import remove_member

        remove_member(db.session, get_project(db.session, project["id"]), ann.id, by=None)
        db.session.commit()
        ann_id = ann.id
    response = client.get(f"/projects/{project['id']}/data?annotator={ann_id}")
    assert response.status_code == 200
    assert row_ids(response.get_data(as_text=True)) == project["tasks"][:2]
    assert client.get(f"/projects/{project['id']}/data?annotator=x").status_code == 400


@pytest.mark.parametrize("key", LABEL_KEYS)
def test_a_result_of_every_labeling_type_reads_as_its_labels(key: str) -> None:
    assert result_summary({"type": key, "value": {key: ["Cat"]}}) == "Cat"


def test_a_brush_region_reads_as_its_labels_and_a_mask() -> None:
    item = {"type": "brushlabels", "value": {"brushlabels": ["Cat"], "format": "rle", "rle": [1]}}
    assert result_summary(item) == "Cat · brush mask"
