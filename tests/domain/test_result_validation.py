import copy
from typing import Any

import numpy as np
import pytest

from labelops.domain.brush_rle import encode_mask
from labelops.domain.errors import AnnotationError
from labelops.domain.label_config import LabelConfig, parse_label_config, validate_result

NER = parse_label_config(
    """<View>
  <Labels name="label" toName="text">
    <Label value="PER"/>
    <Label value="ORG" maxUsages="1"/>
    <Label value="LOC" alias="GPE"/>
  </Labels>
  <Text name="text" value="$text"/>
  <Relations><Relation value="works_for"/></Relations>
  <Choices name="sentiment" toName="text" required="true">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
</View>"""
)
TEXT = "Ann works for ACME in 東京 🎉 now."

IMAGE = parse_label_config(
    """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image">
    <Label value="Car"/><Label value="Bus"/>
  </RectangleLabels>
  <PolygonLabels name="poly" toName="image"><Label value="Road"/></PolygonLabels>
  <EllipseLabels name="ell" toName="image"><Label value="Ball"/></EllipseLabels>
  <KeyPointLabels name="kp" toName="image"><Label value="Nose"/></KeyPointLabels>
  <BrushLabels name="brush" toName="image"><Label value="Sky"/></BrushLabels>
  <TextArea name="caption" toName="image" perRegion="true" required="true"/>
  <Rating name="quality" toName="image" maxRating="3"/>
  <Number name="count" toName="image" min="0" max="10"/>
  <DateTime name="taken" toName="image"/>
</View>"""
)

MEDIA = parse_label_config(
    """<View>
  <Audio name="audio" value="$audio"/>
  <Labels name="speaker" toName="audio"><Label value="A"/></Labels>
  <TextArea name="transcript" toName="audio"/>
  <TimeSeries name="ts" value="$csv" valueType="url"><Channel column="v"/></TimeSeries>
  <TimeSeriesLabels name="activity" toName="ts"><Label value="Run"/></TimeSeriesLabels>
  <Video name="video" value="$video"/>
  <Labels name="videoLabels" toName="video"><Label value="Man"/></Labels>
  <VideoRectangle name="track" toName="video"/>
  <TimelineLabels name="timeline" toName="video"><Label value="Intro"/></TimelineLabels>
  <Text name="a" value="$a"/><Text name="b" value="$b"/>
  <Pairwise name="pair" toName="a,b"/>
  <Taxonomy name="tax" toName="a" maxUsages="2">
    <Choice value="Animals"><Choice value="Cats"/></Choice><Choice value="Plants"/>
  </Taxonomy>
  <HyperText name="html" value="$html"/>
  <HyperTextLabels name="html_ner" toName="html"><Label value="Title"/></HyperTextLabels>
  <Paragraphs name="dialogue" value="$dialogue"/>
  <ParagraphLabels name="intent" toName="dialogue"><Label value="Greeting"/></ParagraphLabels>
  <List name="items" value="$items"/>
  <Ranker name="rank" toName="items"/>
</View>"""
)


def span(start: int, end: int, label: str = "PER", **extra: Any) -> dict[str, Any]:
    value = {"start": start, "end": end, "text": TEXT[start:end], "labels": [label], **extra}
    return {
        "id": f"s{start}",
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": value,
    }


SENTIMENT = {
    "id": "c1",
    "from_name": "sentiment",
    "to_name": "text",
    "type": "choices",
    "value": {"choices": ["Positive"]},
}
NER_RESULT = [
    span(0, 3),
    span(14, 18, "ORG", score=0.93),
    span(22, 24, "GPE"),
    {
        "type": "relation",
        "from_id": "s0",
        "to_id": "s14",
        "direction": "right",
        "labels": ["works_for"],
    },
    SENTIMENT,
]

