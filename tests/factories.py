"""Small builders for test data: make_user, make_org, make_project, make_tasks.

Users join the Default organization unless ``org`` names another; projects go into their
owner's active organization (the Default one for ``owner=None``).
"""

from typing import Any

from sqlalchemy.orm import Session

from labelops.db.models import OrganizationRow, ProjectRow, TaskRow, UserRow
from labelops.services.imports import ImportOptions, import_rows
from labelops.services.organizations import create_organization
from labelops.services.projects import create_project, set_member
from labelops.services.users import create_user, grant_project_creation, issue_token

TEXT_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
    <Choice value="Neutral"/>
  </Choices>
</View>"""

NER_CONFIG = """<View>
  <Labels name="label" toName="text">
    <Label value="PER"/>
    <Label value="ORG"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>"""


def make_user(
    session: Session,
    email: str = "ann@example.com",
    *,
    admin: bool = False,
    org: OrganizationRow | None = None,
    **kw: Any,
) -> UserRow:
    return create_user(
        session,
        email=email,
        password=kw.pop("password", "password123"),
        is_admin=admin,
        organization_id=org.id if org is not None else None,
        **kw,
    )


def make_org(
    session: Session, title: str = "Acme", *, admin: UserRow | None = None
) -> OrganizationRow:
    """An organization created by the system, with ``admin`` as its first admin if given."""
    return create_organization(session, title, by=None, admin=admin)


def make_token(session: Session, user: UserRow) -> str:
    return issue_token(session, user)


def make_project(session: Session, owner: UserRow | None = None, **overrides: Any) -> ProjectRow:
    """A project created by ``owner``, who is granted project creation first if need be."""
    if owner is not None and not owner.is_admin and not owner.can_create_projects:
        grant_project_creation(session, owner, by=None)
    fields = {"title": "Sentiment", "label_config": TEXT_CONFIG, **overrides}
    return create_project(session, created_by=owner, **fields)


def add_member(session: Session, project: ProjectRow, user: UserRow, role: str) -> None:
    set_member(session, project, user, role, by=None)


def make_tasks(
    session: Session, project: ProjectRow, n: int = 3, **item_overrides: Any
) -> list[TaskRow]:
    rows = [(i + 1, {"text": f"task number {i}", **item_overrides}) for i in range(n)]
    report = import_rows(
        session, project, rows, source="factory", options=ImportOptions(return_task_ids=True)
    )
    return [session.get_one(TaskRow, task_id) for task_id in report.task_ids]


def choice_result(
    value: str, from_name: str = "sentiment", to_name: str = "text"
) -> list[dict[str, Any]]:
    return [
        {
            "id": "r1",
            "from_name": from_name,
            "to_name": to_name,
            "type": "choices",
            "value": {"choices": [value]},
        }
    ]
