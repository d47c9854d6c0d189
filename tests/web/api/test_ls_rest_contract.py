"""Label Studio's REST contract: form bodies, its project fields, drafts, tasks, shapes, statuses.

Each test drives the API as Label Studio's clients do (its tavern suite sends project bodies as
forms, posts tasks under the project, saves drafts, validates configs) and then as an attacker.
"""

import io
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from labelops.db.models import UserRow
from labelops.web.api.validation import MAX_FORM_BYTES
from labelops.web.extensions import db
from tests.factories import TEXT_CONFIG, add_member, make_project, make_tasks
from tests.web.helpers import user_with_token

NUMBER_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="label" toName="text"><Choice value="1"/><Choice value="2"/></Choices>
</View>"""

# Every key of Label Studio's ProjectSerializer but the ones labelops deliberately leaves out:
# the task-data credentials (never stored) and the Enterprise workflow state.
LS_PROJECT_KEYS = {
    "id", "title", "description", "label_config", "expert_instruction", "show_instruction",
    "show_skip_button", "enable_empty_annotation", "show_annotation_history", "organization",
    "color", "maximum_annotations", "is_published", "model_version", "is_draft", "created_by",
    "created_at", "min_annotations_to_start_training", "start_training_on_annotation_update",
    "show_collab_predictions", "num_tasks_with_annotations", "task_number",
    "useful_annotation_number", "ground_truth_number", "skipped_annotations_number",
    "total_annotations_number", "total_predictions_number", "sampling", "show_ground_truth_first",
    "annotator_evaluation_enabled", "show_overlap_first", "overlap_cohort_percentage",
    "control_weights", "parsed_label_config", "evaluate_predictions_automatically",
    "config_has_control_tags", "skip_queue", "reveal_preannotations_interactively", "pinned_at",
    "finished_task_number", "queue_total", "queue_done",
}  # fmt: skip


@dataclass
class Team:
    """A project with its manager, an annotator, a second annotator, and an outsider's project."""

    project_id: int
    task_id: int
    manager: dict[str, str]
    annotator: dict[str, str]
    other_annotator: dict[str, str]
    outsider: dict[str, str]
    outsider_task_id: int


@pytest.fixture
def team(app: Flask) -> Team:
    manager_id, manager = user_with_token(app, "manager@example.com", can_create_projects=True)
    annotator_id, annotator = user_with_token(app, "ann@example.com")
    other_id, other = user_with_token(app, "ann2@example.com")
    outsider_id, outsider = user_with_token(app, "outsider@example.com")
    with app.app_context():
        project = make_project(db.session, db.session.get_one(UserRow, manager_id))
        for user_id in (annotator_id, other_id):
            add_member(db.session, project, db.session.get_one(UserRow, user_id), "annotator")
        task = make_tasks(db.session, project, n=2, text="hello")[0]
        # The outsider manages a project of their own in the same organization.
        theirs = make_project(db.session, db.session.get_one(UserRow, outsider_id))
        their_task = make_tasks(db.session, theirs, n=1)[0]
        db.session.commit()
        return Team(project.id, task.id, manager, annotator, other, outsider, their_task.id)


# -- form bodies --------------------------------------------------------------------------------


def test_a_project_is_created_from_a_form_with_values_converted_to_their_types(
    client: FlaskClient, team: Team
) -> None:
    response = client.post(
        "/api/projects",
        data={
            "title": "From a form",
            "label_config": TEXT_CONFIG,
            "is_published": "true",
            "show_collab_predictions": "False",
            "maximum_annotations": "2",
            "control_weights": '{"sentiment": {"overall": 1.0}}',
        },
        headers=team.manager,
    )

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["title"] == "From a form"
    assert body["is_published"] is True and body["show_collab_predictions"] is False
    assert body["maximum_annotations"] == 2
    assert body["control_weights"] == {"sentiment": {"overall": 1.0}}


def test_a_multipart_form_updates_a_project(client: FlaskClient, team: Team) -> None:
    response = client.patch(
        f"/api/projects/{team.project_id}",
        data={"title": "Renamed", "show_skip_button": "false"},
        content_type="multipart/form-data",
        headers=team.manager,
    )

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["title"] == "Renamed"
    assert response.get_json()["show_skip_button"] is False


