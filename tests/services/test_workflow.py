"""Task workflows in the services: one transition function, custom events, stored definitions."""

from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AuditLogRow, ProjectRow, TaskRow
from labelops.domain.errors import InvalidInputError, StateTransitionError
from labelops.domain.workflow import DEFAULT_WORKFLOW, WorkflowError, workflow_with
from labelops.services.annotations import create_annotation, delete_annotation
from labelops.services.errors import ConflictError, NotFoundError, PermissionDeniedError
from labelops.services.reviews import awaits_review, next_for_review, review_annotation
from labelops.services.tasks import TaskFilter, list_tasks, project_states
from labelops.services.workflow import fire_event, project_workflow, set_workflow
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user

NOW = datetime(2026, 1, 1, 12, 0, 0)

SECOND_REVIEW = workflow_with(
    ["needs_second_review"],
    ["request_second_review"],
    [
        ("completed", "request_second_review", "needs_second_review"),
        ("needs_second_review", "accept", "reviewed"),
        ("needs_second_review", "reject", "rejected"),
    ],
)


def _project_with_second_review(session: Session) -> tuple[ProjectRow, list[TaskRow], dict]:
    users = {
        role: make_user(session, f"{role}@x.io") for role in ("manager", "reviewer", "annotator")
    }
    project = make_project(session, users["manager"])
    for role in ("reviewer", "annotator"):
        add_member(session, project, users[role], role)
    set_workflow(session, project, SECOND_REVIEW, user=users["manager"])
    tasks = make_tasks(session, project, 2)
    return project, tasks, users


def test_a_project_without_a_definition_uses_the_built_in_workflow(session: Session) -> None:
    project = make_project(session)
    assert project.workflow is None
    assert project_workflow(project) == DEFAULT_WORKFLOW
    assert project_states(session, project.id) == DEFAULT_WORKFLOW.states


def test_second_review_moves_completed_to_needs_second_review_to_reviewed(
    session: Session,
) -> None:
    project, (task, _), users = _project_with_second_review(session)
    annotation = create_annotation(
        session, task, user_id=users["annotator"].id, result=choice_result("Positive"), now=NOW
    )
    assert task.state == "completed"
    fire_event(session, task, "request_second_review", user=users["reviewer"], now=NOW)
    assert task.state == "needs_second_review"
    # the review stream shows it: a review event leaves that state
    assert awaits_review(session, task)
    assert next_for_review(session, project.id) is task
    review_annotation(
        session, annotation, reviewer_id=users["manager"].id, decision="accepted", now=NOW
    )
    assert task.state == "reviewed"
    session.commit()
    session.expire_all()
    stored = session.get_one(TaskRow, task.id)
    assert stored.state == "reviewed"
    log = session.scalars(
        sa.select(AuditLogRow).where(AuditLogRow.action == "task_transition")
    ).one()
    assert log.detail["detail"] == {
        "from": "completed",
        "event": "request_second_review",
        "to": "needs_second_review",
    }


def test_reject_leaves_the_custom_state_and_returns_the_task_to_the_queue(
    session: Session,
) -> None:
    _, (task, _), users = _project_with_second_review(session)
    annotation = create_annotation(
        session, task, user_id=users["annotator"].id, result=choice_result("Positive"), now=NOW
    )
    fire_event(session, task, "request_second_review", user=users["manager"], now=NOW)
    review_annotation(
        session,
        annotation,
        reviewer_id=users["reviewer"].id,
        decision="rejected",
        comment="wrong",
        now=NOW,
    )
    assert task.state == "rejected" and not task.is_labeled


def test_illegal_custom_event_is_refused_naming_state_and_event(session: Session) -> None:
    _, (task, _), users = _project_with_second_review(session)
    with pytest.raises(StateTransitionError) as err:
        fire_event(session, task, "request_second_review", user=users["reviewer"], now=NOW)
    assert "'new'" in str(err.value) and "'request_second_review'" in str(err.value)
    assert task.state == "new"


