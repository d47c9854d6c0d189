import io
import json
import zipfile

import pytest

from labelops.domain.errors import TaskImportError, UnknownFormatError
from labelops.domain.formats.options import ExportOptions
from labelops.domain.formats.registry import get_export_format, get_import_format
from tests.domain.formats import test_writers_text as text_case
from tests.domain.formats import test_writers_vision as vision_case
from tests.domain.formats.helpers import IMAGE_BOXES, TEXT_NER, ann, rect, task


def export(name: str, tasks, cfg) -> bytes:
    return b"".join(get_export_format(name).stream(iter(tasks), cfg, ExportOptions()))


def read(name: str, data: bytes, cfg, **kw):
    fmt = get_import_format(name)
    return list(fmt.read(io.BytesIO(data), cfg, source_name="f", **kw))


def values(result: list[dict]) -> list[tuple]:
    return sorted((r["from_name"], json.dumps(r["value"], sort_keys=True)) for r in result)


def test_ls_json_round_trip_keeps_results_and_maps_annotators() -> None:
    tasks = read("JSON", export("JSON", text_case.TASKS, TEXT_NER), TEXT_NER)
    first = tasks[0]
    assert first.data == text_case.T1.data
    originals = {a.id: a for a in text_case.T1.annotations}
    by_email = {a.completed_by_email: a for a in first.annotations}
    # int id -> imported-<id>; email kept; cancelled one kept as cancelled
    assert set(by_email) == {"imported-1", "x@y.z", "imported-3"}
    assert all(a.completed_by is None for a in first.annotations)
    assert by_email["imported-1"].result == originals[11].result
    assert by_email["imported-3"].was_cancelled
    assert first.predictions[0].model_version == "m1"


def test_ls_json_user_object_completed_by_uses_email() -> None:
    item = {
        "data": {"text": "a"},
        "annotations": [{"result": [], "completed_by": {"id": 5, "email": "u@x"}}],
    }
    (t,) = read("JSON", json.dumps([item]).encode(), TEXT_NER)
    assert t.annotations[0].completed_by_email == "u@x"


def test_import_as_predictions_drops_cancelled() -> None:
    tasks = read("JSON", export("JSON", text_case.TASKS, TEXT_NER), TEXT_NER, as_="predictions")
    assert tasks[0].annotations == ()
    assert len(tasks[0].predictions) == 3  # the original prediction + two annotations


@pytest.mark.parametrize("name", ["JSON_MIN", "CSV", "TSV"])
def test_flat_formats_round_trip(name: str) -> None:
    tasks = read(name, export(name, text_case.TASKS, TEXT_NER), TEXT_NER)
    assert [t.data["text"] for t in tasks] == [t.data["text"] for t in text_case.TASKS]
    first = tasks[0]
    assert len(first.annotations) == 2
    exported = [a for a in text_case.T1.annotations if not a.was_cancelled]
    assert sorted(values(a.result) for a in first.annotations) == sorted(
        values(a.result) for a in exported
    )
    assert {a.completed_by_email for a in first.annotations} == {"imported-1", "x@y.z"}
    assert tasks[1].annotations == ()


def test_conll_round_trip_gives_spans_on_space_joined_tokens() -> None:
    data = export("CONLL2003", text_case.TASKS[:1], TEXT_NER)
    tasks = read("CONLL2003", data, TEXT_NER)
    # each CJK character is its own CONLL token, so the joined text has a space between them
    assert tasks[0].data["text"] == "Ана 🙂 visited 東 京 today ."
    spans = [(r["value"]["text"], r["value"]["labels"]) for r in tasks[0].annotations[0].result]
    assert spans == [("today .", ["ORG"])]
    spans = [(r["value"]["text"], r["value"]["labels"]) for r in tasks[1].annotations[0].result]
    assert spans == [("Ана", ["PER"]), ("東 京", ["LOC"])]


def test_conll_bad_tag_names_the_row() -> None:
    with pytest.raises(TaskImportError, match="row 2"):
        read("CONLL2003", b"-DOCSTART- -X- O\nword -X- _ X-PER\n", TEXT_NER)


def boxes(result: list[dict]) -> list[tuple]:
    return sorted(
        (
            r["value"]["rectanglelabels"][0],
            r["value"]["x"],
            r["value"]["y"],
            r["value"]["width"],
            r["value"]["height"],
        )
        for r in result
        if r["type"] == "rectanglelabels"
    )


UNROTATED = [
    task(
        {"image": "s3://b/a/cat.jpg"},
        ann([rect(10.1, 20.2, 30.3, 40.4, "Car", "Person")], id=1),
        id=1,
    ),
    task(
        {"image": "s3://b/b/cat.jpg"},
        ann([rect(1.5, 2.5, 3.5, 4.5, "Bike", size=(333, 77))], id=2),
        id=2,
    ),
]
EXPECTED = [
    [("Car", 10.1, 20.2, 30.3, 40.4), ("Person", 10.1, 20.2, 30.3, 40.4)],
    [("Bike", 1.5, 2.5, 3.5, 4.5)],
]


