"""The format catalog decides what each imported file is, for every entry point."""

import pytest

from labelops.domain.errors import TaskImportError, UnknownFormatError
from labelops.domain.formats.registry import accepted_extensions, plan_import
from labelops.domain.label_config import parse_label_config

TEXT = parse_label_config(
    '<View><Text name="t" value="$text"/>'
    '<Choices name="c" toName="t"><Choice value="a"/></Choices></View>'
)
MEDIA = parse_label_config(
    '<View><Image name="i" value="$image"/><Audio name="a" value="$audio"/>'
    '<Choices name="c" toName="i"><Choice value="a"/></Choices></View>'
)
SERIES = parse_label_config(
    '<View><TimeSeries name="ts" value="$csv" valueType="url" timeColumn="time">'
    '<Channel column="v"/></TimeSeries>'
    '<TimeSeriesLabels name="l" toName="ts"><Label value="x"/></TimeSeriesLabels></View>'
)
DOCUMENT = parse_label_config(
    '<View><HyperText name="h" value="$page" valueType="url"/>'
    '<Choices name="c" toName="h"><Choice value="a"/></Choices></View>'
)


@pytest.mark.parametrize(
    ("name", "config", "reads", "fmt", "field"),
    [
        ("tasks.json", TEXT, "rows", "json", None),
        ("TASKS.NDJSON", TEXT, "rows", "jsonl", None),  # case-insensitive
        ("lines.txt", TEXT, "rows", "txt", "text"),  # one task per line into the one field
        ("boxes.xml", TEXT, "annotated", "VOC", None),
        ("export.zip", TEXT, "annotated", "ZIP", None),
        ("drawing.svg", MEDIA, "data", "image", "image"),
        ("voice.opus", MEDIA, "data", "audio", "audio"),
        ("readings.csv", SERIES, "data", "csv", "csv"),  # the header does not name $csv
        ("page.html", DOCUMENT, "data", "html", "page"),
        ("page.txt", DOCUMENT, "data", "txt", "page"),  # valueType="url" reads a text file
    ],
)
def test_plans_each_file_by_its_extension_and_the_config(
    name: str, config: object, reads: str, fmt: str, field: str | None
) -> None:
    plan = plan_import(name, config, header=lambda: ["time", "v"])
    assert (plan.reads, plan.format, plan.data_field) == (reads, fmt, field)


def test_a_csv_whose_header_names_the_series_field_is_a_task_list() -> None:
    assert plan_import("list.csv", SERIES, header=lambda: ["csv", "note"]).reads == "rows"
    assert plan_import("list.csv", SERIES, as_tasks_list=True).reads == "rows"
    assert plan_import("list.csv", SERIES, as_tasks_list=False).reads == "data"


def test_the_content_type_decides_when_the_extension_does_not() -> None:
    assert plan_import("upload", MEDIA, content_type="image/webp").format == "image"
    assert plan_import("request body", TEXT, content_type="application/json").format == "json"


def test_a_named_format_wins_and_predictions_need_an_importer() -> None:
    assert plan_import("a.json", TEXT, format_name="JSON_MIN").format == "JSON_MIN"
    assert plan_import("a.json", TEXT, as_="predictions").format == "JSON"
    with pytest.raises(UnknownFormatError, match="PASCAL"):
        plan_import("a.json", TEXT, format_name="PASCAL")


def test_a_data_file_the_config_cannot_show_is_refused_naming_the_file() -> None:
    with pytest.raises(TaskImportError) as caught:
        plan_import("song.mp3", TEXT)
    assert caught.value.source == "song.mp3"
    assert "no object tag reading audio files" in caught.value.message


def test_plain_text_needs_a_config_with_one_data_field() -> None:
    with pytest.raises(TaskImportError, match="2 data fields"):
        plan_import("lines.txt", MEDIA)


def test_an_unknown_extension_lists_what_the_import_takes() -> None:
    with pytest.raises(UnknownFormatError, match=r"cannot import 'notes\.docx'.*\.svg"):
        plan_import("notes.docx", TEXT)


def test_the_page_offers_the_data_files_the_config_reads() -> None:
    offered = accepted_extensions(MEDIA)
    assert ".opus" in offered and ".svg" in offered and ".json" in offered
    assert ".mp4" not in offered and ".pdf" not in offered