def test_an_annotation_is_accepted_as_a_form_with_its_result_as_json(
    client: FlaskClient, team: Team
) -> None:
    result = '[{"from_name": "sentiment", "to_name": "text", "type": "choices",' \
        ' "value": {"choices": ["Positive"]}}]'  # fmt: skip
    response = client.post(
        f"/api/tasks/{team.task_id}/annotations",
        data={"result": result, "lead_time": "3.5", "was_cancelled": "false"},
        headers=team.annotator,
    )

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["lead_time"] == 3.5
    assert response.get_json()["result"][0]["value"] == {"choices": ["Positive"]}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        # a field neither labelops nor Label Studio knows
        ({"title": "x", "frobnicate": "1"}, "frobnicate", "unknown field"),
        # a number that is not one
        ({"maximum_annotations": "two"}, "maximum_annotations", "valid integer"),
        # a JSON field whose JSON is broken
        ({"control_weights": "{not json"}, "control_weights", "not valid JSON"),
        # a boolean that is not one
        ({"is_published": "perhaps"}, "is_published", "valid boolean"),
    ],
)
def test_a_hostile_form_is_refused_naming_the_field(
    client: FlaskClient, team: Team, data: dict[str, str], field: str, message: str
) -> None:
    response = client.post("/api/projects", data=data, headers=team.manager)

    assert response.status_code == 400
    errors = response.get_json()["validation_errors"]
    assert field in errors and message in " ".join(errors[field])


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_an_oversized_form_is_refused(client: FlaskClient, team: Team, content_type: str) -> None:
    response = client.post(
        "/api/projects",
        data={"description": "x" * (MAX_FORM_BYTES + 1)},
        content_type=content_type,
        headers=team.manager,
    )

    assert response.status_code == 413


def test_a_file_in_a_form_where_none_is_taken_is_refused(client: FlaskClient, team: Team) -> None:
    response = client.post(
        "/api/projects",
        data={"title": "x", "label_config": (io.BytesIO(b"<View/>"), "config.xml")},
        content_type="multipart/form-data",
        headers=team.manager,
    )

    assert response.status_code == 400
    assert "label_config" in response.get_json()["validation_errors"]


def test_a_list_body_sent_as_a_form_is_refused(client: FlaskClient, team: Team) -> None:
    response = client.post(
        f"/api/projects/{team.project_id}/tasks/bulk", data={"data": "{}"}, headers=team.manager
    )

    assert response.status_code == 400
    assert "JSON" in response.get_json()["detail"]


# -- project fields -----------------------------------------------------------------------------


def test_a_project_json_has_label_studios_keys(client: FlaskClient, team: Team) -> None:
    body = client.get(f"/api/projects/{team.project_id}", headers=team.manager).get_json()

    assert LS_PROJECT_KEYS <= set(body), sorted(LS_PROJECT_KEYS - set(body))
    assert body["created_by"]["email"] == "manager@example.com"
    assert body["queue_total"] == 2 and body["queue_done"] == 0
    for headers, choice in ((team.other_annotator, None), (team.annotator, "Positive")):
        client.post(
            f"/api/tasks/{team.task_id}/annotations",
            json={
                "result": [
                    {"from_name": "sentiment", "to_name": "text", "type": "choices",
                     "value": {"choices": [choice]}}
                ] if choice else [],
                "was_cancelled": choice is None,
            },
            headers=headers,
        )  # fmt: skip
    mine = client.get(f"/api/projects/{team.project_id}", headers=team.annotator).get_json()
    assert mine["queue_done"] == 1 and mine["queue_total"] == 2  # the task is labeled, by them
    assert mine["useful_annotation_number"] == 1 and mine["skipped_annotations_number"] == 1
    theirs = client.get(f"/api/projects/{team.project_id}", headers=team.manager).get_json()
    assert theirs["queue_done"] == 0 and theirs["queue_total"] == 1
    listed = client.get("/api/projects", headers=team.manager).get_json()["results"]
    assert LS_PROJECT_KEYS - {"parsed_label_config", "config_has_control_tags"} <= set(listed[0])


