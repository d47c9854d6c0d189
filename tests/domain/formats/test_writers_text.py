import csv
import io
import json
from pathlib import Path

import pytest

from labelops.domain.errors import UnknownFormatError
from labelops.domain.formats.options import ExportOptions
from labelops.domain.formats.registry import (
    EXPORT_FORMATS,
    get_export_format,
    supported_export_formats,
)
from labelops.domain.formats.writers_text import iob_tags, tokenize
from labelops.domain.records import Prediction
from tests.domain.formats.helpers import (
    IMAGE_BOXES,
    TEXT_NER,
    ann,
    at,
    choice,
    config,
    span,
    task,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "formats"

# "Ана 🙂 visited 東京 today." : Ана 0-3, 🙂 4, visited 6-13, 東京 14-16, today 17-22, "." 22
TEXT = "Ана 🙂 visited 東京 today."
T1 = task(
    {"text": TEXT},
    # span at the text start (0) and a CJK span; one choice
    ann(
        [span(0, 3, "Ана", "PER"), span(14, 16, "東京", "LOC"), choice("pos")],
        id=11,
        completed_by=1,
        created_at=at(1),
        lead_time=2.5,
    ),
    # second annotator (imported, known by email): span at the text end; two choices
    ann(
        [span(17, 23, "today.", "ORG"), choice("pos", "neg")],
        id=12,
        completed_by_email="x@y.z",
        created_at=at(2),
    ),
    ann([], id=13, completed_by=3, was_cancelled=True, created_at=at(3)),
    id=1,
    predictions=(Prediction(result=[choice("neg")], model_version="m1", score=0.5),),
)
T2 = task({"text": "No labels here", "meta_info": {"k": [1, 2]}}, id=2)
T3 = task({"text": "cancelled only"}, ann([], id=31, completed_by=1, was_cancelled=True), id=3)
TASKS = [T1, T2, T3]


def export(name: str, tasks=TASKS, cfg=TEXT_NER, options: ExportOptions | None = None) -> bytes:
    return b"".join(get_export_format(name).stream(iter(tasks), cfg, options or ExportOptions()))


@pytest.mark.parametrize(
    ("name", "fixture"),
    [
        ("JSON_MIN", "ner.json_min.json"),
        ("CSV", "ner.csv"),
        ("TSV", "ner.tsv"),
        ("CONLL2003", "ner.conll"),
        ("SPACY", "ner.spacy.jsonl"),
    ],
)
def test_export_matches_hand_checked_file(name: str, fixture: str) -> None:
    assert export(name) == (FIXTURES / fixture).read_bytes()


def test_export_twice_gives_identical_bytes() -> None:
    for name in ("JSON", "JSON_MIN", "CSV", "CONLL2003", "SPACY"):
        assert export(name) == export(name)


def test_json_is_label_studio_task_json_with_cancelled_and_predictions() -> None:
    items = json.loads(export("JSON"))
    assert [t["id"] for t in items] == [1, 2, 3]
    first = items[0]
    assert set(first) == {
        "id",
        "data",
        "meta",
        "annotations",
        "predictions",
        "created_at",
        "updated_at",
    }
    # newest first, cancelled kept (Label Studio's JSON export lists them)
    assert [a["id"] for a in first["annotations"]] == [13, 12, 11]
    assert first["annotations"][0]["was_cancelled"] is True
    assert first["predictions"][0]["model_version"] == "m1"
    assert first["data"]["text"] == TEXT


def test_json_without_predictions_and_only_annotated_tasks() -> None:
    options = ExportOptions(include_predictions=False, download_all_tasks=False)
    items = json.loads(export("JSON", options=options))
    # task 2 has no annotation; task 3 has a cancelled one, which the JSON export lists
    assert [t["id"] for t in items] == [1, 3]
    assert items[0]["predictions"] == []


def test_json_of_no_tasks_is_an_empty_list() -> None:
    assert json.loads(export("JSON", tasks=[])) == []
    assert json.loads(export("JSON_MIN", tasks=[])) == []


def test_json_min_records_newest_first_with_prettified_values() -> None:
    records = json.loads(export("JSON_MIN"))
    assert [(r["id"], r["annotation_id"]) for r in records] == [
        (1, 12),
        (1, 11),
        (2, None),
        (3, None),
    ]
    assert records[0]["sentiment"] == ["pos", "neg"]  # several choices: a list
    assert records[1]["sentiment"] == "pos"  # one choice: a string
    assert records[1]["label"][0] == {"start": 0, "end": 3, "text": "Ана", "labels": ["PER"]}
    assert records[0]["annotator"] == "x@y.z" and records[1]["annotator"] == 1


def test_json_min_rectangles_keep_original_size() -> None:
    from tests.domain.formats.helpers import rect

    t = task({"image": "a.jpg"}, ann([rect(10, 20, 30, 40, "Car")], id=1))
    (record,) = json.loads(export("JSON_MIN", [t], IMAGE_BOXES))
    assert record["label"] == [
        {
            "x": 10,
            "y": 20,
            "width": 30,
            "height": 40,
            "rotation": 0,
            "rectanglelabels": ["Car"],
            "original_width": 200,
            "original_height": 100,
        }
    ]


def test_csv_reads_back_with_json_encoded_nested_values() -> None:
    rows = list(csv.DictReader(io.StringIO(export("CSV").decode())))
    assert len(rows) == 4
    assert json.loads(rows[1]["label"])[1]["text"] == "東京"
    assert rows[0]["sentiment"] == '["pos", "neg"]'


def test_csv_renames_data_key_colliding_with_a_control() -> None:
    cfg = config(
        """<View><Text name="text" value="$text"/>
        <Choices name="sentiment" toName="text"><Choice value="a"/></Choices></View>"""
    )
    t = task({"text": "hi", "sentiment": "raw"}, ann([choice("a")], id=1))
    (row,) = csv.DictReader(io.StringIO(export("CSV", [t], cfg).decode()))
    assert row["_data_sentiment"] == "raw" and row["sentiment"] == "a"


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        # words, numbers with inner separators, punctuation each on its own
        ("It costs $1,000.50, ok?", ["It", "costs", "$", "1,000.50", ",", "ok", "?"]),
        # hyphens and inner apostrophes stay; a contraction's n't is a token (Penn Treebank)
        ("don't state-of-the-art O'Neil", ["do", "n't", "state-of-the-art", "O'Neil"]),
        # possessive 's (straight or curly apostrophe) and a plural possessive's bare '
        (
            "Saldaña's Saldaña\u2019s players'",
            ["Saldaña", "'s", "Saldaña", "\u2019s", "players", "'"],
        ),
        # a combining tilde (decomposed ñ) stays inside its word
        ("Saldan\u0303a", ["Saldan\u0303a"]),
        # abbreviations keep their dots; an ellipsis is one token
        ("U.S. troops... now.", ["U.S.", "troops", "...", "now", "."]),
        # each Chinese/Japanese character is a token; an emoji is one token
        ("東京に🙂", ["東", "京", "に", "🙂"]),
        ("", []),
    ],
)
def test_tokenizer(text: str, tokens: list[str]) -> None:
    assert [t for t, _, _ in tokenize(text)] == tokens
    assert all(text[s:e] == t for t, s, e in tokenize(text))


