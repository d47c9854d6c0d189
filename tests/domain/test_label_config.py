import json

import pytest

from labelops.domain.errors import LabelConfigError
from labelops.domain.label_config import (
    MAX_CONFIG_BYTES,
    SUPPORTED_CONTROL_TAGS,
    SUPPORTED_OBJECT_TAGS,
    VISUAL_TAGS,
    interface_description,
    parse_label_config,
    sample_task_data,
)
from labelops.domain.label_interface import (
    CHOICES_CONTROL_TAGS,
    LABEL_KEYS,
    LABELS_CONTROL_TAGS,
)

TEXT_CLASSIFICATION = """<View>
  <Header value="Sentiment"/>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single-radio" showInline="true" required="true">
    <Choice value="Positive" hotkey="p"/>
    <Choice value="Negative"/>
    <Choice value="Neutral" alias="neu"/>
  </Choices>
</View>"""

NER_WITH_RELATIONS = """<View>
  <Relations>
    <Relation value="works_for"/>
    <Relation value="located_in"/>
  </Relations>
  <Labels name="label" toName="text">
    <Label value="PER" background="red"/>
    <Label value="ORG" background="darkorange" maxUsages="2"/>
    <Label value="LOC" background="orange"/>
  </Labels>
  <Text name="text" value="$text" granularity="word"/>
</View>"""

IMAGE_SHAPES = """<View>
  <Image name="image" value="$image" zoom="true"/>
  <RectangleLabels name="box" toName="image" strokeWidth="3">
    <Label value="Car" category="1"/>
    <Label value="Person" category="2"/>
  </RectangleLabels>
  <PolygonLabels name="poly" toName="image"><Label value="Road"/></PolygonLabels>
  <KeyPointLabels name="kp" toName="image"><Label value="Nose"/></KeyPointLabels>
  <EllipseLabels name="ell" toName="image"><Label value="Ball"/></EllipseLabels>
  <BrushLabels name="brush" toName="image"><Label value="Sky"/></BrushLabels>
  <Rectangle name="rect" toName="image"/>
  <Polygon name="polygon" toName="image"/>
  <KeyPoint name="point" toName="image"/>
  <Ellipse name="ellipse" toName="image"/>
  <Brush name="paint" toName="image"/>
  <TextArea name="caption" toName="image" perRegion="true" rows="2" placeholder="Describe"/>
</View>"""

AUDIO_TRANSCRIPTION = """<View>
  <Labels name="speaker" toName="audio" choice="multiple">
    <Label value="Speaker 1"/>
    <Label value="Speaker 2"/>
  </Labels>
  <AudioPlus name="audio" value="$audio"/>
  <TextArea name="transcription" toName="audio" editable="true" perRegion="true"
            required="true" maxSubmissions="1"/>
</View>"""

HTML_NER = """<View>
  <HyperTextLabels name="ner" toName="html">
    <Label value="Title"/>
  </HyperTextLabels>
  <HyperText name="html" value="$html"/>
</View>"""

TIME_SERIES = """<View>
  <TimeSeriesLabels name="activity" toName="ts">
    <Label value="Run"/>
    <Label value="Walk"/>
  </TimeSeriesLabels>
  <TimeSeries name="ts" value="$csv" valueType="url" timeColumn="time">
    <Channel column="velocity" strokeColor="#1f77b4"/>
    <Channel column="acceleration"/>
  </TimeSeries>
</View>"""

VIDEO_TIMELINE = """<View>
  <Video name="video" value="$video" framerate="25.0"/>
  <TimelineLabels name="timeline" toName="video">
    <Label value="Intro"/>
  </TimelineLabels>
  <Labels name="videoLabels" toName="video"><Label value="Man"/></Labels>
  <VideoRectangle name="box" toName="video"/>
</View>"""

DIALOGUE = """<View>
  <ParagraphLabels name="intent" toName="dialogue">
    <Label value="Greeting"/>
  </ParagraphLabels>
  <Paragraphs name="dialogue" value="$dialogue" layout="dialogue" nameKey="speaker"/>
</View>"""

PAIRWISE = """<View>
  <Text name="left" value="$answer_a"/>
  <Text name="right" value="$answer_b"/>
  <Pairwise name="comparison" toName="left,right"/>
</View>"""

RANKER = """<View>
  <List name="results" value="$items" title="Results"/>
  <Ranker name="rank" toName="results">
    <Bucket name="relevant" title="Relevant"/>
  </Ranker>
</View>"""

