"""Helpers for API tests: users with tokens created through the services, and auth headers."""

from flask import Flask

from labelops.services.users import create_user, grant_project_creation, issue_token
from labelops.web.extensions import db


def user_with_token(
    app: Flask, email: str, *, admin: bool = False, can_create_projects: bool = False
) -> tuple[int, dict[str, str]]:
    with app.app_context():
        user = create_user(db.session, email=email, password="password123", is_admin=admin)
        if can_create_projects:
            grant_project_creation(db.session, user, by=None)
        key = issue_token(db.session, user)
        db.session.commit()
        return user.id, {"Authorization": f"Token {key}"}