@pytest.mark.parametrize(
    ("text", "spans", "expected"),
    [
        # a span ending inside a word cuts it: "Yorker" is "York" (in) + "er" (out)
        ("New Yorker", [(0, 8, "LOC")], [("New", "B-LOC"), ("York", "I-LOC"), ("er", "O")]),
        # hyphenated word: only "York" is in the span; "-based" stays outside
        (
            "York-based firm",
            [(0, 4, "LOC")],
            [("York", "B-LOC"), ("-based", "O"), ("firm", "O")],
        ),
        # possessive: the span is the name only, 's is O
        ("Saldaña's goal", [(0, 7, "PER")], [("Saldaña", "B-PER"), ("'s", "O"), ("goal", "O")]),
        # CJK without spaces: 北京 at 2-4 of 我爱北京天安门
        (
            "我爱北京天安门",
            [(2, 4, "LOC")],
            [
                *[("我", "O"), ("爱", "O"), ("北", "B-LOC"), ("京", "I-LOC")],
                *[("天", "O"), ("安", "O"), ("门", "O")],
            ],
        ),
        # Thai has no spaces and no per-character rule: the run is cut at the span's edges
        # (สวัสดี 0-6, กรุงเทพ 6-13)
        ("สวัสดีกรุงเทพ", [(6, 13, "LOC")], [("สวัสดี", "O"), ("กรุงเทพ", "B-LOC")]),
        # two spans inside one token are both kept (Label Studio loses the second)
        ("AB", [(0, 1, "X"), (1, 2, "Y")], [("A", "B-X"), ("B", "B-Y")]),
        # a span that starts inside a word
        ("Hello", [(1, 3, "X")], [("H", "O"), ("el", "B-X"), ("lo", "O")]),
        # punctuation inside the span is tagged, outside it is not
        (
            "Visit New York, now.",
            [(6, 15, "LOC")],
            [
                *[("Visit", "O"), ("New", "B-LOC"), ("York", "I-LOC"), (",", "I-LOC")],
                *[("now", "O"), (".", "O")],
            ],
        ),
        # overlapping spans: a token takes the span that starts first
        (
            "ab cd ef",
            [(3, 8, "A"), (0, 5, "B")],
            [("ab", "B-B"), ("cd", "I-B"), ("ef", "B-A")],
        ),
    ],
)
def test_tokens_are_cut_at_span_edges(
    text: str, spans: list[tuple[int, int, str]], expected: list[tuple[str, str]]
) -> None:
    assert iob_tags(text, spans) == expected


