"""One task's agreement, as the review's Compare page shows it: the report's measures on it."""

from datetime import datetime

from sqlalchemy.orm import Session

from labelops.domain.label_config import parse_label_config
from labelops.services.agreement import task_agreement
from labelops.services.annotations import create_annotation
from labelops.services.reviews import review_annotation
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user

NOW = datetime(2026, 1, 1, 12, 0, 0)


def test_task_agreement_follows_the_report_and_leaves_out_rejected_work(session: Session) -> None:
    ann, bob, carol = (make_user(session, f"{n}@x.io") for n in ("ann", "bob", "carol"))
    rita = make_user(session, "rita@x.io")
    project = make_project(session, maximum_annotations=3)
    add_member(session, project, rita, "reviewer")
    config = parse_label_config(project.label_config)
    task, alone = make_tasks(session, project, 2)
    create_annotation(session, task, user_id=ann.id, result=choice_result("Positive"), now=NOW)
    create_annotation(session, task, user_id=bob.id, result=choice_result("Positive"), now=NOW)
    late = create_annotation(
        session, task, user_id=carol.id, result=choice_result("Negative"), now=NOW
    )
    create_annotation(session, alone, user_id=ann.id, result=choice_result("Positive"), now=NOW)
    session.flush()

    found = task_agreement(session, config, task)
    (control,) = found.controls
    assert control.name == "sentiment"
    assert found.score is not None and abs(found.score - 1 / 3) < 1e-9  # 1 of 3 pairs agree
    pairs = {(p.annotator_a, p.annotator_b): p.percent_agreement for p in control.pairs}
    assert pairs == {(ann.id, bob.id): 1.0, (ann.id, carol.id): 0.0, (bob.id, carol.id): 0.0}

    review_annotation(
        session, late, reviewer_id=rita.id, decision="rejected", comment="Re-read", now=NOW
    )
    session.flush()
    assert task_agreement(session, config, task).score == 1.0  # rejected work does not count

    lone = task_agreement(session, config, alone)
    assert lone.score is None and lone.controls == ()
