"""The project dashboard: progress over time, throughput, labels and agreement."""

from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from labelops.clock import utcnow
from labelops.services.policies import Action, authorize_project
from labelops.services.visibility import visible_dashboard
from labelops.web.extensions import db

bp = Blueprint("dashboard", __name__, url_prefix="/projects")


@bp.get("/<int:project_id>/dashboard")
@login_required
def show(project_id: int) -> Any:
    """Shows the project's dashboard to its members."""
    access = authorize_project(db.session, current_user, Action.VIEW, project_id)
    figures = visible_dashboard(db.session, current_user, access.project, now=utcnow())
    return render_template(
        "dashboard/show.html",
        project=access.project,
        access=access,
        figures=figures,
        tab="dashboard",
    )
