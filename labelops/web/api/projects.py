"""REST endpoints under /api/projects: CRUD, validate, import, tasks, next, export, members."""

import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy.orm import Session

from labelops.clock import utcnow
from labelops.db.models import ProjectRow
from labelops.domain.errors import TaskImportError, UnknownFormatError
from labelops.domain.label_config import parse_label_config
from labelops.resources.bucket_media import export_media_reader
from labelops.services import exports as export_service
from labelops.services import import_inputs, project_settings, visibility
from labelops.services import imports as import_service
from labelops.services import next_task as queue
from labelops.services import predictions as prediction_service
from labelops.services import projects as project_service
from labelops.services import tasks as task_service
from labelops.services import users as user_service
from labelops.services.media import UploadStore
from labelops.services.policies import Action, authorize_project
from labelops.services.projects import project_config
from labelops.settings import current_limits
from labelops.web.api import imports as background_import
from labelops.web.api.auth import api_login_required
from labelops.web.api.params import (
    CURSOR,
    DIRECTION,
    LIMIT,
    PAGE,
    PAGE_SIZE,
    SORT,
    TASK_FILTERS,
    QueryParam,
    bool_arg,
    datetime_arg,
    int_list,
    task_filter_from_args,
)
from labelops.web.api.schemas import (
    LabelConfigIn,
    MemberIn,
    MemberRoleIn,
    OptionalLabelConfigIn,
    PredictionIn,
    ProjectIn,
)
from labelops.web.api.serializers import prediction_json, project_json, task_json
from labelops.web.api.validation import accepts, read_body
from labelops.web.config import outbound_hosts
from labelops.web.errors import error_response, invalid
from labelops.web.extensions import db

bp = Blueprint("api_projects", __name__, url_prefix="/api/projects")


@bp.get("")
@api_login_required
@accepts(query=(PAGE, PAGE_SIZE))
def list_projects() -> Any:
    """Lists the projects the user can see, paged as Label Studio's DRF pagination."""
    page = PAGE.get()
    page_size = PAGE_SIZE.get()
    projects = project_service.visible_projects(db.session, g.user)
    chunk = projects[(page - 1) * page_size : page * page_size]
    return jsonify(
        {
            "count": len(projects),
            "next": None,
            "previous": None,
            "results": _projects_json(chunk, with_config=False),
        }
    )


def _projects_json(projects: list[ProjectRow], *, with_config: bool = True) -> list[Any]:
    """Returns projects as Label Studio's project JSON, with the caller's counters."""
    counts = project_settings.label_studio_counts(db.session, projects, g.user.id)
    return [
        project_json(
            p,
            parse_label_config(p.label_config) if with_config else None,
            creator=user_service.find_user(db.session, p.created_by_id),
            counts=counts[p.id],
        )
        for p in projects
    ]


@bp.post("")
@api_login_required
@accepts(ProjectIn, required=False)
def create_project() -> Any:
    """Creates a project (with no body: "New Project #N" and an empty config); caller manages it."""
    body = read_body()
    fields = body.fields_set() if body is not None else {}
    project = project_service.create_project(db.session, created_by=g.user, **fields)
    db.session.commit()
    return jsonify(_projects_json([project])[0]), 201


@bp.get("/<int:project_id>")
@api_login_required
def get_project(project_id: int) -> Any:
    """Returns one project."""
    project = authorize_project(db.session, g.user, Action.VIEW, project_id).project
    return jsonify(_projects_json([project])[0])


@bp.route("/<int:project_id>", methods=["PATCH", "PUT"])
@api_login_required
@accepts(ProjectIn)
def update_project(project_id: int) -> Any:
    """Changes a project's settings (managers)."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    fields = read_body().fields_set()
    project_service.update_project(db.session, project, fields, by=g.user)
    db.session.commit()
    return jsonify(_projects_json([project])[0])


@bp.delete("/<int:project_id>")
@api_login_required
def delete_project(project_id: int) -> Any:
    """Deletes a project with all its data (managers)."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    project_service.delete_project(db.session, project, by=g.user)
    db.session.commit()
    return "", 204


@bp.post("/validate")
@api_login_required
@accepts(LabelConfigIn)
def validate_config() -> Any:
    """Checks a labeling config; 400 names the tag, attribute and line of the first mistake."""
    config = parse_label_config(read_body().label_config)
    return jsonify({"valid": True, "data_fields": list(config.data_fields)})


@bp.post("/<int:project_id>/validate")
@api_login_required
@accepts(OptionalLabelConfigIn, required=False)
def validate_project_config(project_id: int) -> Any:
    """Checks a labeling config for a project (the project's own when none is posted).

    As Label Studio, a config that drops what the project's annotations or drafts use is 400.
    """
    project = authorize_project(db.session, g.user, Action.VIEW, project_id).project
    body = read_body()
    given = body.label_config if body is not None else None
    config = project_service.check_config_change(
        db.session, project, given if given is not None else project.label_config
    )
    return jsonify({"valid": True, "data_fields": list(config.data_fields)})