BOX = {
    "id": "r1",
    "from_name": "box",
    "to_name": "image",
    "type": "rectanglelabels",
    "original_width": 800,
    "original_height": 600,
    "image_rotation": 0,
    "value": {
        "x": 10.0,
        "y": 20.5,
        "width": 30,
        "height": 40,
        "rotation": 0,
        "rectanglelabels": ["Car"],
    },
}
IMAGE_RESULT = [
    BOX,
    {**BOX, "type": "rectangle", "value": {"x": 10.0, "y": 20.5, "width": 30, "height": 40}},
    {
        "id": "r1",
        "from_name": "caption",
        "to_name": "image",
        "type": "textarea",
        "value": {"x": 10.0, "y": 20.5, "width": 30, "height": 40, "text": ["red car"]},
    },
    {
        "id": "p1",
        "from_name": "poly",
        "to_name": "image",
        "type": "polygonlabels",
        "value": {"points": [[0, 0], [100, 0], [50.5, 99.9]], "polygonlabels": ["Road"]},
    },
    {
        "id": "e1",
        "from_name": "ell",
        "to_name": "image",
        "type": "ellipselabels",
        "value": {
            "x": 50,
            "y": 50,
            "radiusX": 5,
            "radiusY": 8,
            "rotation": 0,
            "ellipselabels": ["Ball"],
        },
    },
    {
        "id": "k1",
        "from_name": "kp",
        "to_name": "image",
        "type": "keypointlabels",
        "value": {"x": 99.9, "y": 0.1, "width": 0.5, "keypointlabels": ["Nose"]},
    },
    {
        "id": "b1",
        "from_name": "brush",
        "to_name": "image",
        "type": "brushlabels",
        "original_width": 2,
        "original_height": 2,
        "value": {"format": "rle", "rle": encode_mask(np.eye(2)), "brushlabels": ["Sky"]},
    },
    {"from_name": "quality", "to_name": "image", "type": "rating", "value": {"rating": 3}},
    {"from_name": "count", "to_name": "image", "type": "number", "value": {"number": 2.5}},
    {
        "from_name": "taken",
        "to_name": "image",
        "type": "datetime",
        "value": {"datetime": "2024-01-02"},
    },
]

MEDIA_RESULT = [
    {
        "id": "a1",
        "from_name": "speaker",
        "to_name": "audio",
        "type": "labels",
        "value": {"start": 0.5, "end": 2.25, "channel": 0, "labels": ["A"]},
    },
    {
        "from_name": "transcript",
        "to_name": "audio",
        "type": "textarea",
        "value": {"text": ["hello"]},
    },
    {
        "id": "t1",
        "from_name": "activity",
        "to_name": "ts",
        "type": "timeserieslabels",
        "value": {"start": 3, "end": 3, "instant": True, "timeserieslabels": ["Run"]},
    },
    {
        "id": "v1",
        "from_name": "track",
        "to_name": "video",
        "type": "videorectangle",
        "value": {
            "framesCount": 100,
            "duration": 4,
            "sequence": [
                {"frame": 1, "time": 0.04, "x": 1, "y": 2, "width": 3, "height": 4, "enabled": True}
            ],
            "labels": ["Man"],
        },
    },
    {
        "id": "tl1",
        "from_name": "timeline",
        "to_name": "video",
        "type": "timelinelabels",
        "value": {"ranges": [{"start": 1, "end": 25}], "timelinelabels": ["Intro"]},
    },
    {"from_name": "pair", "to_name": "a", "type": "pairwise", "value": {"selected": "left"}},
    {
        "from_name": "tax",
        "to_name": "a",
        "type": "taxonomy",
        "value": {"taxonomy": [["Animals", "Cats"], ["Plants"]]},
    },
    {
        "id": "h1",
        "from_name": "html_ner",
        "to_name": "html",
        "type": "hypertextlabels",
        "value": {
            "start": "/p[1]/text()[1]",
            "end": "/p[1]/text()[1]",
            "startOffset": 0,
            "endOffset": 5,
            "text": "Hello",
            "hypertextlabels": ["Title"],
        },
    },
    {
        "id": "d1",
        "from_name": "intent",
        "to_name": "dialogue",
        "type": "paragraphlabels",
        "value": {
            "start": "0",
            "end": "0",
            "startOffset": 0,
            "endOffset": 2,
            "paragraphlabels": ["Greeting"],
        },
    },
    {
        "from_name": "rank",
        "to_name": "items",
        "type": "ranker",
        "value": {"ranker": {"items": ["i2", "i1"]}},
    },
]