def test_every_label_studio_project_setting_is_kept_and_returned(
    client: FlaskClient, team: Team
) -> None:
    settings = {
        "is_published": True,
        "is_draft": True,
        "enable_empty_annotation": False,
        "show_annotation_history": True,
        "show_collab_predictions": False,
        "show_ground_truth_first": True,
        "show_overlap_first": True,
        "annotator_evaluation_enabled": True,
        "evaluate_predictions_automatically": True,
        "reveal_preannotations_interactively": True,
        "min_annotations_to_start_training": 10,
        "overlap_cohort_percentage": 50,
        "control_weights": {"sentiment": {"type": "Choices", "overall": 0.5, "labels": {}}},
        "skip_queue": "IGNORE_SKIPPED",
        "pinned_at": "2026-11-29T10:00:00Z",
    }
    created = client.post(
        "/api/projects",
        json={
            "title": "All of them",
            **settings,
            # read-only or not kept: accepted and ignored
            "id": 999,
            "organization": 12345,
            "created_by": {"id": 1},
            "task_number": 50,
            "task_data_login": "user",
            "task_data_password": "hunter2",
            "workspace": 3,
        },
        headers=team.manager,
    )
    assert created.status_code == 201, created.get_json()
    project = created.get_json()
    got = client.get(f"/api/projects/{project['id']}", headers=team.manager).get_json()

    assert {k: got[k] for k in settings} == settings
    assert got["start_training_on_annotation_update"] is True
    assert got["id"] != 999 and got["task_number"] == 0 and got["organization"] != 12345
    assert "hunter2" not in str(got) and "task_data_password" not in got

    patched = client.patch(
        f"/api/projects/{project['id']}",
        json={"start_training_on_annotation_update": False, "pinned_at": None},
        headers=team.manager,
    ).get_json()
    assert patched["min_annotations_to_start_training"] == 0
    assert patched["pinned_at"] is None and patched["is_published"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"skip_queue": "SOMETIMES"}, "skip_queue"),
        ({"overlap_cohort_percentage": 101}, "overlap_cohort_percentage"),
        ({"is_published": "yes please"}, "is_published"),
        ({"control_weights": [1, 2]}, "control_weights"),
        ({"frobnicate": True}, "frobnicate"),
    ],
)
def test_bad_or_unknown_project_fields_are_refused_naming_them(
    client: FlaskClient, team: Team, body: dict, field: str
) -> None:
    response = client.patch(f"/api/projects/{team.project_id}", json=body, headers=team.manager)

    assert response.status_code == 400
    assert field in response.get_json()["detail"]


def test_a_bad_pinned_at_is_refused(client: FlaskClient, team: Team) -> None:
    response = client.patch(
        f"/api/projects/{team.project_id}", json={"pinned_at": "yesterday"}, headers=team.manager
    )

    assert response.status_code == 400
    assert "pinned_at" in response.get_json()["detail"]


def test_a_project_created_with_no_body_is_a_default_new_project(
    client: FlaskClient, team: Team
) -> None:
    first = client.post("/api/projects", headers=team.manager)
    second = client.post("/api/projects", data={}, headers=team.manager)

    assert first.status_code == 201 and second.status_code == 201
    # team already made two projects in this organization
    assert first.get_json()["title"] == "New Project #3"
    assert second.get_json()["title"] == "New Project #4"
    assert first.get_json()["label_config"] == "<View></View>"


# -- tasks --------------------------------------------------------------------------------------


def test_a_task_is_created_under_its_project_in_label_studios_shape(
    client: FlaskClient, team: Team
) -> None:
    response = client.post(
        f"/api/projects/{team.project_id}/tasks",
        json={"data": {"text": "one more"}, "project": 424242},
        headers=team.manager,
    )

    assert response.status_code == 201, response.get_json()
    task = response.get_json()
    assert task["project"] == team.project_id and task["data"] == {"text": "one more"}
    for key in (
        "id", "meta", "is_labeled", "total_annotations", "cancelled_annotations",
        "total_predictions", "inner_id", "comment_count", "unresolved_comment_count",
        "last_comment_updated_at", "comment_authors", "file_upload", "created_at", "updated_at",
    ):  # fmt: skip
        assert key in task, key


