from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from labelops.domain.errors import AnnotationError, StateTransitionError
from labelops.services.annotations import (
    create_annotation,
    delete_annotation,
    history,
    update_annotation,
)
from labelops.services.errors import ConflictError, PermissionDeniedError
from labelops.services.next_task import next_task
from labelops.services.predictions import create_predictions
from labelops.services.reviews import review_annotation
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user

NOW = datetime(2026, 1, 1, 12, 0, 0)


def test_create_update_delete_keep_a_history(session: Session) -> None:
    a = make_user(session)
    project = make_project(session)
    (task,) = make_tasks(session, project, 1)
    annotation = create_annotation(
        session, task, user_id=a.id, result=choice_result("Positive"), now=NOW
    )
    update_annotation(session, annotation, user_id=a.id, result=choice_result("Negative"), now=NOW)
    delete_annotation(session, annotation, user_id=a.id, now=NOW)
    steps = history(session, task.id)
    assert [s.action for s in steps] == ["created", "updated", "deleted"]
    assert steps[0].result[0]["value"]["choices"] == ["Positive"]
    assert steps[1].result[0]["value"]["choices"] == ["Negative"]
    assert task.total_annotations == 0 and not task.is_labeled
    assert project.num_annotations == 0


def test_rejects_annotation_with_unknown_label(session: Session) -> None:
    a = make_user(session)
    project = make_project(session)
    (task,) = make_tasks(session, project, 1)
    with pytest.raises(AnnotationError, match="Furious"):
        create_annotation(session, task, user_id=a.id, result=choice_result("Furious"), now=NOW)
    assert task.total_annotations == 0


def test_rejected_annotation_goes_back_to_its_author_then_to_the_queue(
    session: Session,
) -> None:
    a, b, r = (make_user(session, f"{n}@x.io") for n in "abr")
    project = make_project(session)
    add_member(session, project, r, "reviewer")
    (task,) = make_tasks(session, project, 1)
    annotation = create_annotation(
        session, task, user_id=a.id, result=choice_result("Positive"), now=NOW
    )
    assert next_task(session, project, b.id, now=NOW) is None
    review_annotation(
        session, annotation, reviewer_id=r.id, decision="rejected", comment="wrong", now=NOW
    )
    assert task.state == "rejected" and not task.is_labeled
    assert next_task(session, project, b.id, now=NOW) is None  # held for its author
    later = NOW + timedelta(hours=2)  # the author's hold has expired
    assert next_task(session, project, b.id, now=later).id == task.id


def test_accepting_a_completed_task_marks_it_reviewed(session: Session) -> None:
    a, r = make_user(session, "a@x.io"), make_user(session, "r@x.io")
    project = make_project(session)
    add_member(session, project, r, "reviewer")
    (task,) = make_tasks(session, project, 1)
    annotation = create_annotation(
        session, task, user_id=a.id, result=choice_result("Positive"), now=NOW
    )
    review_annotation(session, annotation, reviewer_id=r.id, decision="accepted", now=NOW)
    assert task.state == "reviewed"
    assert annotation.review_state == "accepted" and annotation.reviewed_by_id == r.id


def test_review_of_an_unfinished_task_is_refused(session: Session) -> None:
    a, r = make_user(session, "a@x.io"), make_user(session, "r@x.io")
    project = make_project(session, maximum_annotations=2)
    add_member(session, project, r, "reviewer")
    (task,) = make_tasks(session, project, 1)
    annotation = create_annotation(
        session, task, user_id=a.id, result=choice_result("Positive"), now=NOW
    )
    with pytest.raises(StateTransitionError, match="in_progress"):
        review_annotation(session, annotation, reviewer_id=r.id, decision="accepted", now=NOW)


def test_predictions_set_the_task_score_and_reject_bad_results(session: Session) -> None:
    project = make_project(session)
    t1, t2 = make_tasks(session, project, 2)
    create_predictions(
        session,
        project,
        [
            {
                "task": t1.id,
                "result": choice_result("Positive"),
                "score": 0.25,
                "model_version": "v1",
            }
        ],
        now=NOW,
    )
    assert t1.prediction_score == pytest.approx(0.25) and t1.total_predictions == 1
    with pytest.raises(AnnotationError, match=r"predictions\[0\]"):
        create_predictions(
            session, project, [{"task": t2.id, "result": choice_result("Nope")}], now=NOW
        )


