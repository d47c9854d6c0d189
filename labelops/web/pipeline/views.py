"""The pipeline page of a project (managers): storage connections, job launches, runs, datasets.

Launches and status refreshes go through the same services and run launcher as the REST API
(``/api/projects/<id>/pipeline/...``); ``static/js/pipeline.js`` calls that API to launch without
a page load and to poll the runs every 2 s while one is queued or running.
"""

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from labelops.domain.errors import LabelopsError
from labelops.domain.pipeline_jobs import ACTION_JOBS
from labelops.resources import target_storage
from labelops.services import pipeline_views as view_service
from labelops.services import runs as run_service
from labelops.services import storages as storage_service
from labelops.services.exports import available_formats
from labelops.services.policies import Action, authorize_project
from labelops.services.storages import StorageError, StoragePolicy
from labelops.web.extensions import db
from labelops.web.pipeline.forms import ActionForm, StorageForm
from labelops.web.run_launcher import launcher_for

bp = Blueprint("pipeline", __name__, url_prefix="/projects")


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every pipeline page needs a signed-in user."""


def dagster_ui_url() -> str:
    """Returns the Dagster UI's base URL (runs are linked under ``/runs/<run_id>``)."""
    settings = current_app.config["LABELOPS_SETTINGS"]
    return str(current_app.config.get("DAGSTER_UI_URL") or settings.dagster_ui_url).rstrip("/")


def _launcher() -> run_service.RunLauncher:
    return launcher_for(dagster_ui_url(), current_app.config["LABELOPS_SETTINGS"].dagster_home)


def _policy() -> StoragePolicy:
    return StoragePolicy.from_settings(current_app.config["LABELOPS_SETTINGS"])


def _page(access: Any, form: StorageForm, status: int = 200) -> Any:
    overview = view_service.pipeline_overview(db.session, access.project.id, _launcher())
    db.session.commit()
    return render_template(
        "pipeline/show.html",
        project=access.project,
        access=access,
        tab="pipeline",
        form=form,
        action_form=ActionForm(),
        overview=overview,
        actions=view_service.ACTION_LABELS,
        jobs=ACTION_JOBS,
        job_labels=view_service.JOB_LABELS,
        secret_state=view_service.secret_state,
        needs_training=view_service.needs_training,
        next_step=view_service.next_step(db.session, access.project.id, overview),
        dagster_url=dagster_ui_url(),
        export_formats=available_formats(access.project),
    ), status


@bp.get("/<int:project_id>/pipeline")
def show(project_id: int) -> Any:
    """Shows the project's storage connections, pipeline actions, runs and dataset versions."""
    access = authorize_project(db.session, current_user, Action.MANAGE, project_id)
    return _page(access, StorageForm(policy=_policy()))


@bp.post("/<int:project_id>/pipeline/storages")
def add_storage(project_id: int) -> Any:
    """Adds a storage connection; errors are shown next to their fields."""
    access = authorize_project(db.session, current_user, Action.MANAGE, project_id)
    policy = _policy()
    form = StorageForm(policy=policy)
    if form.validate_on_submit():
        try:
            row = storage_service.create_storage(
                db.session, access.project, policy=policy, **form.storage(), **form.secrets()
            )
        except StorageError as exc:
            db.session.rollback()
            target = form[exc.field] if exc.field in form else form.secret
            target.errors = [*target.errors, exc.message]
        else:
            db.session.commit()
            where = row.bucket or ("a local folder" if row.kind == "local" else "the default store")
            flash(f"Storage connection added ({where}, prefix “{row.prefix}”).", "success")
            return redirect(url_for("pipeline.show", project_id=project_id))
    return _page(access, form, 400)


@bp.post("/<int:project_id>/pipeline/storages/<int:storage_id>/delete")
def delete_storage(project_id: int, storage_id: int) -> Any:
    """Deletes a storage connection (the tasks it imported stay)."""
    access = authorize_project(db.session, current_user, Action.MANAGE, project_id)
    if ActionForm().validate_on_submit():
        row = storage_service.get_storage(db.session, access.project.id, storage_id)
        storage_service.delete_storage(db.session, row)
        db.session.commit()
        flash("Storage connection deleted; the tasks it imported stay.", "success")
    else:
        flash("The form expired; try again.", "error")
    return redirect(url_for("pipeline.show", project_id=project_id))


@bp.post("/<int:project_id>/pipeline/storages/<int:storage_id>/export")
def export_to_storage(project_id: int, storage_id: int) -> Any:
    """Writes an export of the project to a target storage connection and flashes its URI."""
    access = authorize_project(db.session, current_user, Action.MANAGE, project_id)
    row = storage_service.get_storage(db.session, access.project.id, storage_id)
    if not ActionForm().validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("pipeline.show", project_id=project_id))
    try:
        uri = target_storage.write_export(
            db.session,
            access.project,
            row,
            request.form.get("export_type") or "JSON",
            policy=_policy(),
        )
    except (LabelopsError, target_storage.TargetWriteError) as exc:
        flash(f"The export was not written: {exc}", "error")
    else:
        flash(f"Export written to {uri}.", "success")
    return redirect(url_for("pipeline.show", project_id=project_id))


@bp.post("/<int:project_id>/pipeline/run/<action>")
def launch(project_id: int, action: str) -> Any:
    """Launches the action's Dagster job and flashes the run id (or why it did not start)."""
    access = authorize_project(db.session, current_user, Action.MANAGE, project_id)
    problem = view_service.launch_problem(db.session, access.project.id, action)
    label = view_service.ACTION_LABELS[action]
    if not ActionForm().validate_on_submit():
        flash("The form expired; try again.", "error")
    elif problem:
        flash(f"{label} was not started. {problem}", "error")
    elif refused := _refused_storage(access.project.id, action):
        flash(f"{label} was not started. {refused}", "error")
        return _page(access, StorageForm(policy=_policy()), 400)
    else:
        try:
            row = run_service.launch_action(
                db.session,
                access.project,
                action,
                launcher=_launcher(),
                launched_by_id=current_user.id,
            )
        except run_service.TooManyRunsError as exc:
            flash(f"{label} was not started: {exc}", "error")
            return redirect(url_for("pipeline.show", project_id=project_id))
        db.session.commit()
        if row.status == "failed":
            flash(f"{label} could not start: {row.error}", "error")
        else:
            flash(f"{label} started: Dagster run {row.run_id}.", "success")
    return redirect(url_for("pipeline.show", project_id=project_id))


def _refused_storage(project_id: int, action: str) -> str:
    """Returns why the action may not use the project's storage now, or "" when it may."""
    try:
        storage_service.check_launch(db.session, project_id, action, _policy())
    except StorageError as exc:
        return str(exc)
    return ""
