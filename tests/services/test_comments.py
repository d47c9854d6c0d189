"""Comments on annotations: who may write, read, resolve, change and delete them.

A project with a manager, a reviewer, two annotators (blind labeling), and outsiders: the
manager of another project and a user of no project. The annotator's annotation is the subject.
"""

from dataclasses import dataclass
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AnnotationRow, CommentRow, ProjectRow, UserRow
from labelops.domain.errors import InvalidInputError
from labelops.services import comments
from labelops.services.annotations import create_annotation, delete_annotation
from labelops.services.errors import NotFoundError, PermissionDeniedError
from labelops.services.projects import delete_project
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user

NOW = datetime(2026, 11, 29, 5, 0)
LATER = datetime(2026, 11, 29, 6, 0)


@dataclass
class Team:
    annotation: AnnotationRow
    people: dict[str, UserRow]


@pytest.fixture
def team(session: Session) -> Team:
    people = {
        name: make_user(session, f"{name}@example.com")
        for name in ("manager", "reviewer", "annotator", "other", "other_manager", "nobody")
    }
    project = make_project(session, people["manager"])
    add_member(session, project, people["reviewer"], "reviewer")
    add_member(session, project, people["annotator"], "annotator")
    add_member(session, project, people["other"], "annotator")
    make_project(session, people["other_manager"], title="Another project")
    task = make_tasks(session, project, n=1)[0]
    annotation = create_annotation(
        session,
        task,
        user_id=people["annotator"].id,
        result=choice_result("Positive"),
        now=NOW,
    )
    session.commit()
    return Team(annotation, people)


def test_a_reviewer_comments_and_the_author_reads_and_resolves_it(
    session: Session, team: Team
) -> None:
    p = team.people
    comment = comments.add_comment(
        session, p["reviewer"], team.annotation.id, "  The span misses the last word. ", now=NOW
    )

    seen = comments.annotation_comments(session, p["annotator"], team.annotation.id)
    assert [(c.text, c.created_by_id, c.is_resolved) for c in seen] == [
        ("The span misses the last word.", p["reviewer"].id, False)
    ]
    comments.update_comment(session, p["annotator"], comment, is_resolved=True, now=LATER)
    assert comment.is_resolved and comment.resolved_at == LATER
    comments.update_comment(session, p["manager"], comment, is_resolved=False, now=LATER)
    assert not comment.is_resolved and comment.resolved_at is None


def test_people_who_cannot_see_the_annotation_are_told_it_does_not_exist(
    session: Session, team: Team
) -> None:
    p = team.people
    comment = comments.add_comment(session, p["reviewer"], team.annotation.id, "Hm", now=NOW)

    # blind labeling hides another annotator's work; outsiders do not see the project at all
    for name in ("other", "other_manager", "nobody"):
        with pytest.raises(NotFoundError):
            comments.add_comment(session, p[name], team.annotation.id, "hi", now=NOW)
        with pytest.raises(NotFoundError):
            comments.annotation_comments(session, p[name], team.annotation.id)
        with pytest.raises(NotFoundError):
            comments.get_comment(session, p[name], comment.id)
    with pytest.raises(NotFoundError):
        comments.annotation_comments(session, p["manager"], 10**6)


def test_once_annotators_see_each_other_any_member_may_comment(
    session: Session, team: Team
) -> None:
    project = session.get_one(ProjectRow, team.annotation.project_id)
    project.show_annotations_to_annotators = True
    session.flush()

    comment = comments.add_comment(
        session, team.people["other"], team.annotation.id, "Nice", now=NOW
    )

    assert comment.created_by_id == team.people["other"].id


def test_only_the_writer_changes_the_text_and_the_writer_or_a_manager_deletes(
    session: Session, team: Team
) -> None:
    p = team.people
    comment = comments.add_comment(session, p["reviewer"], team.annotation.id, "Fix it", now=NOW)

    for name in ("annotator", "manager"):
        with pytest.raises(PermissionDeniedError, match="only its writer may"):
            comments.update_comment(session, p[name], comment, text="changed", now=LATER)
    with pytest.raises(PermissionDeniedError, match="its writer or a manager"):
        comments.delete_comment(session, p["annotator"], comment)
    comments.update_comment(session, p["reviewer"], comment, text="Fix the span", now=LATER)
    assert comment.text == "Fix the span" and comment.updated_at == LATER

    comments.delete_comment(session, p["manager"], comment)
    assert comments.annotation_comments(session, p["reviewer"], team.annotation.id) == []


def test_resolving_is_for_the_writer_the_author_and_managers(session: Session, team: Team) -> None:
    p = team.people
    comment = comments.add_comment(session, p["manager"], team.annotation.id, "Why?", now=NOW)
    other_reviewer = make_user(session, "reviewer2@example.com")
    project = session.get_one(ProjectRow, team.annotation.project_id)
    add_member(session, project, other_reviewer, "reviewer")

    with pytest.raises(PermissionDeniedError, match="not yours to resolve"):
        comments.update_comment(session, other_reviewer, comment, is_resolved=True, now=LATER)
    assert not comment.is_resolved
    comments.update_comment(session, p["manager"], comment, is_resolved=True, now=LATER)
    assert comment.is_resolved


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("   ", "needs some text"),  # blank after trimming
        ("x" * (comments.MAX_COMMENT_CHARS + 1), "at most"),  # too long
    ],
)
def test_refuses_a_blank_or_overlong_comment(
    session: Session, team: Team, text: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        comments.add_comment(session, team.people["reviewer"], team.annotation.id, text, now=NOW)


def test_comments_go_with_their_annotation_and_project_and_outlive_their_writer(
    session: Session, team: Team
) -> None:
    p = team.people
    kept = comments.add_comment(session, p["reviewer"], team.annotation.id, "Kept", now=NOW)
    session.commit()
    session.delete(p["reviewer"])
    session.commit()
    session.expire_all()
    assert session.get_one(CommentRow, kept.id).created_by_id is None

    delete_annotation(session, team.annotation, user_id=p["annotator"].id, now=LATER)
    session.commit()
    assert session.scalars(sa.select(CommentRow)).all() == []

    project = make_project(session, p["manager"], title="Short-lived")
    task = make_tasks(session, project, n=1)[0]
    annotation = create_annotation(
        session, task, user_id=p["manager"].id, result=choice_result("Negative"), now=NOW
    )
    comments.add_comment(session, p["manager"], annotation.id, "Gone soon", now=NOW)
    session.commit()
    delete_project(session, project, by=p["manager"])
    session.commit()
    assert session.scalars(sa.select(CommentRow)).all() == []