_IMPORT_QUERY = (
    QueryParam("dedupe", "boolean", "Skip tasks whose data is already in the project.", False),
    QueryParam("return_task_ids", "boolean", "Answer the new task ids.", False),
    QueryParam("format", "string", "Import format (default: from the file name)."),
    QueryParam(
        "as", "string", "What imported results become.", choices=("annotations", "predictions")
    ),
    QueryParam("image_sizes", "string", 'YOLO: JSON {"name.jpg": [width, height]}.'),
    QueryParam("strict", "boolean", "Refuse results that contradict the labeling config.", False),
    QueryParam(
        "files_as_tasks_list",
        "boolean",
        "A CSV/TSV/text file is a task list (true) or one data file the config reads by URL "
        "(false); by default decided from the config and the CSV header.",
    ),
    QueryParam(
        "map_annotators_by_email",
        "boolean",
        "Attribute imported annotations to the project members with those emails (managers).",
        False,
    ),
)
_IMPORT_BODY = {
    "application/json": {
        "schema": {
            "oneOf": [
                {"type": "array", "items": {"type": "object"}},
                {"type": "object"},
            ]
        }
    },
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {
                "file": {"type": "array", "items": {"type": "string", "format": "binary"}}
            },
        }
    },
    "application/x-www-form-urlencoded": {
        "schema": {
            "type": "object",
            "properties": {"url": {"type": "string", "format": "uri"}},
            "required": ["url"],
        }
    },
}


@bp.post("/<int:project_id>/import")
@api_login_required
@accepts(query=_IMPORT_QUERY, body_doc=_IMPORT_BODY)
def import_tasks(project_id: int) -> Any:
    """Imports tasks from uploaded files, a JSON body or a form ``url=``, all or nothing."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    as_ = request.args.get("as") or request.form.get("as") or "annotations"
    if as_ not in ("annotations", "predictions"):
        raise invalid("as", f"must be 'annotations' or 'predictions', got {as_!r}")
    as_list = request.args.get("files_as_tasks_list")
    options = import_service.ImportOptions(
        created_by_id=g.user.id,
        format_name=request.args.get("format") or request.form.get("format") or None,
        as_=as_,  # type: ignore[arg-type]
        image_sizes=_image_sizes(
            request.form.get("image_sizes") or request.args.get("image_sizes")
        ),
        as_tasks_list=None if as_list is None else bool_arg("files_as_tasks_list", True),
        dedupe=bool_arg("dedupe", False),
        strict=bool_arg("strict", False),
        return_task_ids=bool_arg("return_task_ids", False),
        map_annotators_by_email=bool_arg("map_annotators_by_email", False),
        store=UploadStore.for_settings(current_app.config["LABELOPS_SETTINGS"]),
    )
    sources = list(_import_sources())
    if not sources:
        return error_response(400, "no tasks: send a JSON body or upload files as multipart 'file'")
    if background_import.runs_in_background():
        return background_import.queue_import(project, sources, options)
    try:
        summary = import_service.import_sources(db.session, project, sources, options)
    except (TaskImportError, UnknownFormatError):
        db.session.rollback()
        raise
    db.session.commit()
    return jsonify(summary.to_dict(task_ids=options.return_task_ids)), 201


def _image_sizes(raw: str | None) -> dict[str, tuple[int, int]] | None:
    """Returns ``{"image name": (width, height)}`` from a JSON form field (YOLO imports need it)."""
    if not raw:
        return None
    problem = invalid("image_sizes", 'must be a JSON object {"name.jpg": [width, height], ...}')
    try:
        parsed = current_app.json.loads(raw)
    except ValueError:
        raise problem from None
    if not isinstance(parsed, dict):
        raise problem
    sizes: dict[str, tuple[int, int]] = {}
    for name, size in parsed.items():
        if not isinstance(size, list) or len(size) != 2 or not all(map(_pixels, size)):
            raise problem
        sizes[name] = (int(size[0]), int(size[1]))
    return sizes


def _pixels(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and float(value).is_integer()
        and 0 < value <= 1_000_000
    )


def _import_sources() -> Iterator[import_service.ImportSource]:
    if request.mimetype == "application/x-www-form-urlencoded" and "url" in request.form:
        # Label Studio's import from a URL: a form body ``url=...``, read under the outbound rule.
        yield import_inputs.url_source(
            request.form["url"],
            allowed_hosts=outbound_hosts(),
            max_bytes=current_limits().max_upload_bytes,
        )
        return
    if request.files:
        for upload in request.files.getlist("file") or list(request.files.values()):
            yield import_service.ImportSource.of_stream(
                upload.filename or "upload", upload.stream, upload.mimetype or None
            )
        return
    if request.content_length:
        body = tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024)
        shutil.copyfileobj(request.stream, body)
        body.seek(0)
        yield import_service.ImportSource.of_stream("request body", body, "application/json")


@bp.get("/<int:project_id>/tasks")
@api_login_required
@accepts(query=(PAGE, PAGE_SIZE, CURSOR, LIMIT, SORT, DIRECTION, *TASK_FILTERS))
def project_tasks(project_id: int) -> Any:
    """Lists a project's tasks; keyset-paged with ``cursor``/``limit``, else by ``page``."""
    project = authorize_project(db.session, g.user, Action.VIEW, project_id).project
    flt = task_filter_from_args()
    visibility.check_task_filter(db.session, g.user, project, flt)
    if "cursor" in request.args or "limit" in request.args:
        try:
            tasks, cursor = task_service.list_tasks(
                db.session,
                project.id,
                flt,
                sort=SORT.get(),
                direction=DIRECTION.get(),
                after=CURSOR.get(),
                limit=LIMIT.get(),
            )
        except task_service.CursorError as exc:
            raise invalid("cursor", str(exc)) from None
        return jsonify({"tasks": [task_json(t) for t in tasks], "next_cursor": cursor})
    tasks = task_service.page_tasks(
        db.session, project.id, page=PAGE.get(), page_size=PAGE_SIZE.get(), flt=flt
    )
    return jsonify([task_json(t) for t in tasks])