def test_conll_file_keeps_each_span_to_its_own_text() -> None:
    # "Saldaña's goal in 北京." : Saldaña 0-7, 's 7-9, goal 10-14, in 15-17, 北 18, 京 19, . 20
    text = "Saldaña's goal in 北京."
    t = task(
        {"text": text},
        ann([span(0, 7, "Saldaña", "PER"), span(18, 20, "北京", "LOC")], id=1),
    )
    assert export("CONLL2003", [t]).decode() == (
        "-DOCSTART- -X- O\n"
        "Saldaña -X- _ B-PER\n"
        "'s -X- _ O\n"
        "goal -X- _ O\n"
        "in -X- _ O\n"
        "北 -X- _ B-LOC\n"
        "京 -X- _ I-LOC\n"
        ". -X- _ O\n"
        "\n"
    )


def test_adjacent_spans_of_same_label_each_start_with_b() -> None:
    assert iob_tags("a b", [(0, 1, "X"), (2, 3, "X")]) == [("a", "B-X"), ("b", "B-X")]


def test_unknown_export_format_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownFormatError, match=r"unknown export format 'XML'.*JSON_MIN"):
        get_export_format("XML")


def test_format_lookup_is_case_insensitive() -> None:
    assert get_export_format("json_min").name == "JSON_MIN"


def test_text_project_offers_conll_but_not_vision_formats() -> None:
    names = {f.name for f in supported_export_formats(TEXT_NER)}
    assert {"JSON", "JSON_MIN", "CSV", "TSV", "CONLL2003", "SPACY"} <= names
    assert not names & {"COCO", "VOC", "YOLO"}


def test_several_data_keys_offer_only_the_flat_formats() -> None:
    cfg = config(
        """<View><Text name="a" value="$a"/><Text name="b" value="$b"/>
        <Labels name="l" toName="a"><Label value="X"/></Labels></View>"""
    )
    names = {f.name for f in supported_export_formats(cfg)}
    assert names == {"JSON", "JSON_MIN", "CSV", "TSV"} | (
        {"PARQUET", "HF_DATASET"} & set(EXPORT_FORMATS)
    )


def test_every_format_describes_its_download() -> None:
    for fmt in EXPORT_FORMATS.values():
        assert fmt.title and fmt.description and fmt.media_type and fmt.extension.startswith(".")