def assert_boxes(tasks, expected=EXPECTED) -> None:
    assert len(tasks) == len(expected)
    for t, want in zip(tasks, expected, strict=True):
        got = boxes(t.annotations[0].result)
        assert [g[0] for g in got] == [w[0] for w in want]
        assert [g[1:] for g in got] == [pytest.approx(w[1:], abs=1e-6) for w in want]


def test_coco_round_trip_within_1e6_percent() -> None:
    data = zipfile.ZipFile(io.BytesIO(export("COCO", UNROTATED, IMAGE_BOXES))).read("result.json")
    tasks = read("COCO", data, IMAGE_BOXES)
    # result.json alone names the images by their paths inside the export's zip
    assert [t.data["image"] for t in tasks] == ["images/cat.jpg", "images/b_cat.jpg"]
    assert_boxes(tasks)
    assert tasks[1].annotations[0].result[0]["original_width"] == 333


def test_coco_polygon_round_trip() -> None:
    data = zipfile.ZipFile(io.BytesIO(export("COCO", vision_case.TASKS[1:2], IMAGE_BOXES))).read(
        "result.json"
    )
    (t,) = read("COCO", data, IMAGE_BOXES)
    (item,) = t.annotations[0].result
    assert item["value"]["polygonlabels"] == ["Road"]
    flat = [c for point in item["value"]["points"] for c in point]
    assert flat == pytest.approx([0, 0, 50, 0, 50, 50])


def test_yolo_zip_round_trip_with_image_sizes() -> None:
    data = export("YOLO", UNROTATED, IMAGE_BOXES)
    sizes = {"s3://b/a/cat.jpg": (200, 100), "s3://b/b/cat.jpg": (333, 77)}
    tasks = read("YOLO", data, IMAGE_BOXES, image_sizes=sizes)
    by_url = {t.data["image"]: t for t in tasks}
    assert_boxes([by_url["s3://b/a/cat.jpg"], by_url["s3://b/b/cat.jpg"]])


def test_yolo_without_size_names_the_image() -> None:
    data = export("YOLO", UNROTATED, IMAGE_BOXES)
    with pytest.raises(TaskImportError, match=r"s3://b/b/cat\.jpg"):
        read("YOLO", data, IMAGE_BOXES, image_sizes={"cat.jpg": (200, 100)})


def test_voc_zip_round_trip_is_within_half_a_pixel() -> None:
    tasks = read("ZIP", export("VOC", UNROTATED, IMAGE_BOXES), IMAGE_BOXES)
    # the zip's image_sources.tsv gives each image its own URL back
    assert sorted(t.data["image"] for t in tasks) == ["s3://b/a/cat.jpg", "s3://b/b/cat.jpg"]
    by_name = {t.data["image"]: t for t in tasks}
    (bike,) = boxes(by_name["s3://b/b/cat.jpg"].annotations[0].result)
    # 1.5% of 333 px = 4.995 px -> 5 px -> 1.5015%: VOC rounds to whole pixels
    assert bike[1] == pytest.approx(1.5, abs=100 * 0.5 / 333)


@pytest.mark.parametrize(
    ("inner", "cfg"), [("JSON", TEXT_NER), ("JSON_MIN", TEXT_NER), ("CSV", TEXT_NER)]
)
def test_zip_detects_the_format_inside(inner: str, cfg) -> None:
    buffer = io.BytesIO()
    ext = ".csv" if inner == "CSV" else ".json"
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(f"export{ext}", export(inner, text_case.TASKS, cfg))
    tasks = read("ZIP", buffer.getvalue(), cfg)
    assert [t.data["text"] for t in tasks] == [t.data["text"] for t in text_case.TASKS]


def test_zip_coco_and_yolo_detected() -> None:
    assert len(read("ZIP", export("COCO", UNROTATED, IMAGE_BOXES), IMAGE_BOXES)) == 2
    sizes = {"cat.jpg": (200, 100), "b_cat": (333, 77)}
    assert (
        len(read("ZIP", export("YOLO", UNROTATED, IMAGE_BOXES), IMAGE_BOXES, image_sizes=sizes))
        == 2
    )


def test_malformed_files_raise_task_import_errors_naming_the_source() -> None:
    with pytest.raises(TaskImportError, match=r"^f"):
        read("COCO", b"{}", IMAGE_BOXES)
    with pytest.raises(TaskImportError, match="not a ZIP"):
        read("ZIP", b"nope", IMAGE_BOXES)
    with pytest.raises(TaskImportError, match="field 'sentiment'"):
        read("JSON_MIN", json.dumps([{"text": "a", "sentiment": 3}]).encode(), TEXT_NER)


def test_unknown_import_format() -> None:
    with pytest.raises(UnknownFormatError, match="expected one of JSON"):
        get_import_format("PASCAL")