@pytest.mark.parametrize(
    ("config", "result", "data"),
    [
        # NER with a relation, an alias label, a score and emoji/CJK code-point offsets
        (NER, NER_RESULT, {"text": TEXT}),
        # the same without task data: spans are checked for shape only
        (NER, NER_RESULT, None),
        # every image shape, region + labels items sharing an id, per-region textarea
        (IMAGE, IMAGE_RESULT, None),
        # audio, time series, video, pairwise, taxonomy, HTML, dialogue and ranker
        (MEDIA, MEDIA_RESULT, None),
        # an empty result when nothing is required
        (IMAGE, [], None),
    ],
)
def test_accepts_label_studio_result(
    config: LabelConfig, result: list[dict[str, Any]], data: dict[str, Any] | None
) -> None:
    validate_result(config, result, data)


def test_text_offsets_are_python_code_points() -> None:
    start = TEXT.index("東京")
    assert TEXT[start : start + 2] == "東京"
    validate_result(NER, [span(start, start + 2, "LOC"), SENTIMENT], {"text": TEXT})
    emoji = TEXT.index("🎉")
    validate_result(NER, [span(emoji, emoji + 1), SENTIMENT], {"text": TEXT})


def broken(result: list[dict[str, Any]], index: int, path: str, new: Any) -> list[dict[str, Any]]:
    """Returns a deep copy of ``result`` with ``path`` (dotted) of item ``index`` set to ``new``."""
    copied = copy.deepcopy(result)
    target = copied[index]
    *parents, last = path.split(".")
    for key in parents:
        target = target[key]
    if new is KeyError:
        del target[last]
    else:
        target[last] = new
    return copied


@pytest.mark.parametrize(
    ("result", "index", "field"),
    [
        # not an object
        ([*NER_RESULT[:1], "PER"], 1, None),
        # missing from_name / value
        (broken(NER_RESULT, 0, "from_name", KeyError), 0, "from_name"),
        (broken(NER_RESULT, 1, "value", KeyError), 1, "value"),
        # value is not an object
        (broken(NER_RESULT, 0, "value", ["PER"]), 0, "value"),
        # from_name names no control
        (broken(NER_RESULT, 0, "from_name", "labels"), 0, "from_name"),
        # to_name is not one of the control's toName
        (broken(NER_RESULT, 4, "to_name", "image"), 4, "to_name"),
        # type does not fit the control
        (broken(NER_RESULT, 0, "type", "choices"), 0, "type"),
        # unknown label
        (broken(NER_RESULT, 2, "value.labels", ["MISC"]), 2, "value.labels"),
        # labels not a list of strings
        (broken(NER_RESULT, 0, "value.labels", "PER"), 0, "value.labels"),
        # two labels on a single-label region
        (broken(NER_RESULT, 0, "value.labels", ["PER", "LOC"]), 0, "value.labels"),
        # unknown choice
        (broken(NER_RESULT, 4, "value.choices", ["Meh"]), 4, "value.choices"),
        # single choice needs exactly one
        (broken(NER_RESULT, 4, "value.choices", ["Positive", "Negative"]), 4, "value.choices"),
        (broken(NER_RESULT, 4, "value.choices", []), 4, "value.choices"),
        # ORG has maxUsages=1: a second ORG region is rejected
        ([*NER_RESULT, {**span(0, 3, "ORG"), "id": "s99"}], 5, "value.labels"),
        # end before start / start negative / floats
        (broken(NER_RESULT, 0, "value.end", 0), 0, "value.end"),
        (broken(NER_RESULT, 0, "value.start", -1), 0, "value.end"),
        (broken(NER_RESULT, 0, "value.start", 0.5), 0, "value.start"),
        # end past the text
        (broken(NER_RESULT, 0, "value.end", len(TEXT) + 1), 0, "value.end"),
        # value.text differs from the task text at those offsets
        (broken(NER_RESULT, 0, "value.text", "Bob"), 0, "value.text"),
        # relation to a region that is not in the result
        (broken(NER_RESULT, 3, "to_id", "nope"), 3, "to_id"),
        (broken(NER_RESULT, 3, "from_id", KeyError), 3, "from_id"),
        # relation with an unknown label or direction
        (broken(NER_RESULT, 3, "labels", ["married_to"]), 3, "labels"),
        (broken(NER_RESULT, 3, "direction", "up"), 3, "direction"),
    ],
)
def test_rejects_wrong_ner_result(result: list[Any], index: int | None, field: str | None) -> None:
    with pytest.raises(AnnotationError) as caught:
        validate_result(NER, result, {"text": TEXT})
    assert (caught.value.index, caught.value.field) == (index, field)


