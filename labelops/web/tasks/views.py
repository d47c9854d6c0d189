"""The data manager and the task page."""

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required

from labelops.domain.errors import InvalidInputError
from labelops.domain.json_limits import JsonLimitError
from labelops.domain.label_config import parse_label_config
from labelops.resources.bucket_media import open_task_media
from labelops.resources.object_store import deployment_store
from labelops.services import data_manager as manager_service
from labelops.services import exports as export_service
from labelops.services import projects as project_service
from labelops.services import tasks as task_service
from labelops.services import visibility
from labelops.services.errors import PermissionDeniedError
from labelops.services.policies import Action, authorize_project
from labelops.services.storages import StoragePolicy
from labelops.services.tasks import CursorError
from labelops.web.extensions import db
from labelops.web.tasks.display import detail_payload, register_filters
from labelops.web.tasks.forms import DeleteTasksForm, TaskFilterForm

bp = Blueprint("tasks", __name__, url_prefix="/projects")
bp.record_once(lambda state: register_filters(state.app))


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every task page needs a signed-in user."""


@bp.get("/<int:project_id>/data")
def data_manager(project_id: int) -> Any:
    """Shows a page of the project's tasks, filtered and sorted, with keyset paging."""
    access = authorize_project(db.session, current_user, Action.VIEW, project_id)
    project = access.project
    config = parse_label_config(project.label_config)
    members = project_service.members(db.session, project.id)
    blind = visibility.annotation_scope(db.session, current_user, project)
    form = TaskFilterForm(request.args)
    form.set_options(
        config.data_fields,
        [(m.user_id, m.user.email) for m in members if blind in (None, m.user_id)],
        task_service.project_states(db.session, project.id),
    )
    page = manager_service.TaskPage([], None, None)
    error = None
    if form.validate():
        try:
            visibility.check_task_filter(db.session, current_user, project, form.task_filter())
            page = manager_service.task_page(
                db.session,
                project.id,
                form.task_filter(),
                sort=form.sort.data or "id",
                direction="desc" if form.direction.data == "desc" else "asc",
                after=request.args.get("cursor") or None,
                before=request.args.get("before") or None,
                limit=form.limit.data or 50,
            )
            page.annotators = visibility.visible_annotators(
                db.session, current_user, project, page.annotators
            )
        except (InvalidInputError, CursorError, PermissionDeniedError) as exc:
            error = str(exc)
    else:
        error = "Check the filters: " + "; ".join(
            f"{form[name].label.text}: {' '.join(errs)}" for name, errs in form.errors.items()
        )
    kept = {k: v for k, v in request.args.items() if k not in ("cursor", "before") and v}
    return render_template(
        "tasks/data_manager.html",
        project=project,
        access=access,
        form=form,
        page=page,
        error=error,
        data_fields=config.data_fields,
        query=kept,
        delete_form=DeleteTasksForm(),
        export_formats=export_service.available_formats(project) if access.can_manage else [],
        tab="data",
    ), 400 if error else 200


@bp.post("/<int:project_id>/data/delete")
def delete_selected(project_id: int) -> Any:
    """Deletes the selected tasks (managers)."""
    access = authorize_project(db.session, current_user, Action.MANAGE, project_id)
    form = DeleteTasksForm()
    if not form.validate_on_submit():
        abort(400)
    chosen = [v for v in request.form.getlist("task") if v]
    ids = [int(v) if v.isascii() and v.isdigit() else v for v in chosen]
    if not ids:
        flash("Select the tasks to delete first.", "warning")
    else:
        try:
            deleted = task_service.delete_tasks(db.session, access.project, ids)
        except JsonLimitError as exc:
            db.session.rollback()
            abort(400, description=f"Nothing was deleted: {exc}")
        db.session.commit()
        flash(f"Deleted {deleted} task{'' if deleted == 1 else 's'}.", "success")
    back = request.form.get("next", "")
    if not back.startswith(f"/projects/{project_id}/data"):
        back = url_for(".data_manager", project_id=project_id)
    return redirect(back)


@bp.get("/<int:project_id>/tasks/<int:task_id>")
def task_page(project_id: int, task_id: int) -> Any:
    """Shows a task's data, its annotators' annotations side by side, and their history."""
    access = authorize_project(db.session, current_user, Action.VIEW, project_id)
    task = task_service.get_task(db.session, task_id)
    if task.project_id != project_id:
        abort(404)
    config = parse_label_config(access.project.label_config)
    detail = visibility.visible_task_detail(db.session, current_user, access.project, task)
    return render_template(
        "tasks/task.html",
        project=access.project,
        access=access,
        detail=detail,
        objects=list(config.objects.values()),
        payload=detail_payload(config, detail),
        tab="data",
    )


@bp.get("/<int:project_id>/tasks/<int:task_id>/media")
def task_media(project_id: int, task_id: int) -> Any:
    """Streams a bucket object the task's data names (``?url=s3://...``) to the project's members.

    404 for a user outside the project, another project's task, a URL that is not one of the
    task's values or lies under none of the project's storage connections; 502 when the bucket
    does not answer.
    """
    authorize_project(db.session, current_user, Action.VIEW, project_id)
    task = task_service.get_task(db.session, task_id)
    if task.project_id != project_id:
        abort(404)
    settings = current_app.config["LABELOPS_SETTINGS"]
    policy = StoragePolicy.from_settings(settings)
    url = request.args.get("url", "")
    media = open_task_media(db.session, task, url, policy, deployment_store(settings))
    response = send_file(
        media.stream, mimetype=media.content_type, download_name=media.name, etag=False
    )
    # Members only: no shared cache may keep a copy, and the bytes are data, never a page.
    response.cache_control.private = True
    response.cache_control.no_cache = True
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