def test_tasks_are_created_in_bulk_all_or_nothing(client: FlaskClient, team: Team) -> None:
    response = client.post(
        f"/api/projects/{team.project_id}/tasks/bulk",
        json=[{"data": {"text": "a"}}, {"data": {"text": "b"}}],
        headers=team.manager,
    )
    broken = client.post(
        f"/api/projects/{team.project_id}/tasks/bulk",
        json=[{"data": {"text": "c"}}, {"data": {"other": "d"}}],
        headers=team.manager,
    )
    listed = client.get(f"/api/tasks?project={team.project_id}", headers=team.manager).get_json()

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["task_count"] == 2
    assert broken.status_code == 400
    assert listed["total"] == 4
    cleared = client.delete(f"/api/projects/{team.project_id}/tasks", headers=team.manager)
    assert cleared.status_code == 204
    assert (
        client.get(f"/api/tasks?project={team.project_id}", headers=team.manager).get_json()[
            "total"
        ]
        == 0
    )


@pytest.mark.parametrize("who", ["annotator", "outsider"])
def test_only_managers_create_tasks_under_a_project(
    client: FlaskClient, team: Team, who: str
) -> None:
    response = client.post(
        f"/api/projects/{team.project_id}/tasks",
        json={"data": {"text": "sneaky"}},
        headers=getattr(team, who),
    )

    assert response.status_code == (403 if who == "annotator" else 404)


# -- drafts -------------------------------------------------------------------------------------


def _draft(client: FlaskClient, url: str, headers: dict[str, str], choice: str) -> dict:
    response = client.post(
        url,
        json={
            "lead_time": 12.34,
            "result": [
                {
                    "from_name": "sentiment",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": [choice]},
                }
            ],
        },
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_draft_is_saved_read_changed_and_discarded_by_the_annotation(
    client: FlaskClient, team: Team
) -> None:
    draft = _draft(client, f"/api/tasks/{team.task_id}/drafts", team.annotator, "Positive")

    got = client.get(f"/api/drafts/{draft['id']}/", headers=team.annotator).get_json()
    assert got["user"] == "ann@example.com" and got["annotation"] is None
    assert got["task"] == team.task_id and got["lead_time"] == 12.34
    assert got["was_postponed"] is False and got["created_ago"].endswith("minutes")

    again = _draft(client, f"/api/tasks/{team.task_id}/drafts", team.annotator, "Negative")
    assert again["id"] == draft["id"]  # one draft per user and task: saving updates it
    patched = client.patch(
        f"/api/drafts/{draft['id']}", json={"lead_time": 99.99}, headers=team.annotator
    )
    assert patched.status_code == 200 and patched.get_json()["lead_time"] == 99.99
    listed = client.get(f"/api/tasks/{team.task_id}/drafts", headers=team.annotator).get_json()
    assert [d["id"] for d in listed] == [draft["id"]]

    submitted = client.post(
        f"/api/tasks/{team.task_id}/annotations",
        json={"result": again["result"], "draft_id": draft["id"], "lead_time": 91.01},
        headers=team.annotator,
    )
    assert submitted.status_code == 201, submitted.get_json()
    assert client.get(f"/api/drafts/{draft['id']}", headers=team.annotator).status_code == 404


def test_a_draft_of_an_annotation_names_it_and_goes_with_the_next_change(
    client: FlaskClient, team: Team
) -> None:
    annotation = client.post(
        f"/api/tasks/{team.task_id}/annotations",
        json={
            "result": [
                {
                    "from_name": "sentiment",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["Positive"]},
                }
            ]
        },
        headers=team.annotator,
    ).get_json()
    url = f"/api/tasks/{team.task_id}/annotations/{annotation['id']}/drafts"
    draft = _draft(client, url, team.annotator, "Neutral")
    assert draft["annotation"] == annotation["id"]

    client.patch(
        f"/api/annotations/{annotation['id']}",
        json={"result": draft["result"]},
        headers=team.annotator,
    )

    assert client.get(f"/api/drafts/{draft['id']}", headers=team.annotator).status_code == 404
    assert client.delete(f"/api/drafts/{draft['id']}", headers=team.annotator).status_code == 404