@pytest.mark.parametrize(
    ("result", "index", "field"),
    [
        # x+width over 100 percent
        (broken(IMAGE_RESULT, 0, "value.width", 90.5), 0, "value.width"),
        # negative and over-100 coordinates
        (broken(IMAGE_RESULT, 0, "value.x", -0.5), 0, "value.x"),
        (broken(IMAGE_RESULT, 1, "value.y", 100.1), 1, "value.y"),
        # a coordinate that is not a number
        (broken(IMAGE_RESULT, 0, "value.height", "40"), 0, "value.height"),
        # polygon point outside the image / not a pair
        (broken(IMAGE_RESULT, 3, "value.points", [[0, 0], [101, 5]]), 3, "value.points"),
        (broken(IMAGE_RESULT, 3, "value.points", [[0, 0, 1]]), 3, "value.points"),
        # ellipse radius over 100
        (broken(IMAGE_RESULT, 4, "value.radiusX", 120), 4, "value.radiusX"),
        # rectanglelabels item without its labels list
        (broken(IMAGE_RESULT, 0, "value.rectanglelabels", KeyError), 0, "value.rectanglelabels"),
        # label of another control
        (broken(IMAGE_RESULT, 0, "value.rectanglelabels", ["Road"]), 0, "value.rectanglelabels"),
        # rle not integers
        (broken(IMAGE_RESULT, 6, "value.rle", [0.5]), 6, "value.rle"),
        # textarea text must be a list of strings
        (broken(IMAGE_RESULT, 2, "value.text", "red car"), 2, "value.text"),
        # rating above maxRating, and a boolean rating
        (broken(IMAGE_RESULT, 7, "value.rating", 4), 7, "value.rating"),
        (broken(IMAGE_RESULT, 7, "value.rating", True), 7, "value.rating"),
        # number outside min/max
        (broken(IMAGE_RESULT, 8, "value.number", 11), 8, "value.number"),
        # datetime must be a string
        (broken(IMAGE_RESULT, 9, "value.datetime", 20240102), 9, "value.datetime"),
    ],
)
def test_rejects_wrong_image_result(result: list[Any], index: int, field: str) -> None:
    with pytest.raises(AnnotationError) as caught:
        validate_result(IMAGE, result)
    assert (caught.value.index, caught.value.field) == (index, field)


def test_accepts_rotated_box_past_the_right_edge() -> None:
    rotated = broken(broken(IMAGE_RESULT, 0, "value.rotation", 45), 0, "value.x", 90)
    validate_result(IMAGE, rotated)


def test_accepts_coordinates_within_float_tolerance() -> None:
    # x=10 plus width 90.0000005 overshoots 100 by less than the 1e-6 tolerance
    validate_result(IMAGE, broken(IMAGE_RESULT, 0, "value.width", 90 + 5e-7))


