"""Relations in the flat exports: Label Studio's converter drops them (they have no from_name)."""

import csv
import io
import json

import pyarrow.parquet as pq
import pytest

from labelops.domain.formats.importers import JsonMinImport
from labelops.domain.formats.options import ExportOptions
from labelops.domain.formats.registry import get_export_format
from tests.domain.formats.helpers import ann, config, span, task

NER_RELATIONS = config(
    """<View>
  <Relations><Relation value="works_for"/><Relation value="located_in"/></Relations>
  <Labels name="label" toName="text">
    <Label value="PER"/><Label value="ORG"/><Label value="LOC"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>"""
)
TEXT = "Ada works at Acme in Paris"
RESULT = [
    span(0, 3, "Ada", "PER"),
    span(13, 17, "Acme", "ORG"),
    span(21, 26, "Paris", "LOC"),
    # two relations: one labeled pointing right, one unlabeled in both directions
    {"type": "relation", "from_id": "s0", "to_id": "s13", "direction": "right",
     "labels": ["works_for"]},
    {"type": "relation", "from_id": "s13", "to_id": "s21", "direction": "bi", "labels": []},
]  # fmt: skip
TASK = task({"text": TEXT}, ann(RESULT, id=7, completed_by=1), id=1)
EXPECTED = [
    {
        "from_id": "s0",
        "to_id": "s13",
        "direction": "right",
        "labels": ["works_for"],
        "from_labels": ["PER"],
        "to_labels": ["ORG"],
    },
    {
        "from_id": "s13",
        "to_id": "s21",
        "direction": "bi",
        "labels": [],
        "from_labels": ["ORG"],
        "to_labels": ["LOC"],
    },
]


def export(name: str, cfg=NER_RELATIONS) -> bytes:
    return b"".join(get_export_format(name).stream(iter([TASK]), cfg, ExportOptions()))


def test_json_min_keeps_both_relations_with_region_ids_and_labels() -> None:
    (record,) = json.loads(export("JSON_MIN"))
    assert record["relations"] == EXPECTED
    assert [s["text"] for s in record["label"]] == ["Ada", "Acme", "Paris"]


@pytest.mark.parametrize(("name", "delimiter"), [("CSV", ","), ("TSV", "\t")])
def test_csv_and_tsv_fill_the_relations_column(name: str, delimiter: str) -> None:
    (row,) = csv.DictReader(io.StringIO(export(name).decode()), delimiter=delimiter)
    assert json.loads(row["relations"]) == EXPECTED


def test_parquet_fills_the_relations_column() -> None:
    (row,) = pq.read_table(io.BytesIO(export("PARQUET"))).to_pylist()
    assert json.loads(row["relations"]) == EXPECTED


def test_relations_without_a_relations_tag_still_reach_json_min() -> None:
    cfg = config(
        """<View><Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/>
        <Label value="LOC"/></Labels><Text name="text" value="$text"/></View>"""
    )
    (record,) = json.loads(export("JSON_MIN", cfg))
    assert record["relations"] == EXPECTED


def test_json_min_with_relations_imports_its_spans_back() -> None:
    (imported,) = JsonMinImport().read(
        io.BytesIO(export("JSON_MIN")), NER_RELATIONS, source_name="export.json"
    )
    (annotation,) = imported.annotations
    assert [item["value"]["text"] for item in annotation.result] == ["Ada", "Acme", "Paris"]
