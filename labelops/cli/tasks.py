"""`labelops import`: task files into a project."""

import os
import sys
from pathlib import Path

import click
from sqlalchemy.orm import Session
from tqdm import tqdm

from labelops.cli.context import _Context, _engine, home_option
from labelops.domain.errors import LabelopsError
from labelops.services.imports import import_file
from labelops.services.projects import get_project


@click.command("import")
@click.argument("project_id", type=int)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--dedupe", is_flag=True, help="Skip tasks whose data is already in the project.")
@click.option(
    "--format",
    "fmt",
    default=None,
    help="json, jsonl, csv, tsv, parquet, JSON_MIN, COCO, VOC, YOLO, CONLL2003 or ZIP "
    "(default: from the file name).",
)
@click.option(
    "--as",
    "as_",
    type=click.Choice(["annotations", "predictions"]),
    default="annotations",
    show_default=True,
    help="What the results in an annotated file become.",
)
@click.option(
    "--map-annotators-by-email",
    is_flag=True,
    help="Attribute imported annotations whose email belongs to a project member to that "
    "member (default: each annotator in the file becomes a separate import user).",
)
@home_option
@click.pass_obj
def import_command(
    obj: _Context,
    project_id: int,
    files: tuple[str, ...],
    dedupe: bool,
    fmt: str | None,
    as_: str,
    map_annotators_by_email: bool,
) -> None:
    """Import task files into a project: all rows of all files, or nothing."""
    settings = obj.settings
    with Session(_engine(settings)) as session:
        try:
            target = get_project(session, project_id)
            total = 0
            for path in files:
                name = Path(path).name
                with (
                    open(path, "rb") as source,
                    tqdm(
                        total=os.path.getsize(path),
                        desc=name,
                        unit="B",
                        unit_scale=True,
                        disable=not sys.stderr.isatty(),
                    ) as bar,
                ):
                    report = import_file(
                        session,
                        target,
                        source,
                        source_name=name,
                        format_name=fmt,
                        as_=as_,  # type: ignore[arg-type]
                        created_by_id=None,
                        dedupe=dedupe,
                        map_annotators_by_email=map_annotators_by_email,
                        progress=lambda _rows, f=source, b=bar: b.update(f.tell() - b.n),
                    )
                total += report.num_tasks
                click.echo(
                    f"{path}: {report.num_tasks} tasks, {report.num_annotations} annotations, "
                    f"{report.num_predictions} predictions, "
                    f"{report.num_duplicates} duplicates skipped"
                )
            session.commit()
        except LabelopsError as exc:
            session.rollback()
            raise click.ClickException(f"nothing imported: {exc}") from exc
    click.echo(f"imported {total} tasks into project {project_id}")