@pytest.mark.parametrize(
    ("result", "index", "field"),
    [
        # audio segment must have start < end, both >= 0
        (broken(MEDIA_RESULT, 0, "value.end", 0.5), 0, "value.end"),
        (broken(MEDIA_RESULT, 0, "value.start", -1), 0, "value.end"),
        # time series end before start
        (broken(MEDIA_RESULT, 2, "value.end", 2), 2, "value.end"),
        (broken(MEDIA_RESULT, 2, "value.start", KeyError), 2, "value.start"),
        # video keyframe outside the frame; labels from the video's <Labels>
        (
            broken(
                MEDIA_RESULT,
                3,
                "value.sequence",
                [{"frame": 1, "x": 99, "y": 0, "width": 5, "height": 5}],
            ),
            3,
            "value.sequence.width",
        ),
        (broken(MEDIA_RESULT, 3, "value.labels", ["Woman"]), 3, "value.labels"),
        # timeline range ending before it starts
        (broken(MEDIA_RESULT, 4, "value.ranges", [{"start": 9, "end": 2}]), 4, "value.ranges"),
        # pairwise selection must be left or right
        (broken(MEDIA_RESULT, 5, "value.selected", "both"), 5, "value.selected"),
        # taxonomy paths: lists of strings, following the tree, at most maxUsages
        (broken(MEDIA_RESULT, 6, "value.taxonomy", ["Animals"]), 6, "value.taxonomy"),
        (broken(MEDIA_RESULT, 6, "value.taxonomy", [["Animals", "Dogs"]]), 6, "value.taxonomy"),
        (broken(MEDIA_RESULT, 6, "value.taxonomy", [["Plants"]] * 3), 6, "value.taxonomy"),
        # hypertext offsets are non-negative integers
        (broken(MEDIA_RESULT, 7, "value.startOffset", -1), 7, "value.startOffset"),
        # ranker maps buckets to lists
        (broken(MEDIA_RESULT, 9, "value.ranker", ["i1"]), 9, "value.ranker"),
    ],
)
def test_rejects_wrong_media_result(result: list[Any], index: int, field: str) -> None:
    with pytest.raises(AnnotationError) as caught:
        validate_result(MEDIA, result)
    assert (caught.value.index, caught.value.field) == (index, field)


def test_rejects_result_that_is_not_a_list() -> None:
    with pytest.raises(AnnotationError, match="must be a list"):
        validate_result(NER, {"result": []})  # type: ignore[arg-type]


def test_rejects_annotation_missing_required_control() -> None:
    with pytest.raises(AnnotationError, match="required control 'sentiment'") as caught:
        validate_result(NER, NER_RESULT[:4], {"text": TEXT})
    assert (caught.value.index, caught.value.field) == (None, "sentiment")
    validate_result(NER, NER_RESULT[:4], {"text": TEXT}, require_required=False)


def test_per_region_required_control_is_not_demanded() -> None:
    validate_result(IMAGE, [BOX])


CONDITIONAL = parse_label_config(
    """<View>
  <Text name="text" value="$text"/>
  <Choices name="topic" toName="text" required="true">
    <Choice value="Sports"/><Choice value="Other"/>
  </Choices>
  <View visibleWhen="choice-selected" whenTagName="topic" whenChoiceValue="Sports">
    <Choices name="sport" toName="text" required="true"><Choice value="Tennis"/></Choices>
  </View>
  <TextArea name="why" toName="text" required="true" visibleWhen="choice-unselected"
            whenTagName="topic" whenChoiceValue="Sports"/>
  <TextArea name="region_note" toName="text" required="true" visibleWhen="region-selected"/>
</View>"""
)


def choice(name: str, value: str) -> dict[str, Any]:
    return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": [value]}}


def note(text: str) -> dict[str, Any]:
    return {"from_name": "why", "to_name": "text", "type": "textarea", "value": {"text": [text]}}


@pytest.mark.parametrize(
    ("result", "missing"),
    [
        # Sports chosen: the sport question inside the conditional View is shown and required
        ([choice("topic", "Sports")], "sport"),
        # Other chosen: the "why" textarea is shown and required; the sport question is hidden
        ([choice("topic", "Other")], "why"),
        # nothing chosen: the top question is missing first
        ([], "topic"),
        # complete answers on both branches
        ([choice("topic", "Sports"), choice("sport", "Tennis")], None),
        ([choice("topic", "Other"), note("not sports")], None),
    ],
)
def test_required_follows_visible_when_conditions(
    result: list[dict[str, Any]], missing: str | None
) -> None:
    if missing is None:
        validate_result(CONDITIONAL, result)
        return
    with pytest.raises(AnnotationError) as caught:
        validate_result(CONDITIONAL, result)
    assert caught.value.field == missing


