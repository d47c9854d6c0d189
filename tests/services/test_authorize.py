"""The one policy: who may view, label, review, manage or change what, for every kind of user.

Outsiders (no membership, another project's manager, an administrator acting in another
organization) get "not found", so a project's existence is not leaked; members whose role does
not allow the action get "permission denied". Policies see the object: nobody but an
administrator reviews their own annotation, and only its author or a manager changes one.
"""

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from labelops.db.engine import make_engine
from labelops.db.models import AnnotationRow, ProjectRow, UserRow
from labelops.services.annotations import create_annotation
from labelops.services.errors import NotFoundError, PermissionDeniedError
from labelops.services.organizations import create_organization
from labelops.services.policies import Action, authorize, authorize_project
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user

NOW = datetime(2026, 11, 1, 12, 0)
OK, REFUSED, HIDDEN = "ok", "403", "404"
ACTIONS = (Action.VIEW, Action.ANNOTATE, Action.REVIEW, Action.MANAGE)


@pytest.fixture
def session(sqlite_url: str) -> Iterator[Session]:
    """The rule does not depend on the database: SQLite only."""
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _people(session: Session) -> tuple[ProjectRow, dict[str, UserRow]]:
    """A project with an annotator, a reviewer and a manager, plus four kinds of outsider."""
    people = {
        name: make_user(session, f"{name}@example.com")
        for name in ("manager", "reviewer", "annotator", "other_manager", "outsider")
    }
    people["admin"] = make_user(session, "admin@example.com", admin=True)
    acme = create_organization(session, "Acme", by=None)
    people["admin_elsewhere"] = make_user(session, "root@acme.example", admin=True, org=acme)
    project = make_project(session, people["manager"])
    add_member(session, project, people["reviewer"], "reviewer")
    add_member(session, project, people["annotator"], "annotator")
    make_project(session, people["other_manager"], title="Another project")
    return project, people


def _outcome(session: Session, user: UserRow, action: Action, obj: object) -> str:
    try:
        authorize(session, user, action, obj)  # type: ignore[arg-type]
    except NotFoundError:
        return HIDDEN
    except PermissionDeniedError:
        return REFUSED
    return OK


PROJECT_TABLE = {
    # who: (view, annotate, review, manage)
    "annotator": (OK, OK, REFUSED, REFUSED),
    "reviewer": (OK, OK, OK, REFUSED),  # reviewers may also label (to fix)
    "manager": (OK, OK, OK, OK),
    "admin": (OK, OK, OK, OK),  # administrators need no membership
    "other_manager": (HIDDEN,) * 4,  # managing another project grants nothing here
    "outsider": (HIDDEN,) * 4,  # same organization, no membership: as if it did not exist
    "admin_elsewhere": (HIDDEN,) * 4,  # an administrator sees only their active organization
}


@pytest.mark.parametrize("who", list(PROJECT_TABLE))
def test_project_actions_by_role(session: Session, who: str) -> None:
    project, people = _people(session)
    got = tuple(_outcome(session, people[who], action, project) for action in ACTIONS)
    assert got == PROJECT_TABLE[who]


def test_the_same_rule_holds_for_a_task_of_the_project(session: Session) -> None:
    project, people = _people(session)
    (task,) = make_tasks(session, project, 1)
    assert _outcome(session, people["annotator"], Action.MANAGE, task) == REFUSED
    assert _outcome(session, people["outsider"], Action.VIEW, task) == HIDDEN
    assert authorize(session, people["reviewer"], Action.REVIEW, task).project.id == project.id


def _annotations(session: Session) -> tuple[dict[str, UserRow], dict[str, AnnotationRow]]:
    project, people = _people(session)
    project.maximum_annotations = 5
    (task,) = make_tasks(session, project, 1)
    written = {
        who: create_annotation(
            session, task, user_id=people[who].id, result=choice_result("Positive"), now=NOW
        )
        for who in ("annotator", "reviewer", "manager", "admin")
    }
    return people, written


REVIEW_TABLE = [
    ("reviewer", "annotator", OK),
    ("reviewer", "reviewer", REFUSED),  # nobody reviews their own annotation...
    ("manager", "manager", REFUSED),  # ...managers neither
    ("admin", "admin", OK),  # ...administrators may
    ("manager", "reviewer", OK),
    ("annotator", "reviewer", REFUSED),  # annotators do not review at all
    ("outsider", "annotator", HIDDEN),
    ("other_manager", "annotator", HIDDEN),
]


@pytest.mark.parametrize(("who", "author", "expected"), REVIEW_TABLE)
def test_reviewing_an_annotation_sees_its_author(
    session: Session, who: str, author: str, expected: str
) -> None:
    people, written = _annotations(session)
    assert _outcome(session, people[who], Action.REVIEW, written[author]) == expected


CHANGE_TABLE = [
    ("annotator", "annotator", OK),  # one's own annotation
    ("annotator", "reviewer", REFUSED),  # someone else's: managers only
    ("reviewer", "annotator", REFUSED),
    ("manager", "annotator", OK),
    ("admin", "annotator", OK),
    ("outsider", "annotator", HIDDEN),
]


@pytest.mark.parametrize(("who", "author", "expected"), CHANGE_TABLE)
def test_changing_an_annotation_needs_its_author_or_a_manager(
    session: Session, who: str, author: str, expected: str
) -> None:
    people, written = _annotations(session)
    assert _outcome(session, people[who], Action.CHANGE, written[author]) == expected


def test_messages_name_the_role_and_what_is_allowed(session: Session) -> None:
    project, people = _people(session)
    with pytest.raises(PermissionDeniedError) as refused:
        authorize(session, people["annotator"], Action.MANAGE, project)
    assert str(refused.value) == (
        f"your role (annotator) in project {project.id} does not allow you to manage it: "
        "managers may"
    )
    with pytest.raises(NotFoundError, match=rf"^project {project.id} not found$"):
        authorize(session, people["outsider"], Action.VIEW, project)


def test_an_unknown_project_id_is_not_found_like_a_hidden_one(session: Session) -> None:
    project, people = _people(session)
    with pytest.raises(NotFoundError, match=r"^project 999 not found$"):
        authorize_project(session, people["admin"], Action.VIEW, 999)
    access = authorize_project(session, people["reviewer"], Action.VIEW, project.id)
    assert (access.can_annotate, access.can_review, access.can_manage) == (True, True, False)


def test_a_member_moved_to_another_organization_loses_the_project(session: Session) -> None:
    project, people = _people(session)
    acme = create_organization(session, "Elsewhere", by=None, admin=people["annotator"])
    people["annotator"].active_organization_id = acme.id
    session.flush()
    assert _outcome(session, people["annotator"], Action.VIEW, project) == HIDDEN