def test_drafts_are_their_authors_alone(client: FlaskClient, team: Team) -> None:
    draft = _draft(client, f"/api/tasks/{team.task_id}/drafts", team.annotator, "Positive")

    for headers in (team.other_annotator, team.manager, team.outsider):
        assert client.get(f"/api/drafts/{draft['id']}", headers=headers).status_code == 404
        patch = client.patch(f"/api/drafts/{draft['id']}", json={"lead_time": 1}, headers=headers)
        assert patch.status_code == 404
        assert client.delete(f"/api/drafts/{draft['id']}", headers=headers).status_code == 404
    other = client.get(f"/api/tasks/{team.task_id}/drafts", headers=team.other_annotator)
    assert other.status_code == 200 and other.get_json() == []
    kept = client.get(f"/api/drafts/{draft['id']}", headers=team.annotator).get_json()
    assert kept["lead_time"] == 12.34


def test_no_draft_is_saved_on_a_task_of_a_project_one_cannot_annotate(
    client: FlaskClient, team: Team
) -> None:
    outsider_draft = client.post(
        f"/api/tasks/{team.task_id}/drafts", json={"result": []}, headers=team.outsider
    )
    annotator_draft = client.post(
        f"/api/tasks/{team.outsider_task_id}/drafts", json={"result": []}, headers=team.annotator
    )
    # an annotation id of another task (here: none at all) is not a way in
    wrong_annotation = client.post(
        f"/api/tasks/{team.task_id}/annotations/999999/drafts",
        json={"result": []},
        headers=team.annotator,
    )

    assert outsider_draft.status_code == 404
    assert annotator_draft.status_code == 404
    assert wrong_annotation.status_code == 404


# -- users, webhooks ----------------------------------------------------------------------------


def test_whoami_has_label_studios_fields(client: FlaskClient, team: Team) -> None:
    body = client.get("/api/current-user/whoami", headers=team.annotator).get_json()

    for key in (
        "id", "first_name", "last_name", "username", "email", "avatar", "initials", "phone",
        "active_organization", "allow_newsletters", "date_joined", "last_activity",
    ):  # fmt: skip
        assert key in body, key
    assert body["email"] == "ann@example.com" and body["initials"] == "an"
    assert body["active_organization"] is not None and body["last_activity"] is not None


def test_webhook_info_lists_the_event_catalog_in_label_studios_shape(
    client: FlaskClient, team: Team
) -> None:
    body = client.get("/api/webhooks/info/", headers=team.annotator).get_json()
    org_only = client.get(
        "/api/webhooks/info/?organization-only=true", headers=team.annotator
    ).get_json()

    assert set(body["ANNOTATION_CREATED"]) == {"name", "description", "key", "organization-only"}
    assert body["ANNOTATION_CREATED"]["key"] == "annotation"
    assert {"PROJECT_CREATED", "TASKS_CREATED", "ANNOTATIONS_DELETED"} <= set(body)
    assert set(org_only) == {"PROJECT_CREATED", "PROJECT_DELETED"}
    assert client.get("/api/webhooks/info/").status_code == 401


# -- shapes and statuses ------------------------------------------------------------------------


def test_export_formats_are_in_label_studios_shape(client: FlaskClient, team: Team) -> None:
    formats = client.get(
        f"/api/projects/{team.project_id}/export/formats", headers=team.manager
    ).get_json()

    assert all(
        set(f) == {"name", "title", "description", "link", "tags", "disabled"} for f in formats
    )
    json_format = next(f for f in formats if f["name"] == "JSON")
    assert json_format["link"].startswith("https://labelstud.io/guide/export")
    assert json_format["disabled"] is False
    assert next(f for f in formats if f["name"] == "COCO")["disabled"] is True


@pytest.mark.parametrize("url", ["/api/projects/validate", "/api/projects/{pid}/validate"])
def test_validate_answers_200_for_a_valid_config_and_400_listing_the_errors(
    client: FlaskClient, team: Team, url: str
) -> None:
    url = url.format(pid=team.project_id)
    valid = client.post(url, data={"label_config": TEXT_CONFIG}, headers=team.manager)
    invalid = client.post(
        url, json={"label_config": '<View><Choices name="c" toName="nowhere"/></View>'},
        headers=team.manager,
    )  # fmt: skip

    assert valid.status_code == 200
    assert invalid.status_code == 400
    errors = invalid.get_json()["validation_errors"]["label_config"]
    assert isinstance(errors, list) and errors