RATING_NUMBER_DATE = """<View>
  <Table name="product" value="$product"/>
  <Rating name="stars" toName="product" maxRating="10" icon="star"/>
  <Number name="price" toName="product" min="0" max="1000" step="0.5"/>
  <DateTime name="when" toName="product" only="date" min="2020-01-01"/>
</View>"""

TAXONOMY = """<View>
  <Text name="text" value="$text"/>
  <Taxonomy name="taxonomy" toName="text" maxUsages="2">
    <Choice value="Animals">
      <Choice value="Mammals">
        <Choice value="Cats"/>
      </Choice>
      <Choice value="Birds"/>
    </Choice>
    <Choice value="Plants"/>
  </Taxonomy>
</View>"""

CONDITIONAL = """<View>
  <Image name="image" value="$image"/>
  <Choices name="has_defect" toName="image" required="true">
    <Choice value="Yes"/>
    <Choice value="No"/>
  </Choices>
  <View visibleWhen="choice-selected" whenTagName="has_defect" whenChoiceValue="Yes">
    <Choices name="defect_kind" toName="image" required="true" choice="multiple"
             allowNested="true">
      <Choice value="Scratch"><Choice value="Deep"/><Choice value="Light"/></Choice>
      <Choice value="Dent"/>
    </Choices>
  </View>
  <Collapse><Panel value="More">
    <Choices name="options" toName="image" value="$opts" visibleWhen="choice-unselected"
             whenTagName="has_defect" whenChoiceValue="No"/>
  </Panel></Collapse>
</View>"""


@pytest.mark.parametrize(
    ("config", "controls", "data_fields"),
    [
        # text classification with a header, radio choices and an alias
        (TEXT_CLASSIFICATION, {"sentiment": "choices"}, ("text",)),
        # NER with an unnamed <Relations> block placed before the labels and the text
        (NER_WITH_RELATIONS, {"relations": "relation", "label": "labels"}, ("text",)),
        # every image shape, with and without labels, plus a per-region caption
        (
            IMAGE_SHAPES,
            {
                "box": "rectanglelabels",
                "poly": "polygonlabels",
                "kp": "keypointlabels",
                "ell": "ellipselabels",
                "brush": "brushlabels",
                "rect": "rectangle",
                "polygon": "polygon",
                "point": "keypoint",
                "ellipse": "ellipse",
                "paint": "brush",
                "caption": "textarea",
            },
            ("image",),
        ),
        # audio segmentation plus per-region transcription on the legacy AudioPlus tag
        (AUDIO_TRANSCRIPTION, {"speaker": "labels", "transcription": "textarea"}, ("audio",)),
        # HTML NER
        (HTML_NER, {"ner": "hypertextlabels"}, ("html",)),
        # time series from a CSV url; channel columns live inside the CSV, not in task.data
        (TIME_SERIES, {"activity": "timeserieslabels"}, ("csv",)),
        # video timeline segments and video boxes labelled by a separate <Labels>
        (
            VIDEO_TIMELINE,
            {"timeline": "timelinelabels", "videoLabels": "labels", "box": "videorectangle"},
            ("video",),
        ),
        # dialogue spans over paragraphs
        (DIALOGUE, {"intent": "paragraphlabels"}, ("dialogue",)),
        # pairwise comparison of two texts
        (PAIRWISE, {"comparison": "pairwise"}, ("answer_a", "answer_b")),
        # ranker over a list of items
        (RANKER, {"rank": "ranker"}, ("items",)),
        # rating, number and date on a table
        (
            RATING_NUMBER_DATE,
            {"stars": "rating", "price": "number", "when": "datetime"},
            ("product",),
        ),
        # taxonomy with nested choices
        (TAXONOMY, {"taxonomy": "taxonomy"}, ("text",)),
        # visibleWhen on a View and on a control, nested choices, dynamic options
        (
            CONDITIONAL,
            {"has_defect": "choices", "defect_kind": "choices", "options": "choices"},
            ("image", "opts"),
        ),
    ],
)
def test_parses_label_studio_template(
    config: str, controls: dict[str, str], data_fields: tuple[str, ...]
) -> None:
    parsed = parse_label_config(config)
    assert {name: c.result_type for name, c in parsed.controls.items()} == controls
    assert parsed.data_fields == data_fields
    assert parsed.text == config
    assert parsed.layout.tag == "View"


