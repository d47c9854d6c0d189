"""Helpers for API tests: users with tokens created through the services, and auth headers."""

from flask import Flask

from labelops.services.users import create_user, grant_project_creation, issue_token
from labelops.web.extensions import db


def user_with_token(
    app: Flask,
    email: str,
    *,
    admin: bool = False,
    can_create_projects: bool = False,
    organization_id: int | None = None,
) -> tuple[int, dict[str, str]]:
    """A user of the organization (the Default one unless named) and their token's header."""
    with app.app_context():
        user = create_user(
            db.session,
            email=email,
            password="password123",
            is_admin=admin,
            organization_id=organization_id,
        )
        if can_create_projects:
            grant_project_creation(db.session, user, by=None)
        key = issue_token(db.session, user)
        db.session.commit()
        return user.id, {"Authorization": f"Token {key}"}
