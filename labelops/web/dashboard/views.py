"""The project dashboard: progress over time, throughput, labels and agreement."""

from typing import Any

from flask import Blueprint, render_template
from flask_login import login_required

from labelops.db.models import utcnow
from labelops.services import dashboard as dashboard_service
from labelops.web.extensions import db
from labelops.web.projects.policies import can_view, explain_refusals, project_access

bp = Blueprint("dashboard", __name__, url_prefix="/projects")
explain_refusals(bp)


@bp.get("/<int:project_id>/dashboard")
@login_required
def show(project_id: int) -> Any:
    """Shows the project's dashboard to its members."""
    access = project_access(project_id, can_view)
    figures = dashboard_service.project_dashboard(db.session, access.project.id, now=utcnow())
    return render_template(
        "dashboard/show.html",
        project=access.project,
        access=access,
        figures=figures,
        tab="dashboard",
    )