def test_dynamic_options_accept_any_label() -> None:
    config = parse_label_config(
        '<View><Text name="t" value="$t"/><Choices name="c" toName="t" value="$options"/></View>'
    )
    validate_result(
        config, [{"from_name": "c", "to_name": "t", "type": "choices", "value": {"choices": ["X"]}}]
    )


def test_unknown_value_keys_are_allowed() -> None:
    validate_result(NER, [*NER_RESULT[:4], broken([SENTIMENT], 0, "value.score", 0.7)[0]])


MULTI_IMAGE = parse_label_config(
    """<View>
  <Image name="pages" valueList="$images"/>
  <RectangleLabels name="box" toName="pages"><Label value="Stamp"/></RectangleLabels>
</View>"""
)
PAGES = {"images": ["/a.png", "/b.png", "/c.png"]}


def _stamp(item_index: Any) -> dict[str, Any]:
    return {
        "id": "s1",
        "from_name": "box",
        "to_name": "pages",
        "type": "rectanglelabels",
        "original_width": 100,
        "original_height": 80,
        "image_rotation": 0,
        "item_index": item_index,
        "value": {"x": 1, "y": 2, "width": 30, "height": 20, "rectanglelabels": ["Stamp"]},
    }


def test_accepts_item_index_on_a_value_list_image():
    validate_result(MULTI_IMAGE, [_stamp(0), {**_stamp(2), "id": "s2"}], PAGES)
    validate_result(MULTI_IMAGE, [_stamp(7)])  # without the task data the length is unknown


@pytest.mark.parametrize(
    ("config", "item_index", "message"),
    [
        (MULTI_IMAGE, 3, "past the task's 3 items"),
        (MULTI_IMAGE, -1, "integer from 0"),
        (MULTI_IMAGE, "1", "integer from 0"),
        (MULTI_IMAGE, True, "integer from 0"),
        (IMAGE, 0, "needs a valueList"),
    ],
)
def test_refuses_an_item_index_that_names_no_item(config, item_index, message):
    item = _stamp(item_index)
    if config is IMAGE:
        item = {**item, "to_name": "image", "value": {**item["value"], "rectanglelabels": ["Car"]}}
    with pytest.raises(AnnotationError, match=message) as raised:
        validate_result(config, [item], PAGES)
    assert raised.value.field == "item_index"
    assert raised.value.index == 0


OCR = parse_label_config(
    '<View><Header value="Select text to correct"/>'
    '<OcrLabels name="ocr" toName="pdf"><Label value="Typo"/><Label value="Amount"/></OcrLabels>'
    '<Pdf name="pdf" value="$pdf"/><Rating name="quality"/></View>'
)


def _ocr_item(**value: Any) -> dict[str, Any]:
    base = {"x": 10.0, "y": 20.0, "width": 30.0, "height": 5.0, "rotation": 0, "pageIndex": 0}
    base.update(value)
    return {"id": "o1", "from_name": "ocr", "to_name": "pdf", "type": "ocrlabels", "value": base}


def test_accepts_ocr_regions_and_a_rating_without_to_name() -> None:
    validate_result(
        OCR,
        [
            _ocr_item(ocrlabels=["Typo"], text="Invoice 42"),
            {"from_name": "quality", "to_name": "pdf", "type": "rating", "value": {"rating": 4}},
        ],
    )


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"ocrlabels": ["Nope"]}, "value.ocrlabels"),
        ({"ocrlabels": ["Typo"], "text": 42}, "value.text"),
        ({"ocrlabels": ["Typo"], "width": 95.0}, "value.width"),
        ({"ocrlabels": ["Typo"], "pageIndex": -1}, "value.pageIndex"),
    ],
)
def test_rejects_wrong_ocr_regions(value: dict[str, Any], field: str) -> None:
    with pytest.raises(AnnotationError) as caught:
        validate_result(OCR, [_ocr_item(**value)])
    assert caught.value.field == field