def test_a_built_in_move_the_custom_workflow_lacks_is_refused(session: Session) -> None:
    # deleting an annotation ("unannotate") is not defined from needs_second_review
    _, (task, _), users = _project_with_second_review(session)
    annotation = create_annotation(
        session, task, user_id=users["annotator"].id, result=choice_result("Positive"), now=NOW
    )
    fire_event(session, task, "request_second_review", user=users["reviewer"], now=NOW)
    with pytest.raises(StateTransitionError, match=r"'needs_second_review'.*'unannotate'"):
        delete_annotation(session, annotation, user_id=users["manager"].id, now=NOW)


def test_built_in_events_cannot_be_fired_by_hand(session: Session) -> None:
    _, (task, _), users = _project_with_second_review(session)
    with pytest.raises(InvalidInputError, match="'accept' cannot be fired by hand") as err:
        fire_event(session, task, "accept", user=users["manager"], now=NOW)
    assert not isinstance(err.value, StateTransitionError)
    assert task.state == "new"


def test_annotators_and_outsiders_cannot_fire_events(session: Session) -> None:
    _, (task, _), users = _project_with_second_review(session)
    with pytest.raises(PermissionDeniedError, match="annotator"):
        fire_event(session, task, "request_second_review", user=users["annotator"], now=NOW)
    stranger = make_user(session, "stranger@x.io")
    with pytest.raises(NotFoundError):
        fire_event(session, task, "request_second_review", user=stranger, now=NOW)


def test_only_managers_change_the_workflow(session: Session) -> None:
    project, _, users = _project_with_second_review(session)
    with pytest.raises(PermissionDeniedError, match="reviewer"):
        set_workflow(session, project, None, user=users["reviewer"])
    assert project_workflow(project).custom_states == ("needs_second_review",)


def test_invalid_definition_is_refused_and_nothing_is_stored(session: Session) -> None:
    project, _, users = _project_with_second_review(session)
    broken = {**SECOND_REVIEW, "states": [s for s in SECOND_REVIEW["states"] if s != "rejected"]}
    with pytest.raises(WorkflowError, match="built-in state 'rejected' is missing"):
        set_workflow(session, project, broken, user=users["manager"])
    assert project.workflow == SECOND_REVIEW


def test_a_change_that_would_strand_tasks_is_refused_naming_state_and_count(
    session: Session,
) -> None:
    project, tasks, users = _project_with_second_review(session)
    for task in tasks:
        create_annotation(
            session, task, user_id=users["annotator"].id, result=choice_result("Positive"), now=NOW
        )
        fire_event(session, task, "request_second_review", user=users["reviewer"], now=NOW)
    with pytest.raises(ConflictError, match=r"2 task\(s\) .* in state 'needs_second_review'"):
        set_workflow(session, project, None, user=users["manager"])
    assert project_workflow(project).custom_states == ("needs_second_review",)


def test_returning_to_the_built_in_workflow_stores_null(session: Session) -> None:
    project, _, users = _project_with_second_review(session)
    set_workflow(session, project, DEFAULT_WORKFLOW.to_dict(), user=users["manager"])
    session.commit()
    session.expire_all()
    assert session.get_one(ProjectRow, project.id).workflow is None


def test_the_task_filter_accepts_the_projects_custom_states(session: Session) -> None:
    project, (first, _second), users = _project_with_second_review(session)
    create_annotation(
        session, first, user_id=users["annotator"].id, result=choice_result("Positive"), now=NOW
    )
    fire_event(session, first, "request_second_review", user=users["reviewer"], now=NOW)
    rows, _ = list_tasks(session, project.id, TaskFilter(state="needs_second_review"))
    assert [t.id for t in rows] == [first.id]
    other = make_project(session, title="Other")
    with pytest.raises(InvalidInputError, match="unknown state 'needs_second_review'"):
        list_tasks(session, other.id, TaskFilter(state="needs_second_review"))
