"""The dashboard's figures: one definition of a finished annotation, and the agreement panel."""

from datetime import datetime

from sqlalchemy.orm import Session

from labelops.db.models import AgreementReportRow, ProjectRow
from labelops.domain.agreement_report import agreement_report
from labelops.domain.label_config import parse_label_config
from labelops.services.agreement import controls_of, save_agreement_report
from labelops.services.annotations import create_annotation
from labelops.services.dashboard import project_dashboard
from labelops.services.imports import import_rows
from labelops.services.reviews import review_annotation
from labelops.services.tasks import iter_task_records
from labelops.services.users import get_user_by_email
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user

NOW = datetime(2026, 1, 1, 12, 0, 0)


def _seed(session: Session) -> tuple[ProjectRow, list[int]]:
    """A project of overlap 2 whose counts used to disagree.

    Ann and Bob label three tasks, one of Bob's is rejected, Carol skips one, and one task comes
    imported with an annotation that has no author.
    """
    ann = make_user(session, "ann@x.io", first_name="Ann", last_name="Lee")
    bob = make_user(session, "bob@x.io")
    carol, rita = make_user(session, "carol@x.io"), make_user(session, "rita@x.io")
    project = make_project(session, maximum_annotations=2)
    add_member(session, project, rita, "reviewer")
    tasks = make_tasks(session, project, 3)
    create_annotation(session, tasks[2], user_id=carol.id, result=[], was_cancelled=True, now=NOW)
    pairs = (("Positive", "Positive"), ("Positive", "Negative"), ("Neutral", "Negative"))
    for task, (a, b) in zip(tasks, pairs, strict=True):
        create_annotation(session, task, user_id=ann.id, result=choice_result(a), now=NOW)
        last = create_annotation(session, task, user_id=bob.id, result=choice_result(b), now=NOW)
    review_annotation(
        session, last, reviewer_id=rita.id, decision="rejected", comment="Not negative", now=NOW
    )
    import_rows(
        session,
        project,
        [(1, {"data": {"text": "x"}, "annotations": [{"result": choice_result("Positive")}]})],
        source="test",
    )
    session.flush()
    return project, [t.id for t in tasks]


def test_every_count_of_annotations_follows_one_definition(session: Session) -> None:
    project, _ = _seed(session)
    figures = project_dashboard(session, project.id, now=NOW)
    # Six submitted by Ann and Bob, one of them rejected; one imported; one skipped.
    assert figures.totals == {"finished": 6, "rejected": 1, "skipped": 1}
    # The project's counter (what the overlap uses) counts the same annotations.
    assert project.num_annotations == figures.totals["finished"]
    # The progress chart counts the same annotations by day (the imported one is dated at import
    # time, after this chart's last day).
    assert sum(day["count"] for day in figures.per_day) == figures.totals["finished"] - 1
    rows = {a["email"]: a for a in figures.annotators}
    assert (rows["ann@x.io"]["finished"], rows["ann@x.io"]["rejected"]) == (3, 0)
    assert (rows["bob@x.io"]["finished"], rows["bob@x.io"]["rejected"]) == (2, 1)
    assert (rows["carol@x.io"]["finished"], rows["carol@x.io"]["skipped"]) == (0, 1)
    assert rows[None]["finished"] == 1


def test_an_annotator_sees_only_their_own_counts(session: Session) -> None:
    project, _ = _seed(session)
    user = get_user_by_email(session, "bob@x.io")
    assert user is not None
    mine = project_dashboard(session, project.id, now=NOW, author_id=user.id)
    assert mine.totals == {"finished": 2, "rejected": 1, "skipped": 0}
    assert mine.agreement is None and mine.own_work_only


def test_agreement_panel_names_annotators_and_lists_the_least_agreed_tasks(
    session: Session,
) -> None:
    project, task_ids = _seed(session)
    assert project_dashboard(session, project.id, now=NOW).agreement is None
    report = agreement_report(
        iter_task_records(session, project.id, only_annotated=True),
        controls_of(parse_label_config(project.label_config)),
    )
    save_agreement_report(session, project.id, report.to_dict())
    panel = project_dashboard(session, project.id, now=NOW).agreement
    assert panel is not None
    (control,) = panel.controls
    assert (control.name, control.kind) == ("sentiment", "classification")
    # Ann and Bob share tasks 1 and 2 (Bob's third annotation was rejected): same, then different;
    # the imported annotation shares no task with anyone, so it forms no pair.
    (pair,) = control.pairs
    assert {pair.first, pair.second} == {"Ann Lee", "bob@x.io"}
    assert (pair.num_tasks, pair.percent) == (2, 0.5)
    assert control.kappa is not None and control.alpha is not None
    assert {row.label for row in control.labels} >= {"Positive", "Negative"}
    assert [t.task_id for t in panel.worst_tasks] == [task_ids[1]]
    assert panel.worst_tasks[0].agreement == 0.0


def test_agreement_panel_reads_a_report_of_another_shape_without_failing(
    session: Session,
) -> None:
    project = make_project(session, maximum_annotations=2)
    session.add(AgreementReportRow(project_id=project.id, report={"kappa": 0.7, "controls": [1]}))
    session.flush()
    panel = project_dashboard(session, project.id, now=NOW).agreement
    assert panel is not None
    assert (panel.controls, panel.worst_tasks, panel.num_pairs) == ((), (), 0)