def test_concurrent_submissions_lose_no_counter_update(engine, session: Session) -> None:
    import threading

    from labelops.db.models import ProjectRow, TaskRow

    project = make_project(session, maximum_annotations=8)
    (task,) = make_tasks(session, project, 1)
    users = [make_user(session, f"s{i}@x.io").id for i in range(8)]
    session.commit()
    barrier = threading.Barrier(len(users))
    errors: list[BaseException] = []

    def submit(user_id: int) -> None:
        try:
            with Session(engine) as own:
                barrier.wait()
                for attempt in range(20):
                    try:
                        mine = own.get_one(TaskRow, task.id)
                        create_annotation(
                            own, mine, user_id=user_id, result=choice_result("Positive"), now=NOW
                        )
                        own.commit()
                        return
                    except Exception as exc:  # SQLite may refuse a writer while another holds it
                        own.rollback()
                        if "locked" not in str(exc) or attempt == 19:
                            raise
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    session.expire_all()
    fresh = session.get_one(TaskRow, task.id)
    assert fresh.total_annotations == 8 and fresh.is_labeled and fresh.state == "completed"
    assert session.get_one(ProjectRow, project.id).num_annotations == 8
    assert session.get_one(ProjectRow, project.id).num_labeled_tasks == 1


def test_a_second_annotation_by_the_same_annotator_is_refused_and_names_the_first(
    session: Session,
) -> None:
    a = make_user(session)
    project = make_project(session, maximum_annotations=3)
    (task,) = make_tasks(session, project, 1)
    result = choice_result("Positive")
    first = create_annotation(session, task, user_id=a.id, result=result, now=NOW)
    with pytest.raises(ConflictError, match=rf"annotation {first.id} on task {task.id}"):
        create_annotation(session, task, user_id=a.id, result=choice_result("Negative"), now=NOW)
    assert task.total_annotations == 1


def test_a_skip_can_be_followed_by_one_label_but_not_by_another_skip(session: Session) -> None:
    a = make_user(session)
    project = make_project(session, maximum_annotations=2)
    (task,) = make_tasks(session, project, 1)
    create_annotation(session, task, user_id=a.id, result=[], was_cancelled=True, now=NOW)
    with pytest.raises(ConflictError):
        create_annotation(session, task, user_id=a.id, result=[], was_cancelled=True, now=NOW)
    create_annotation(session, task, user_id=a.id, result=choice_result("Positive"), now=NOW)
    assert (task.total_annotations, task.cancelled_annotations) == (1, 1)


def test_a_full_task_takes_only_ground_truth_from_a_manager(session: Session) -> None:
    a, b, boss = (make_user(session, f"{n}@x.io") for n in ("a", "b", "boss"))
    project = make_project(session, boss)
    (task,) = make_tasks(session, project, 1)
    create_annotation(session, task, user_id=a.id, result=choice_result("Positive"), now=NOW)
    with pytest.raises(ConflictError, match="is full"):
        create_annotation(session, task, user_id=b.id, result=choice_result("Negative"), now=NOW)
    negative = choice_result("Negative")
    with pytest.raises(PermissionDeniedError, match="ground_truth"):
        create_annotation(session, task, user_id=b.id, result=negative, ground_truth=True, now=NOW)
    truth = create_annotation(
        session, task, user_id=boss.id, result=choice_result("Neutral"), ground_truth=True, now=NOW
    )
    assert truth.ground_truth and task.total_annotations == 2


def test_reviewers_never_decide_on_their_own_annotation_but_administrators_may(
    session: Session,
) -> None:
    r, admin = make_user(session, "r@x.io"), make_user(session, "root@x.io", admin=True)
    project = make_project(session, maximum_annotations=1)
    add_member(session, project, r, "reviewer")
    t1, t2 = make_tasks(session, project, 2)
    own = create_annotation(session, t1, user_id=r.id, result=choice_result("Positive"), now=NOW)
    with pytest.raises(PermissionDeniedError, match="their own"):
        review_annotation(session, own, reviewer_id=r.id, decision="accepted", now=NOW)
    assert own.review_state is None and t1.state == "completed"
    mine = create_annotation(
        session, t2, user_id=admin.id, result=choice_result("Neutral"), now=NOW
    )
    review_annotation(session, mine, reviewer_id=admin.id, decision="accepted", now=NOW)
    assert mine.review_state == "accepted"


def test_a_rejected_annotation_is_not_accepted_again_once_its_slot_is_taken(
    session: Session,
) -> None:
    a, b, r = (make_user(session, f"{n}@x.io") for n in "abr")
    project = make_project(session, maximum_annotations=1)
    add_member(session, project, r, "reviewer")
    (task,) = make_tasks(session, project, 1)
    first = create_annotation(
        session, task, user_id=a.id, result=choice_result("Positive"), now=NOW
    )
    review_annotation(session, first, reviewer_id=r.id, decision="rejected", now=NOW)
    later = NOW + timedelta(hours=2)  # after the author's hold on the task
    create_annotation(session, task, user_id=b.id, result=choice_result("Negative"), now=later)
    with pytest.raises(ConflictError, match="overlap"):
        review_annotation(session, first, reviewer_id=r.id, decision="accepted", now=NOW)
    assert task.total_annotations == 1 and first.review_state == "rejected"