@bp.delete("/<int:project_id>/tasks")
@api_login_required
def delete_project_tasks(project_id: int) -> Any:
    """Deletes all of a project's tasks (managers); 204 as in Label Studio."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    task_service.delete_tasks(db.session, project)
    db.session.commit()
    return "", 204


@bp.get("/<int:project_id>/next")
@api_login_required
def next_task(project_id: int) -> Any:
    """Hands the caller the next task to label (locked for them), or 404 when there is none."""
    project = authorize_project(db.session, g.user, Action.ANNOTATE, project_id).project
    ttl = timedelta(seconds=current_app.config.get("TASK_LOCK_TTL_SECONDS", 3600))
    task = queue.claim_next_task(db.session, project.id, g.user.id, now=utcnow(), lock_ttl=ttl)
    if task is None:
        return error_response(404, f"no more tasks to label in project {project.id}")
    # The task's prediction counter spares most hand-outs the predictions query.
    predictions = (
        prediction_service.current_predictions(db.session, project, task.id)
        if task.total_predictions
        else []
    )
    return jsonify(task_json(task, annotations=[], predictions=predictions))


_EXPORT_QUERY = (
    QueryParam("exportType", "string", "Export format name.", "JSON"),
    QueryParam("export_type", "string", "Same as exportType."),
    QueryParam("download_all_tasks", "boolean", "Add tasks without annotations.", False),
    QueryParam("annotations", "string", "Which annotations to export.", "all"),
    QueryParam("include_predictions", "boolean", "Export predictions too.", True),
    QueryParam("annotators", "ids", "Only these annotators' work (comma-separated ids)."),
    QueryParam("since", "date-time", "Only annotations changed since."),
    QueryParam("until", "date-time", "Only annotations changed until."),
    QueryParam("include_images", "boolean", "Put the images in the zip (COCO, VOC, YOLO*).", False),
)


@bp.get("/<int:project_id>/export")
@api_login_required
@accepts(query=_EXPORT_QUERY)
def export(project_id: int) -> Any:
    """Streams an export (``exportType``; ``download_all_tasks=true`` adds unannotated tasks)."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    fmt_name = request.args.get("exportType") or request.args.get("export_type") or "JSON"
    download_all = bool_arg("download_all_tasks", False)
    annotators = request.args.get("annotators")
    # The stream reads in batches, each on its own short-lived session: nothing of this request
    # (its session, its transaction, its pooled connection) stays open while the client reads.
    engine = db.engine
    options = export_service.export_options(
        project_config(project),
        annotations=request.args.get("annotations", "all"),
        include_predictions=bool_arg("include_predictions", True),
        annotators=frozenset(int_list(annotators, "annotators")) if annotators else None,
        since=datetime_arg("since"),
        until=datetime_arg("until"),
        media=(
            export_media_reader(
                current_app.config["LABELOPS_SETTINGS"], lambda: Session(engine), project.id
            )
            if export_service.reads_images(fmt_name, bool_arg("include_images", False))
            else None
        ),
    )
    fmt, stream = export_service.open_export(
        lambda: Session(engine),
        project,
        fmt_name,
        download_all_tasks=download_all,
        options=options,
    )
    project_id = project.id
    db.session.close()
    filename = export_service.export_file_name(project_id, fmt, utcnow())
    return Response(
        stream,
        mimetype=fmt.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# Formats Label Studio's converter also has: their entry links to its export guide.
_LS_EXPORT_GUIDE = "https://labelstud.io/guide/export.html#{anchor}"
_LS_FORMATS = frozenset(
    {
        "JSON",
        "JSON_MIN",
        "CSV",
        "TSV",
        "CONLL2003",
        "COCO",
        "VOC",
        "BRUSH_TO_NUMPY",
        "BRUSH_TO_PNG",
        "ASR_MANIFEST",
        "YOLO",
        "YOLO_OBB",
        "COCO_WITH_IMAGES",
        "YOLO_WITH_IMAGES",
        "YOLO_OBB_WITH_IMAGES",
    }
)


@bp.get("/<int:project_id>/export/formats")
@api_login_required
def export_formats(project_id: int) -> Any:
    """Lists every export format as Label Studio does, marking those the config cannot use."""
    project = authorize_project(db.session, g.user, Action.VIEW, project_id).project
    offered = {f.name for f in export_service.available_formats(project)}
    return jsonify(
        [
            {
                "name": f.name,
                "title": f.title,
                "description": f.description,
                "link": (
                    _LS_EXPORT_GUIDE.format(anchor=f.name.removesuffix("_WITH_IMAGES"))
                    if f.name in _LS_FORMATS
                    else None
                ),
                "tags": [],
                "disabled": f.name not in offered,
            }
            for f in export_service.all_formats()
        ]
    )


@bp.get("/<int:project_id>/members")
@api_login_required
def list_members(project_id: int) -> Any:
    """Lists the project's members and their roles."""
    project = authorize_project(db.session, g.user, Action.VIEW, project_id).project
    return jsonify(
        [
            {"user": m.user_id, "email": m.user.email, "role": m.role}
            for m in project_service.members(db.session, project.id)
        ]
    )


@bp.post("/<int:project_id>/members")
@api_login_required
@accepts(MemberIn)
def add_member(project_id: int) -> Any:
    """Adds a user (by id or email) to the project with a role (managers).

    A non-administrator adding by email gets 202 and the same body whether or not the account
    exists; by id, only people who share a project with the caller can be named (see
    ``services.projects.add_member``).
    """
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    body = read_body()
    role = body.role
    if body.user is not None:
        member = project_service.add_member(
            db.session, project, role=role, by=g.user, user_id=body.user
        )
    else:
        member = project_service.add_member(
            db.session, project, role=role, by=g.user, email=body.email
        )
    db.session.commit()
    if member is None or (body.email is not None and not g.user.is_admin):
        return jsonify(
            {
                "detail": f"if {body.email} has an account, they are now {role} of this project",
                "email": body.email,
                "role": role,
            }
        ), 202
    return jsonify({"user": member.user_id, "email": member.user.email, "role": member.role}), 201


@bp.patch("/<int:project_id>/members/<int:user_id>")
@api_login_required
@accepts(MemberRoleIn)
def change_member_role(project_id: int, user_id: int) -> Any:
    """Changes a member's role ``{"role": ...}`` (managers); the last manager stays manager."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    member = project_service.change_member_role(
        db.session, project, user_id, read_body().role, by=g.user
    )
    db.session.commit()
    return jsonify({"user": member.user_id, "email": member.user.email, "role": member.role})


@bp.delete("/<int:project_id>/members/<int:user_id>")
@api_login_required
def remove_member(project_id: int, user_id: int) -> Any:
    """Removes a member from the project (managers); the last manager cannot be removed."""
    return _remove_member(project_id, user_id)


def _remove_member(project_id: int, user_id: int) -> Any:
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    project_service.remove_member(db.session, project, user_id, by=g.user)
    db.session.commit()
    return "", 204


_MEMBER_QUERY = (QueryParam("user", "integer", "The member to remove.", minimum=1),)


@bp.delete("/<int:project_id>/members")
@api_login_required
@accepts(query=_MEMBER_QUERY)
def remove_member_named_in_query(project_id: int) -> Any:
    """Removes the member ``?user=<id>`` names (Label Studio's SDK form of the call)."""
    if "user" not in request.args:
        raise invalid("user", "name the member to remove with ?user=<id>")
    return _remove_member(project_id, _MEMBER_QUERY[0].get())


@bp.post("/<int:project_id>/import/predictions")
@api_login_required
@accepts(PredictionIn, kind="list")
def import_predictions(project_id: int) -> Any:
    """Adds predictions in bulk: a list of ``{task, result, score?, model_version?}``."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    items = [item.fields_set() for item in read_body()]
    rows = prediction_service.create_predictions(db.session, project, items, now=utcnow())
    db.session.commit()
    return jsonify({"created": len(rows), "predictions": [prediction_json(r) for r in rows]}), 201