def test_reads_control_attributes_and_label_items() -> None:
    config = parse_label_config(TEXT_CLASSIFICATION)
    sentiment = config.control("sentiment")
    assert sentiment.to_names == ("text",)
    assert (sentiment.choice, sentiment.required, sentiment.per_region) == (
        "single-radio",
        True,
        False,
    )
    assert sentiment.label_values() == ("Positive", "Negative", "Neutral")
    assert sentiment.labels[0].hotkey == "p"
    assert sentiment.labels[2].alias == "neu"
    assert sentiment.labels[1].line == 6
    assert config.objects["text"].data_field == "text"
    assert config.controls_for("text") == (sentiment,)


def test_flattens_nested_choices_in_config_order() -> None:
    taxonomy = parse_label_config(TAXONOMY).control("taxonomy")
    assert taxonomy.label_values() == ("Animals", "Mammals", "Cats", "Birds", "Plants")
    assert taxonomy.max_usages == 2
    assert taxonomy.labels[0].children[0].children[0].value == "Cats"


def test_labels_default_to_one_label_per_region_unless_multiple() -> None:
    assert parse_label_config(NER_WITH_RELATIONS).control("label").choice == "single"
    assert parse_label_config(AUDIO_TRANSCRIPTION).control("speaker").choice == "multiple"


def test_maps_audioplus_to_audio_and_keeps_visibility_attributes() -> None:
    assert parse_label_config(AUDIO_TRANSCRIPTION).objects["audio"].tag == "Audio"
    options = parse_label_config(CONDITIONAL).control("options")
    assert options.dynamic_options_field == "opts"
    assert (options.visible_when, options.when_tag_name, options.when_choice_value) == (
        "choice-unselected",
        "has_defect",
        "No",
    )


def test_accepts_lower_case_tag_and_attribute_spelling() -> None:
    config = parse_label_config(
        '<view><text name="t" value="$t"/><choices name="c" toname="t">'
        '<choice value="A"/></choices></view>'
    )
    assert config.control("c").tag == "Choices"
    assert config.control("c").to_names == ("t",)
    assert config.objects["t"].tag == "Text"


def test_collects_data_fields_in_order_without_duplicates() -> None:
    config = parse_label_config(
        "<View>"
        '<Image name="a" value="$image"/><Image name="b" valueList="$pages"/>'
        '<Text name="c" value="$image"/><Text name="literal" value="Fixed prompt"/>'
        '<Labels name="l" toName="c" value="$label_options"/>'
        "</View>"
    )
    assert config.data_fields == ("image", "pages", "label_options")
    assert config.objects["literal"].data_field is None


def test_accepts_an_empty_view_and_comments() -> None:
    config = parse_label_config("<View><!-- nothing yet --></View>")
    assert (dict(config.objects), dict(config.controls), config.data_fields) == ({}, {}, ())


def test_control_lookup_names_the_missing_control() -> None:
    with pytest.raises(KeyError, match="no control tag named 'nope'"):
        parse_label_config(TEXT_CLASSIFICATION).control("nope")


