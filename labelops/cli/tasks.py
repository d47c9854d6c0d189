"""`labelops import`: task files into a project."""

import os
import sys
from pathlib import Path

import click
from sqlalchemy.orm import Session
from tqdm import tqdm

from labelops.cli.context import _Context, _engine, home_option
from labelops.domain.errors import LabelopsError
from labelops.services.imports import ImportOptions, ImportSource, import_source
from labelops.services.media import UploadStore
from labelops.services.projects import get_project


@click.command("import")
@click.argument("project_id", type=int)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--dedupe", is_flag=True, help="Skip tasks whose data is already in the project.")
@click.option(
    "--format",
    "fmt",
    default=None,
    help="json, jsonl, csv, tsv, txt, parquet, JSON_MIN, COCO, VOC, YOLO, CONLL2003 or ZIP "
    "(default: from the file name; images, audio, video and other data files become one "
    "task each).",
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
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse annotations and predictions that do not fit the labeling config (default: "
    "keep them, as Label Studio does, and list them).",
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
    strict: bool,
) -> None:
    """Import task files into a project: all rows of all files, or nothing.

    An operator command (see ``labelops --help``): it runs with the local administrator's
    access, not as a project member.
    """
    settings = obj.settings
    store = UploadStore.for_settings(settings)
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
                    options = ImportOptions(
                        format_name=fmt,
                        as_=as_,  # type: ignore[arg-type]
                        dedupe=dedupe,
                        strict=strict,
                        map_annotators_by_email=map_annotators_by_email,
                        store=store,
                        progress=lambda _rows: bar.update(source.tell() - bar.n),
                    )
                    report = import_source(
                        session, target, ImportSource.of_stream(name, source), options
                    )
                total += report.num_tasks
                click.echo(
                    f"{path}: {report.num_tasks} tasks, {report.num_annotations} annotations, "
                    f"{report.num_predictions} predictions, "
                    f"{report.num_duplicates} duplicates skipped"
                )
                for problem in report.problems:
                    click.echo(
                        f"{path}: row {problem['row']}, {problem['field']}: kept although "
                        f"{problem['message']}",
                        err=True,
                    )
            session.commit()
        except LabelopsError as exc:
            session.rollback()
            store.discard()
            raise click.ClickException(f"nothing imported: {exc}") from exc
    click.echo(f"imported {total} tasks into project {project_id}")
