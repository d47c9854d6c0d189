"""Project pages: list, create (from the gallery or a clone), settings, model, delete, members."""

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from labelops.db.models import MLBackendRow
from labelops.domain.errors import (
    InvalidInputError,
    LabelConfigError,
    TaskImportError,
    UnknownFormatError,
)
from labelops.domain.formats.registry import accepted_extensions, data_file_types
from labelops.domain.label_config import (
    interface_description,
    parse_label_config,
    sample_task_data,
)
from labelops.services import import_inputs
from labelops.services import imports as import_service
from labelops.services import media as media_service
from labelops.services import ml_backend_events as ml_events
from labelops.services import ml_backends as ml_service
from labelops.services import projects as project_service
from labelops.services import workflow as workflow_service
from labelops.services.errors import ConflictError, NotFoundError
from labelops.services.media import UploadStore
from labelops.services.ml_backends import MLBackendError
from labelops.services.ml_client import MLBackendCallError
from labelops.services.outbound import FetchError, OutboundURLError
from labelops.services.policies import Action, authorize_project
from labelops.settings import current_limits
from labelops.templates_gallery import gallery, get_template
from labelops.web.config import outbound_hosts
from labelops.web.extensions import db
from labelops.web.projects.forms import (
    DeleteProjectForm,
    ImportForm,
    MemberForm,
    MLBackendForm,
    PasteImportForm,
    ProjectForm,
    RoleForm,
    WorkflowForm,
)