@pytest.mark.parametrize(
    ("config", "tag", "attribute", "line", "value"),
    [
        # malformed XML reports lxml's line
        ("<View>\n<Text name='t' value='$t'>\n</View>", None, None, 3, None),
        # the root must be <View>
        ('<Text name="t" value="$t"/>', "Text", None, 1, None),
        # an unsupported tag is named, never dropped
        ('<View>\n\n<MagicPdf name="p" value="$pdf"/></View>', "MagicPdf", None, 3, None),
        # unknown tag inside a container
        (
            '<View><View>\n<MagicWand name="m" toName="i"/></View></View>',
            "MagicWand",
            None,
            2,
            None,
        ),
        # duplicate names, second use reported
        (
            '<View><Text name="x" value="$a"/>\n<Text name="x" value="$b"/></View>',
            "Text",
            "name",
            2,
            "x",
        ),
        # control without name
        (
            '<View><Text name="t" value="$t"/>\n<TextArea toName="t"/></View>',
            "TextArea",
            "name",
            2,
            None,
        ),
        # a region control without toName (classifications may omit it)
        (
            '<View><Image name="i" value="$i"/>\n<Rectangle name="r"/></View>',
            "Rectangle",
            "toName",
            2,
            None,
        ),
        # a classification without toName, but no object tag to attach it to
        ('<View>\n<Rating name="r"/></View>', "Rating", "toName", 2, None),
        # only layout may sit among choices
        (
            '<View><Text name="t" value="$t"/><Choices name="c" toName="t">'
            '\n<Text name="u" value="$u"/><Choice value="a"/></Choices></View>',
            "Text",
            None,
            2,
            None,
        ),
        # toName pointing to no object tag
        (
            '<View><Text name="t" value="$t"/>\n<Choices name="c" toName="t,img">'
            '<Choice value="a"/></Choices></View>',
            "Choices",
            "toName",
            2,
            "img",
        ),
        # object tag without value
        ('<View>\n<Image name="i"/></View>', "Image", "value", 2, None),
        # labels control without labels and without dynamic options
        (
            '<View><Image name="i" value="$i"/>\n<RectangleLabels name="b" toName="i"/></View>',
            "RectangleLabels",
            None,
            2,
            None,
        ),
        # choices control without choices
        (
            '<View><Text name="t" value="$t"/><Choices name="c" toName="t"/></View>',
            "Choices",
            None,
            1,
            None,
        ),
        # bad choice= value on Choices
        (
            '<View><Text name="t" value="$t"/><Choices name="c" toName="t" choice="many">'
            '<Choice value="a"/></Choices></View>',
            "Choices",
            "choice",
            1,
            "many",
        ),
        # single-radio is only for Choices
        (
            '<View><Text name="t" value="$t"/><Labels name="l" toName="t" choice="single-radio">'
            '<Label value="a"/></Labels></View>',
            "Labels",
            "choice",
            1,
            "single-radio",
        ),
        # non-integer maxUsages on a control
        (
            '<View><Text name="t" value="$t"/><Labels name="l" toName="t" maxUsages="two">'
            '<Label value="a"/></Labels></View>',
            "Labels",
            "maxUsages",
            1,
            "two",
        ),
        # non-integer maxUsages on one label
        (
            '<View><Text name="t" value="$t"/><Labels name="l" toName="t">\n\n'
            '<Label value="a" maxUsages="1.5"/></Labels></View>',
            "Label",
            "maxUsages",
            3,
            "1.5",
        ),
        # bad visibleWhen value
        (
            '<View><Text name="t" value="$t"/>\n<View visibleWhen="always"/></View>',
            "View",
            "visibleWhen",
            2,
            "always",
        ),
        # whenTagName naming no tag
        (
            '<View><Text name="t" value="$t"/>\n<TextArea name="a" toName="t" '
            'visibleWhen="choice-selected" whenTagName="ghost"/></View>',
            "TextArea",
            "whenTagName",
            2,
            "ghost",
        ),
        # a <Label> outside a labels control
        ('<View>\n<Label value="x"/></View>', "Label", None, 2, None),
        # a <Choice> inside <Labels>
        (
            '<View><Text name="t" value="$t"/><Labels name="l" toName="t">\n'
            '<Choice value="x"/></Labels></View>',
            "Choice",
            None,
            2,
            None,
        ),
        # a <Label> without value
        (
            '<View><Text name="t" value="$t"/><Labels name="l" toName="t">\n'
            "<Label/></Labels></View>",
            "Label",
            "value",
            2,
            None,
        ),
        # a <Channel> without column
        (
            '<View><TimeSeries name="ts" value="$ts">\n<Channel/></TimeSeries></View>',
            "Channel",
            "column",
            2,
            None,
        ),
        # required must be a boolean
        (
            '<View><Text name="t" value="$t"/>'
            '<TextArea name="a" toName="t" required="maybe"/></View>',
            "TextArea",
            "required",
            1,
            "maybe",
        ),
        # Number bounds must be numbers
        (
            '<View><Text name="t" value="$t"/><Number name="n" toName="t" min="low"/></View>',
            "Number",
            "min",
            1,
            "low",
        ),
        # maxRating must be a positive integer
        (
            '<View><Text name="t" value="$t"/><Rating name="r" toName="t" maxRating="0"/></View>',
            "Rating",
            "maxRating",
            1,
            "0",
        ),
    ],
)
def test_error_names_tag_attribute_line_and_value(
    config: str, tag: str | None, attribute: str | None, line: int, value: str | None
) -> None:
    with pytest.raises(LabelConfigError) as caught:
        parse_label_config(config)
    error = caught.value
    assert (error.tag, error.attribute, error.line, error.value) == (tag, attribute, line, value)
    assert str(error).startswith(f"line {line}: ")


