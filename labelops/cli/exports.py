"""`labelops export`: a project in a Label Studio format, to a file."""

import sys
from pathlib import Path

import click
from sqlalchemy.orm import Session
from tqdm import tqdm

from labelops.cli.context import _Context, _engine, home_option
from labelops.domain.errors import LabelopsError
from labelops.domain.formats.options import ExportOptions
from labelops.services.exports import export_project, reads_images
from labelops.services.projects import get_project


@click.command("export")
@click.argument("project_id", type=int)
@click.option("--format", "fmt", default="JSON", show_default=True)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False))
@click.option("--all-tasks", is_flag=True, help="Include tasks without annotations.")
@click.option("--include-images", is_flag=True, help="Put the images in a COCO, VOC or YOLO* zip.")
@home_option
@click.pass_obj
def export_command(
    obj: _Context, project_id: int, fmt: str, out_path: str, all_tasks: bool, include_images: bool
) -> None:
    """Export a project in a Label Studio format, streamed to a file.

    An operator command (see ``labelops --help``): it runs with the local administrator's
    access, not as a project member.
    """
    settings = obj.settings
    engine = _engine(settings)
    with Session(engine) as session:
        try:
            target = get_project(session, project_id)
            media = None
            if reads_images(fmt, include_images):
                # Imported here: the object stores load Dagster, which other commands never need.
                from labelops.resources.bucket_media import export_media_reader

                media = export_media_reader(settings, lambda: Session(engine), project_id)
            export_format, chunks = export_project(
                session,
                target,
                fmt,
                download_all_tasks=all_tasks,
                options=ExportOptions(media=media),
            )
        except LabelopsError as exc:
            raise click.ClickException(str(exc)) from exc
        tmp = Path(out_path + ".part")
        with (
            tmp.open("wb") as out,
            tqdm(
                unit="B", unit_scale=True, desc=export_format.name, disable=not sys.stderr.isatty()
            ) as bar,
        ):
            for chunk in chunks:
                out.write(chunk)
                bar.update(len(chunk))
        tmp.replace(out_path)
    click.echo(f"wrote {out_path} ({export_format.name})")
