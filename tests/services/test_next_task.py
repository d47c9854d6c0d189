from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import TaskLockRow, TaskRow
from labelops.services.annotations import create_annotation, update_annotation
from labelops.services.next_task import next_task, progress
from labelops.services.reviews import review_annotation
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user

NOW = datetime(2026, 1, 1, 12, 0, 0)


def test_serves_highest_priority_first_then_lowest_id(session: Session) -> None:
    ann = make_user(session)
    project = make_project(session)
    _t1, t2, t3 = make_tasks(session, project, 3)
    t3.priority = 5.0
    t2.priority = 5.0
    session.flush()
    assert next_task(session, project, ann.id, now=NOW).id == t2.id


def test_returns_the_same_task_while_the_annotator_holds_it(session: Session) -> None:
    ann = make_user(session)
    project = make_project(session)
    make_tasks(session, project, 3)
    first = next_task(session, project, ann.id, now=NOW)
    again = next_task(session, project, ann.id, now=NOW + timedelta(minutes=5))
    assert first.id == again.id
    assert first.state == "in_progress"


def test_overlap_one_never_hands_a_locked_task_to_a_second_annotator(session: Session) -> None:
    a, b = make_user(session, "a@x.io"), make_user(session, "b@x.io")
    project = make_project(session)
    make_tasks(session, project, 2)
    ta = next_task(session, project, a.id, now=NOW)
    tb = next_task(session, project, b.id, now=NOW)
    assert ta.id != tb.id
    c = make_user(session, "c@x.io")
    assert next_task(session, project, c.id, now=NOW) is None


def test_overlap_two_hands_one_task_to_two_annotators_but_not_three(session: Session) -> None:
    a, b, c = (make_user(session, f"{n}@x.io") for n in "abc")
    project = make_project(session, maximum_annotations=2)
    (task,) = make_tasks(session, project, 1)
    assert next_task(session, project, a.id, now=NOW).id == task.id
    assert next_task(session, project, b.id, now=NOW).id == task.id
    assert next_task(session, project, c.id, now=NOW) is None


def test_never_serves_a_task_the_annotator_already_annotated_or_skipped(session: Session) -> None:
    a = make_user(session)
    project = make_project(session, maximum_annotations=3)
    t1, t2 = make_tasks(session, project, 2)
    create_annotation(session, t1, user_id=a.id, result=choice_result("Positive"), now=NOW)
    create_annotation(session, t2, user_id=a.id, result=[], was_cancelled=True, now=NOW)
    assert next_task(session, project, a.id, now=NOW) is None


def test_finished_tasks_leave_the_queue(session: Session) -> None:
    a, b = make_user(session, "a@x.io"), make_user(session, "b@x.io")
    project = make_project(session)
    t1, t2 = make_tasks(session, project, 2)
    create_annotation(session, t1, user_id=a.id, result=choice_result("Positive"), now=NOW)
    assert t1.is_labeled and t1.state == "completed"
    assert next_task(session, project, b.id, now=NOW).id == t2.id


def test_expired_lock_frees_the_task_for_someone_else(session: Session) -> None:
    a, b = make_user(session, "a@x.io"), make_user(session, "b@x.io")
    project = make_project(session)
    (task,) = make_tasks(session, project, 1)
    next_task(session, project, a.id, now=NOW, lock_ttl=timedelta(minutes=10))
    assert next_task(session, project, b.id, now=NOW + timedelta(minutes=9)) is None
    assert next_task(session, project, b.id, now=NOW + timedelta(minutes=11)).id == task.id


def test_submitting_releases_the_lock(session: Session) -> None:
    a = make_user(session)
    project = make_project(session, maximum_annotations=2)
    (task,) = make_tasks(session, project, 1)
    next_task(session, project, a.id, now=NOW)
    create_annotation(session, task, user_id=a.id, result=choice_result("Neutral"), now=NOW)
    assert session.scalar(sa.select(sa.func.count()).select_from(TaskLockRow)) == 0
    assert session.get_one(TaskRow, task.id).state == "in_progress"