def test_unsupported_tag_message_names_the_tag_and_line() -> None:
    with pytest.raises(LabelConfigError, match=r"line 2: unsupported tag <ReactCode>"):
        parse_label_config('<View>\n<ReactCode name="r" toName="t"/></View>')


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<View><Header value="&lol3;"/></View>"""


@pytest.mark.parametrize(
    "config",
    [
        # exponential entity expansion
        BILLION_LAUGHS,
        # external entity reading a local file
        '<!DOCTYPE v [<!ENTITY x SYSTEM "file:///etc/passwd">]><View><Header value="&x;"/></View>',
        # external DTD over the network
        '<!DOCTYPE View SYSTEM "http://example.com/evil.dtd"><View/>',
        # lower-case doctype
        "<!doctype View><View/>",
    ],
)
def test_rejects_doctype_and_entity_declarations(config: str) -> None:
    with pytest.raises(LabelConfigError, match="not allowed") as caught:
        parse_label_config(config)
    assert caught.value.tag in ("!DOCTYPE", "!ENTITY")


def test_rejects_undeclared_entity_as_malformed_xml() -> None:
    with pytest.raises(LabelConfigError, match="malformed XML"):
        parse_label_config('<View><Header value="&boom;"/></View>')


def test_rejects_config_over_the_size_limit() -> None:
    padding = "<!-- " + "x" * MAX_CONFIG_BYTES + " -->"
    with pytest.raises(LabelConfigError, match="limit"):
        parse_label_config(f"<View>{padding}</View>")


def test_supported_tag_sets_are_disjoint() -> None:
    assert not SUPPORTED_OBJECT_TAGS & SUPPORTED_CONTROL_TAGS
    assert not VISUAL_TAGS & (SUPPORTED_OBJECT_TAGS | SUPPORTED_CONTROL_TAGS)
    assert {"MagicWand", "ReactCode"}.isdisjoint(
        SUPPORTED_OBJECT_TAGS | SUPPORTED_CONTROL_TAGS | VISUAL_TAGS
    )


def test_interface_description_is_json_ready_and_keeps_layout() -> None:
    description = interface_description(parse_label_config(CONDITIONAL))
    assert json.loads(json.dumps(description)) == description
    assert description["data_fields"] == ["image", "opts"]
    layout = description["layout"]
    assert [child["tag"] for child in layout["children"]] == [
        "Image",
        "Choices",
        "View",
        "Collapse",
    ]
    assert layout["children"][2]["attrs"]["whenChoiceValue"] == "Yes"
    defect = description["controls"]["defect_kind"]
    assert defect["labels"][0]["children"][0]["value"] == "Deep"
    assert description["objects"]["image"]["data_field"] == "image"


def test_every_label_and_choice_control_has_the_key_its_labels_sit_under() -> None:
    description = interface_description(parse_label_config(IMAGE_SHAPES))
    keys = description["label_value_keys"]

    for tag in LABELS_CONTROL_TAGS | CHOICES_CONTROL_TAGS:
        assert keys[tag.lower()] == tag.lower()
    assert keys["videorectangle"] == "labels"
    assert "rectangle" not in keys  # a bare shape holds no labels
    assert set(LABEL_KEYS) == set(keys.values())


def test_interface_description_generates_hotkeys_without_clashing() -> None:
    config = parse_label_config(
        '<View><Text name="t" value="$t"/>'
        '<Labels name="l" toName="t"><Label value="A" hotkey="2"/><Label value="B"/>'
        '<Label value="C"/></Labels>'
        '<Choices name="c" toName="t"><Choice value="X"/><Choice value="Y" hotkey="q"/>'
        '<Choice value="Z"/></Choices></View>'
    )
    controls = interface_description(config)["controls"]
    keys = [label["hotkey"] for c in controls.values() for label in c["labels"]]
    assert keys == ["2", "1", "3", "4", "q", "5"]
    assert len(set(keys)) == len(keys)


def test_interface_description_runs_out_of_hotkeys_gracefully() -> None:
    labels = "".join(f'<Label value="L{n}"/>' for n in range(40))
    config = parse_label_config(
        f'<View><Text name="t" value="$t"/><Labels name="l" toName="t">{labels}</Labels></View>'
    )
    keys = [label["hotkey"] for label in interface_description(config)["controls"]["l"]["labels"]]
    assigned = [k for k in keys if k is not None]
    assert assigned[:12] == list("1234567890qw")
    assert len(set(assigned)) == len(assigned) == 33
    assert keys[-1] is None


def test_interface_description_fills_default_backgrounds() -> None:
    labels = interface_description(parse_label_config(NER_WITH_RELATIONS))["controls"]["label"]
    backgrounds = [label["background"] for label in labels["labels"]]
    assert backgrounds == ["red", "darkorange", "orange"]
    generated = interface_description(parse_label_config(IMAGE_SHAPES))["controls"]["box"]
    assert all(label["background"].startswith("#") for label in generated["labels"])


@pytest.mark.parametrize(
    ("config", "expected_types"),
    [
        # text and image fields
        (TEXT_CLASSIFICATION, {"text": str}),
        (IMAGE_SHAPES, {"image": str}),
        # dialogue uses the configured nameKey
        (DIALOGUE, {"dialogue": list}),
        # table and dynamic options
        (RATING_NUMBER_DATE, {"product": dict}),
        (CONDITIONAL, {"image": str, "opts": list}),
        # ranker items and time series url
        (RANKER, {"items": list}),
        (TIME_SERIES, {"csv": str}),
    ],
)
def test_sample_task_data_fills_every_field(config: str, expected_types: dict[str, type]) -> None:
    data = sample_task_data(parse_label_config(config))
    assert {k: type(v) for k, v in data.items()} == expected_types


def test_sample_dialogue_uses_name_key_and_json_time_series_uses_channels() -> None:
    dialogue = sample_task_data(parse_label_config(DIALOGUE))["dialogue"]
    assert set(dialogue[0]) == {"speaker", "text"}
    config = parse_label_config(
        '<View><TimeSeries name="ts" value="$ts" timeColumn="t">'
        '<Channel column="v"/></TimeSeries></View>'
    )
    assert set(sample_task_data(config)["ts"]) == {"t", "v"}


def test_pdf_is_an_object_with_a_sample_document() -> None:
    config = parse_label_config(
        '<View><Pdf name="pdf" value="$pdf"/><Rating name="r" toName="pdf"/></View>'
    )
    assert config.objects["pdf"].tag == "Pdf"
    assert sample_task_data(config)["pdf"].endswith(".pdf")


def test_ocr_labels_are_region_labels_with_their_own_result_key() -> None:
    config = parse_label_config(
        '<View><Image name="img" value="$img"/>'
        '<OcrLabels name="ocr" toName="img"><Label value="Word"/></OcrLabels></View>'
    )
    control = config.control("ocr")
    assert (control.result_type, control.label_values()) == ("ocrlabels", ("Word",))
    assert interface_description(config)["label_value_keys"]["ocrlabels"] == "ocrlabels"


def test_a_classification_without_to_name_goes_to_the_first_object() -> None:
    config = parse_label_config(
        '<View><Paragraphs name="dialogue" value="$d"/><Text name="t" value="$t"/>'
        '<Rating name="score"/><TextArea name="note"/></View>'
    )
    assert config.control("score").to_names == ("dialogue",)
    assert config.control("note").to_names == ("dialogue",)


def test_layout_among_choices_is_kept_and_not_a_choice() -> None:
    config = parse_label_config(
        '<View><Text name="t" value="$t"/><Choices name="c" toName="t">'
        '<View style="width:100%"><Header value="Other properties"/></View>'
        '<Choice value="a"/><Choice value="b"/></Choices></View>'
    )
    assert config.control("c").label_values() == ("a", "b")
    choices = next(n for n in config.layout.walk() if n.tag == "Choices")
    assert [n.tag for n in choices.children] == ["View", "Choice", "Choice"]


def test_a_choice_keeps_the_markup_it_shows_instead_of_its_value() -> None:
    config = parse_label_config(
        '<View><Text name="t" value="$t"/><Choices name="c" toName="t">'
        '<Choice value="Positive" html="&lt;b&gt;+&lt;/b&gt;"/></Choices></View>'
    )
    (item,) = config.control("c").labels
    assert (item.value, item.html) == ("Positive", "<b>+</b>")
    assert interface_description(config)["controls"]["c"]["labels"][0]["html"] == "<b>+</b>"