def test_choices_that_are_numbers_match_their_config_values(
    client: FlaskClient, team: Team
) -> None:
    project = client.post(
        "/api/projects", data={"label_config": NUMBER_CONFIG}, headers=team.manager
    ).get_json()
    task = client.post(
        f"/api/projects/{project['id']}/tasks", json={"data": {"text": "x"}}, headers=team.manager
    ).get_json()

    def annotate(choices: list) -> int:
        return client.post(
            f"/api/tasks/{task['id']}/annotations",
            json={
                "result": [
                    {"from_name": "label", "to_name": "text", "type": "choices",
                     "value": {"choices": choices}}
                ]
            },
            headers=team.manager,
        ).status_code  # fmt: skip

    assert annotate([3]) == 422
    assert annotate([True]) == 422
    assert annotate([1]) == 201
    exported = client.get(
        f"/api/projects/{project['id']}/export?exportType=JSON", headers=team.manager
    ).get_json()
    assert exported[0]["annotations"][0]["result"][0]["value"] == {"choices": [1]}


def test_openapi_lists_the_new_endpoints_with_their_form_bodies(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]

    for path in (
        "/api/projects/{project_id}/tasks/bulk",
        "/api/tasks/{task_id}/drafts",
        "/api/drafts/{draft_id}",
        "/api/webhooks/info",
        "/api/storages/s3/{storage_id}/sync",
        "/api/storages/export/gcs/validate",
        "/api/storages/types",
    ):
        assert path in paths, path
    content = paths["/api/projects"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded", "multipart/form-data"} <= set(
        content
    )


def _choices_config(*values: str, tag: str = "Choices") -> str:
    inner = "".join(f'<{tag[:-1]} value="{v}"/>' for v in values)
    return (
        f'<View><Text name="text" value="$text"/><{tag} name="label" toName="text">{inner}'
        f"</{tag}></View>"
    )


def test_a_config_may_not_drop_what_annotations_and_drafts_use(
    client: FlaskClient, team: Team
) -> None:
    project = client.post(
        "/api/projects", data={"label_config": _choices_config("1", "2")}, headers=team.manager
    ).get_json()
    pid = project["id"]
    tasks = client.post(
        f"/api/projects/{pid}/tasks/bulk",
        json=[{"data": {"text": "a"}}, {"data": {"text": "b"}}],
        headers=team.manager,
    ).get_json()["task_ids"]
    used = [{"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [1]}}]
    annotated = client.post(
        f"/api/tasks/{tasks[0]}/annotations", json={"result": used}, headers=team.manager
    )
    assert annotated.status_code == 201, annotated.get_json()
    draft = client.post(
        f"/api/tasks/{tasks[1]}/drafts",
        json={"result": [{**used[0], "value": {"choices": [2]}}]},
        headers=team.manager,
    )
    assert draft.status_code == 201

    def patch(config: str) -> object:
        return client.patch(
            f"/api/projects/{pid}", json={"label_config": config}, headers=team.manager
        )

    dropped = patch(_choices_config("2", "3"))
    assert dropped.status_code == 400
    assert (
        "1 with from_name=label, to_name=text, type=choices, choices='1'"
        in (dropped.get_json()["detail"])
    )
    other_type = patch(_choices_config("1", "2", tag="Labels"))
    assert other_type.status_code == 400
    assert "2 with from_name=label, to_name=text, type=choices" in other_type.get_json()["detail"]
    validated = client.post(
        f"/api/projects/{pid}/validate",
        json={"label_config": _choices_config("1", "3")},
        headers=team.manager,
    )
    assert validated.status_code == 400  # the draft uses "2"
    assert "label_config" in validated.get_json()["validation_errors"]
    assert patch(_choices_config("3", "2", "1")).status_code == 200

    assert client.delete(f"/api/projects/{pid}/tasks", headers=team.manager).status_code == 204
    assert patch(_choices_config("1", tag="Labels")).status_code == 200
