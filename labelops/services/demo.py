"""The demo project shipped in the package: product reviews to classify by sentiment."""

from importlib import resources

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import ProjectRow, UserRow
from labelops.services.imports import ImportOptions, ImportSource, import_source
from labelops.services.projects import create_project

DEMO_TITLE = "Demo: product review sentiment"


def ensure_demo_project(session: Session, owner: UserRow) -> ProjectRow:
    """Returns the demo project, creating it with its 50 shipped reviews the first time."""
    existing = session.scalar(sa.select(ProjectRow).where(ProjectRow.title == DEMO_TITLE))
    if existing is not None:
        return existing
    demo = resources.files("labelops.demo")
    project = create_project(
        session,
        created_by=owner,
        title=DEMO_TITLE,
        description="Fifty short product reviews. Pick the sentiment of each one.",
        label_config=demo.joinpath("sentiment.xml").read_text(),
        expert_instruction="Choose Positive, Negative or Neutral for the review as a whole.",
        show_instruction=True,
    )
    import_source(
        session,
        project,
        ImportSource(name="reviews.json", opener=lambda: demo.joinpath("reviews.json").open("rb")),
        ImportOptions(created_by_id=owner.id),
    )
    return project