bp = Blueprint("projects", __name__, url_prefix="/projects")
PROJECTS_PER_PAGE = 24


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every project page needs a signed-in user."""


@bp.get("")
def index() -> Any:
    """Lists the projects the user belongs to with their progress: searched by title, paged."""
    search = (request.args.get("q") or "").strip()[:200]
    total = project_service.count_visible_projects(db.session, current_user, search=search)
    pages = max(1, -(-total // PROJECTS_PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    projects = project_service.visible_projects(
        db.session,
        current_user,
        search=search,
        offset=(page - 1) * PROJECTS_PER_PAGE,
        limit=PROJECTS_PER_PAGE,
    )
    return render_template(
        "projects/index.html",
        projects=projects,
        total=total,
        search=search,
        page=page,
        pages=pages,
        can_create=project_service.can_create_projects(current_user),
    )


@bp.route("/new", methods=["GET", "POST"])
def create() -> Any:
    """Creates a project from a gallery template, a clone of another project, or a blank config.

    Only administrators and users granted project creation may (403 otherwise).
    """
    if not project_service.can_create_projects(current_user):
        abort(403)
    form = ProjectForm()
    if request.method == "GET":
        _prefill(form, request.args.get("template"), request.args.get("clone", type=int))
    if form.validate_on_submit():
        project = project_service.create_project(
            db.session, created_by=current_user, **form.settings()
        )
        db.session.commit()
        flash(f"Project “{project.title}” created. Import some tasks to start.", "success")
        return redirect(url_for("projects.import_page", project_id=project.id))
    return _editor("projects/create.html", form)


def _prefill(form: ProjectForm, template_name: str | None, clone_id: int | None) -> None:
    if clone_id is not None:
        source = authorize_project(db.session, current_user, Action.VIEW, clone_id).project
        form.process(
            data={
                **{name: getattr(source, name) for name in project_service.EDITABLE_FIELDS},
                "title": f"{source.title} (copy)"[:200],
            }
        )
        return
    template = get_template(template_name or "text_classification") or gallery()[0]
    form.label_config.data = template.label_config
    form.template.data = template.name
    if template_name and not form.title.data:
        # The gallery's links (followed before the page's script binds them, or without script)
        # fill the title as its buttons do.
        form.title.data = template.title


def _editor(template: str, form: ProjectForm, **context: Any) -> Any:
    status = 400 if request.method == "POST" else 200
    return render_template(
        template,
        form=form,
        gallery=gallery(),
        gallery_json=[asdict(t) for t in gallery()],
        initial_preview=_preview(form.label_config.data or ""),
        **context,
    ), status


def _preview(label_config: str) -> dict[str, Any] | None:
    try:
        config = parse_label_config(label_config)
    except LabelConfigError:
        return None
    return {"interface": interface_description(config), "task_data": sample_task_data(config)}


@bp.post("/preview")
def preview() -> Any:
    """Returns the interface description and sample data for a config (the editor's preview)."""
    body = request.get_json(silent=True) or {}
    try:
        config = parse_label_config(str(body.get("label_config", "")))
    except LabelConfigError as exc:
        return jsonify(
            {"detail": str(exc), "validation_errors": {"label_config": [exc.to_dict()]}}
        ), 400
    return jsonify(
        {"interface": interface_description(config), "task_data": sample_task_data(config)}
    )


@bp.get("/<int:project_id>")
def show(project_id: int) -> Any:
    """Opens a project on its data manager."""
    authorize_project(db.session, current_user, Action.VIEW, project_id)
    return redirect(url_for("tasks.data_manager", project_id=project_id))


@bp.route("/<int:project_id>/settings", methods=["GET", "POST"])
def settings(project_id: int) -> Any:
    """Edits a project's settings and labeling config (managers)."""
    access = authorize_project(db.session, current_user, Action.MANAGE, project_id)
    project = access.project
    form = ProjectForm(obj=project)
    if form.validate_on_submit():
        try:
            project_service.update_project(db.session, project, form.settings(), by=current_user)
        except LabelConfigError as exc:  # e.g. it drops labels the annotations use
            db.session.rollback()
            form.label_config.errors = [*form.label_config.errors, str(exc)]
        else:
            db.session.commit()
            flash("Settings saved.", "success")
            return redirect(url_for("projects.settings", project_id=project.id))
    return _editor(
        "projects/settings.html",
        form,
        access=access,
        project=project,
        tab="settings",
        can_create=project_service.can_create_projects(current_user),
        workflow_form=_workflow_form(project),
        **_model_section(project.id),
    )


def _workflow_form(project: Any) -> WorkflowForm:
    definition = workflow_service.project_workflow(project).to_dict()
    return WorkflowForm(
        prefix="workflow", formdata=None, data={"definition": json.dumps(definition, indent=2)}
    )


@bp.post("/<int:project_id>/settings/workflow")
def settings_workflow(project_id: int) -> Any:
    """Saves the project's task workflow from its JSON definition (managers)."""
    access = authorize_project(db.session, current_user, Action.MANAGE, project_id)
    project = access.project
    workflow_form = WorkflowForm(prefix="workflow")
    if workflow_form.validate_on_submit():
        try:
            workflow_service.set_workflow(
                db.session, project, workflow_form.definition_dict(), user=current_user
            )
        except ConflictError as exc:
            db.session.rollback()
            workflow_form.definition.errors = [str(exc)]
        else:
            db.session.commit()
            flash("Workflow saved.", "success")
            return redirect(url_for("projects.settings", project_id=project.id) + "#workflow")
    return _editor(
        "projects/settings.html",
        ProjectForm(formdata=None, obj=project),
        access=access,
        project=project,
        tab="settings",
        workflow_form=workflow_form,
        **_model_section(project.id),
    )


def _model_section(project_id: int) -> dict[str, Any]:
    """Returns what the settings page's "Model" section shows: the backends and the connect form."""
    return {
        "ml_backends": ml_service.list_ml_backends(db.session, current_user, project_id),
        "model_form": MLBackendForm(prefix="model", formdata=None),
        "action_form": FlaskForm(),
    }


def _flash_state(row: MLBackendRow, done: str) -> None:
    if row.state == "CONNECTED":
        flash(f"{done} {row.title} is connected (model version {row.model_version}).", "success")
    else:
        flash(f"{done} {row.title} could not be reached: {row.error_message}", "error")


@bp.post("/<int:project_id>/settings/model")
def connect_model(project_id: int) -> Any:
    """Connects a Label Studio ML backend and checks it (managers)."""
    project = authorize_project(db.session, current_user, Action.MANAGE, project_id).project
    back = redirect(url_for("projects.settings", project_id=project.id) + "#model")
    form = MLBackendForm(prefix="model")
    if not form.validate_on_submit():
        problems = [f"{form[name].label.text}: {' '.join(e)}" for name, e in form.errors.items()]
        flash("The ML backend was not connected. " + "; ".join(problems), "error")
        return back
    try:
        row = ml_service.create_ml_backend(
            db.session, current_user, project.id, form.spec(), allowed_hosts=outbound_hosts()
        )
    except MLBackendError as exc:
        db.session.rollback()
        flash(f"The ML backend was not connected: {exc}", "error")
        return back
    db.session.commit()
    _flash_state(row, "Saved:")
    return back


@bp.post("/<int:project_id>/settings/model/<int:backend_id>/<any(check, train, delete):action>")
def model_action(project_id: int, backend_id: int, action: str) -> Any:
    """Checks, trains or disconnects one of the project's ML backends (managers)."""
    project = authorize_project(db.session, current_user, Action.MANAGE, project_id).project
    if not FlaskForm().validate_on_submit():
        abort(400)
    row = ml_service.get_ml_backend(db.session, current_user, backend_id)
    if row.project_id != project.id:
        abort(404)
    if action == "check":
        ml_service.check_ml_backend(db.session, row, allowed_hosts=outbound_hosts())
        _flash_state(row, "Checked:")
    elif action == "train":
        try:
            ml_events.train_ml_backend(
                db.session, current_user, row.id, allowed_hosts=outbound_hosts()
            )
        except MLBackendCallError as exc:
            flash(f"Training did not start: {exc}", "error")
        else:
            flash(f"Training started on {row.title}.", "success")
    else:
        ml_service.delete_ml_backend(db.session, current_user, row.id)
        flash(f"{row.title} was disconnected.", "success")
    db.session.commit()
    return redirect(url_for("projects.settings", project_id=project.id) + "#model")


@bp.route("/<int:project_id>/delete", methods=["GET", "POST"])
def delete(project_id: int) -> Any:
    """Asks for the project's title, then deletes the project with all its data (managers)."""
    access = authorize_project(db.session, current_user, Action.MANAGE, project_id)
    project = access.project
    form = DeleteProjectForm()
    if form.validate_on_submit():
        if (form.confirm.data or "").strip() != project.title:
            form.confirm.errors = [*form.confirm.errors, "the title does not match"]
        else:
            title = project.title
            project_service.delete_project(db.session, project, by=current_user)
            db.session.commit()
            flash(f"Project “{title}” deleted.", "success")
            return redirect(url_for("projects.index"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "projects/delete.html", form=form, project=project, access=access, tab="settings"
    ), status


@bp.route("/<int:project_id>/members", methods=["GET", "POST"])
def members(project_id: int) -> Any:
    """Lists members, adds people by email and sets their roles (managers)."""
    access = authorize_project(db.session, current_user, Action.MANAGE, project_id)
    form = MemberForm()
    if request.method == "POST" and form.validate_on_submit():
        email = (form.email.data or "").strip()
        try:
            member = project_service.add_member(
                db.session, access.project, role=form.role.data, by=current_user, email=email
            )
        except (NotFoundError, InvalidInputError) as exc:
            db.session.rollback()
            form.email.errors = [str(exc)]
        else:
            db.session.commit()
            if member is not None and current_user.is_admin:
                flash(f"{member.user.email} is now {member.role} of this project.", "success")
            else:
                # The same words whether or not the account exists: no accounts are revealed.
                flash(
                    f"If {email} has an account, they are now {form.role.data} of this project.",
                    "success",
                )
            return redirect(url_for("projects.members", project_id=project_id))
    rows = project_service.members(db.session, project_id)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "projects/members.html",
        form=form,
        role_form=RoleForm(),
        members=rows,
        project=access.project,
        access=access,
        tab="members",
    ), status


@bp.post("/<int:project_id>/members/<int:user_id>")
def set_role(project_id: int, user_id: int) -> Any:
    """Changes a member's role (managers); the last manager cannot be demoted."""
    access = authorize_project(db.session, current_user, Action.MANAGE, project_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose a valid role.", "error")
        return redirect(url_for("projects.members", project_id=project_id))
    try:
        member = project_service.change_member_role(
            db.session, access.project, user_id, form.role.data, by=current_user
        )
    except ConflictError as exc:
        db.session.rollback()
        flash(f"{str(exc)[0].upper()}{str(exc)[1:]}.", "error")
        return redirect(url_for("projects.members", project_id=project_id))
    db.session.commit()
    flash(f"{member.user.email} is now {form.role.data}.", "success")
    return redirect(url_for("projects.members", project_id=project_id))


@bp.post("/<int:project_id>/members/<int:user_id>/remove")
def remove_member(project_id: int, user_id: int) -> Any:
    """Removes a member from the project (managers); their annotations stay."""
    access = authorize_project(db.session, current_user, Action.MANAGE, project_id)
    form = RoleForm()
    if not form.validate_on_submit() and form.errors.get("csrf_token"):
        abort(400)
    try:
        user = project_service.remove_member(db.session, access.project, user_id, by=current_user)
    except ConflictError as exc:
        db.session.rollback()
        flash(f"{str(exc)[0].upper()}{str(exc)[1:]}.", "error")
        return redirect(url_for("projects.members", project_id=project_id))
    db.session.commit()
    flash(f"{user.email} was removed from the project.", "success")
    return redirect(url_for("projects.members", project_id=project_id))


@bp.route("/<int:project_id>/import", methods=["GET", "POST"])
def import_page(project_id: int) -> Any:
    """Uploads task files or media files; answers with a report of what was added or rejected."""
    access = authorize_project(db.session, current_user, Action.MANAGE, project_id)
    form = ImportForm()
    report: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    status = 200
    if form.validate_on_submit():
        sources = [
            import_service.ImportSource.of_stream(f.filename or "upload", f.stream, f.mimetype)
            for f in form.files.data
            if f
        ]
        report, error, status = _run_import(
            access.project, lambda: sources, dedupe=form.dedupe.data, strict=form.strict.data
        )
    elif request.method == "POST":
        status = 400
        error = {"message": " ".join(e for errs in form.errors.values() for e in errs)}
    if request.method == "POST" and request.accept_mimetypes.best == "application/json":
        return jsonify({"report": report, "error": error}), status
    return _import_template(
        access, form, PasteImportForm(formdata=None, prefix="paste"), report, error, status
    )


@bp.post("/<int:project_id>/import/paste")
def import_pasted(project_id: int) -> Any:
    """Imports pasted JSON/CSV/TSV tasks or the document at a URL, through the same import."""
    access = authorize_project(db.session, current_user, Action.MANAGE, project_id)
    form = PasteImportForm(prefix="paste")
    report: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    status = 400
    if form.validate_on_submit():
        text, url = form.text.data or "", form.url.data or ""

        def sources() -> list[import_service.ImportSource]:
            if url.strip():
                return [
                    import_inputs.url_source(
                        url,
                        allowed_hosts=outbound_hosts(),
                        max_bytes=current_limits().max_upload_bytes,
                    )
                ]
            return [import_inputs.pasted_source(text, form.text_format.data or "auto")]

        if text.strip() and url.strip():
            error = {"message": "give pasted text or a URL, not both"}
        elif not text.strip() and not url.strip():
            error = {"message": "paste tasks or give a URL"}
        else:
            report, error, status = _run_import(
                access.project, sources, dedupe=form.dedupe.data, strict=form.strict.data
            )
    else:
        error = {"message": " ".join(e for errs in form.errors.values() for e in errs)}
    if report is not None:  # imported: the form starts empty again
        form = PasteImportForm(formdata=None, prefix="paste")
    return _import_template(access, ImportForm(formdata=None), form, report, error, status)


def _run_import(
    project: Any,
    sources: Callable[[], list[import_service.ImportSource]],
    *,
    dedupe: bool | None,
    strict: bool | None,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, int]:
    """Imports the sources all or nothing; returns (report, error, status) for the page."""
    options = import_service.ImportOptions(
        created_by_id=current_user.id,
        dedupe=bool(dedupe),
        strict=bool(strict),
        store=UploadStore.for_settings(current_app.config["LABELOPS_SETTINGS"]),
    )
    try:
        summary = import_service.import_sources(db.session, project, sources(), options)
    except (
        TaskImportError,
        UnknownFormatError,
        InvalidInputError,
        OutboundURLError,
        FetchError,
    ) as exc:
        db.session.rollback()
        return None, _import_error(exc), 400
    db.session.commit()
    return summary.to_dict(), None, 200


def _import_template(
    access: Any,
    form: FlaskForm,
    paste_form: FlaskForm,
    report: dict[str, Any] | None,
    error: dict[str, Any] | None,
    status: int,
) -> tuple[str, int]:
    config = parse_label_config(access.project.label_config)
    return render_template(
        "projects/import.html",
        form=form,
        paste_form=paste_form,
        project=access.project,
        access=access,
        report=report,
        error=error,
        data_fields=config.data_fields,
        data_file_types=data_file_types(config),
        accept=",".join(accepted_extensions(config)),
        tab="import",
    ), status


def _import_error(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, TaskImportError):
        return {
            "message": exc.message,
            "source": exc.source,
            "row": exc.row,
            "field": exc.field,
            "detail": str(exc),
        }
    return {"message": str(exc), "detail": str(exc)}


def _media_root() -> Path:
    return Path(current_app.config["LABELOPS_SETTINGS"].uploads_root)


@bp.get("/<int:project_id>/media/<path:filename>")
def media(project_id: int, filename: str) -> Any:
    """Serves an uploaded media file to members of its project."""
    authorize_project(db.session, current_user, Action.VIEW, project_id)
    try:
        path = media_service.media_path(_media_root(), project_id, filename)
    except NotFoundError:
        abort(404)
    response = send_file(path, conditional=True)
    # Members only: no shared cache (a proxy or CDN) may keep a copy for others, and the
    # browser revalidates (a cheap 304 through the ETag) so a removed member loses access.
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.no_cache = True
    # Uploaded files are data, never pages: an SVG or HTML file must not run script on our origin.
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
