"""The pipeline page's primary button: the step that makes sense for the project's state."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.clock import utcnow
from labelops.db.models import DatasetVersionRow
from labelops.services import pipeline_views as view_service
from labelops.services.annotations import create_annotation
from labelops.services.storages import create_storage
from tests.factories import make_project, make_tasks, make_user


def _step(session: Session, project_id: int) -> str:
    overview = view_service.PipelineOverview(
        storages=view_service.storage_service.list_storages(session, project_id),
        runs=[],
        datasets=list(
            session.scalars(
                sa.select(DatasetVersionRow).where(DatasetVersionRow.project_id == project_id)
            )
        ),
        agreement_at=None,
    )
    return view_service.next_step(session, project_id, overview)


def test_next_step_follows_the_project_from_empty_to_trained(session: Session) -> None:
    manager = make_user(session, "manager@example.com")
    project = make_project(session, manager)
    assert _step(session, project.id) == view_service.CONNECT_STORAGE
    create_storage(session, project, kind="s3", bucket="out", direction="export")
    assert _step(session, project.id) == view_service.CONNECT_STORAGE  # an export target only
    create_storage(session, project, kind="s3", bucket="raw", prefix="in/")
    assert _step(session, project.id) == "sync-storage"
    tasks = make_tasks(session, project, 2)
    assert _step(session, project.id) == "preannotate"
    create_annotation(
        session,
        tasks[0],
        user_id=manager.id,
        result=[
            {
                "from_name": "sentiment",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["Positive"]},
            }
        ],
        now=utcnow(),
    )
    assert _step(session, project.id) == "export-dataset"
    session.add(
        DatasetVersionRow(project_id=project.id, version="ab" * 32, uri="file:///v1", num_tasks=1)
    )
    session.flush()
    assert _step(session, project.id) == "train"


def test_uploaded_tasks_without_storage_go_to_preannotation(session: Session) -> None:
    project = make_project(session, make_user(session, "manager@example.com"))
    make_tasks(session, project, 1)
    assert _step(session, project.id) == "preannotate"
