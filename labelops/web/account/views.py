"""The personal API token page: a new token is shown once, after a POST with CSRF."""

from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from labelops.services import users as user_service
from labelops.web.account.forms import NewTokenForm
from labelops.web.extensions import db

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/token", methods=["GET", "POST"])
@login_required
def token() -> Any:
    """Shows how to use the API and issues a new token (the old ones stop working)."""
    form = NewTokenForm()
    key = None
    if form.validate_on_submit():
        key = user_service.issue_token(db.session, current_user, name="web", revoke_others=True)
        db.session.commit()
    response = render_template("account/token.html", form=form, key=key)
    return response, 200, {"Cache-Control": "no-store"}