def test_concurrent_annotators_never_share_a_task_beyond_overlap(engine, session: Session) -> None:
    import threading

    from labelops.services.next_task import claim_next_task

    project = make_project(session)
    make_tasks(session, project, 30)
    users = [make_user(session, f"u{i}@x.io").id for i in range(8)]
    session.commit()
    handed: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(users))

    def work(user_id: int) -> None:
        try:
            with Session(engine) as own:
                barrier.wait()
                for _ in range(3):
                    # each annotator takes a task and (by not submitting) keeps holding it,
                    # then asks again: they must get their held task back, not a new one
                    task = claim_next_task(own, project.id, user_id, now=NOW)
                    handed.append((user_id, task.id))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    by_user = {}
    for user_id, task_id in handed:
        by_user.setdefault(user_id, set()).add(task_id)
    assert all(len(ids) == 1 for ids in by_user.values())  # a held task comes back
    owners = [next(iter(ids)) for ids in by_user.values()]
    assert len(set(owners)) == len(users)  # overlap 1: no task handed to two annotators


def test_slots_taken_counts_finished_work_and_other_annotators_live_locks(
    session: Session,
) -> None:
    from labelops.services.next_task import slots_taken

    a, b, c, d = (make_user(session, f"{n}@x.io") for n in "abcd")
    project = make_project(session, maximum_annotations=4)
    (task,) = make_tasks(session, project, 1)
    create_annotation(session, task, user_id=a.id, result=choice_result("Positive"), now=NOW)
    next_task(session, project, b.id, now=NOW, lock_ttl=timedelta(minutes=10))
    next_task(session, project, c.id, now=NOW, lock_ttl=timedelta(minutes=1))
    later = NOW + timedelta(minutes=5)  # c's lock has expired, b's has not
    assert slots_taken(session, task, d.id, later) == 2  # a's annotation + b's lock
    assert slots_taken(session, task, b.id, later) == 1  # b's own lock is b's slot


def test_progress_counts_the_annotators_submitted_and_skipped_tasks(session: Session) -> None:
    a, b = make_user(session, "a@x.io"), make_user(session, "b@x.io")
    project = make_project(session, maximum_annotations=2)
    other = make_project(session)
    t1, t2, _t3 = make_tasks(session, project, 3)
    make_tasks(session, other, 2)
    assert progress(session, project.id, a.id) == (0, 3)
    create_annotation(session, t1, user_id=a.id, result=choice_result("Positive"), now=NOW)
    create_annotation(session, t2, user_id=a.id, result=[], was_cancelled=True, now=NOW)
    create_annotation(session, t1, user_id=b.id, result=choice_result("Positive"), now=NOW)
    assert progress(session, project.id, a.id) == (2, 3)  # skipped counts as done
    assert progress(session, project.id, b.id) == (1, 3)


def _rejected_for_author(session: Session) -> tuple[Any, ...]:
    """Overlap 1: Ann annotates task 1, a reviewer rejects it with a comment."""
    ann, bob, rev = (make_user(session, f"{n}@x.io") for n in ("ann", "bob", "rev"))
    project = make_project(session)
    add_member(session, project, rev, "reviewer")
    t1, t2 = make_tasks(session, project, 2)
    assert next_task(session, project, ann.id, now=NOW).id == t1.id
    annotation = create_annotation(
        session, t1, user_id=ann.id, result=choice_result("Positive"), now=NOW
    )
    review_annotation(
        session, annotation, reviewer_id=rev.id, decision="rejected", comment="Irony", now=NOW
    )
    return project, ann, bob, t1, t2, annotation


def test_rejected_work_goes_back_to_its_author_first(session: Session) -> None:
    project, ann, bob, t1, t2, annotation = _rejected_for_author(session)
    # Another annotator is not handed the freed slot while it is held for the author ...
    assert next_task(session, project, bob.id, now=NOW).id == t2.id
    # ... and the author gets it back before anything new.
    assert next_task(session, project, ann.id, now=NOW + timedelta(minutes=1)).id == t1.id
    update_annotation(
        session, annotation, user_id=ann.id, result=choice_result("Negative"), now=NOW
    )
    assert (annotation.review_state, t1.total_annotations, t1.state) == (None, 1, "completed")
    assert session.scalar(sa.select(TaskLockRow).where(TaskLockRow.task_id == t1.id)) is None


def test_a_rejected_task_goes_to_anyone_once_the_authors_hold_expires(session: Session) -> None:
    project, _ann, bob, t1, _t2, _ = _rejected_for_author(session)
    later = NOW + timedelta(hours=2)
    assert next_task(session, project, bob.id, now=later).id == t1.id
