"""Text exports: JSON, JSON_MIN, CSV, TSV, CONLL2003 and spaCy-style JSONL, all streamed.

Each writer pulls one task at a time and yields bytes in chunks of about 64 KiB, so an export of a
million tasks never holds more than one chunk and one task.

CONLL2003 tokens follow the Penn Treebank conventions that CoNLL 2003 used, in a small scanner
(no nltk): a word is a run of letters, digits and combining marks, with inner hyphens or
apostrophes (``state-of-the-art``, ``O'Neil``); a possessive or contraction ending is its own
token (``Saldaña's`` is ``Saldaña`` + ``'s``, ``don't`` is ``do`` + ``n't``, with a straight or a
curly U+2019 apostrophe); a number keeps inner ``.``/``,`` (``3.50``, ``1,000``) and an
abbreviation its dots (``U.S.``); each Chinese or Japanese character is a token (text without
spaces, as Chinese NER corpora are tokenized);
``...`` is one token and any other mark is a token by itself. Then every token that a span edge
falls inside is cut there, so a span's tokens hold exactly its text and never text outside it.
A token takes the tag of the span covering it (the one that starts first when spans overlap),
``B-`` on the span's first token and ``I-`` after; the others are ``O``. Each line is
``token -X- _ TAG``; the file starts with ``-DOCSTART- -X- O``; a blank line ends each document.

Where we differ from Label Studio's converter:
    * CSV/TSV columns cannot be discovered in a first pass over a stream, so they are fixed up
      front: ``id``, the config's data fields and the first task's data keys (a data key that
      collides with a control name becomes ``_data_<key>``, as in Label Studio), one column per
      control and the annotation metadata columns, sorted by name. Data keys that only later
      tasks have are left out of CSV/TSV (JSON and JSON_MIN keep them).
    * CONLL2003 tags spans of every Labels control (Label Studio uses only the first one).
      Label Studio keeps a token whole when a span covers part of it and tags all of it, so its
      span covers text outside it: a whole CJK sentence for a two-character name, ``York-based``
      for ``York``, ``Saldaña's`` with a curly apostrophe for ``Saldaña``; a second span inside the
      same token is lost. Here the token is cut at the span's edges.
    * spaCy output is JSONL of ``{"text", "entities": [[start, end, label], ...]}`` written
      directly; Label Studio has no spaCy export and sends users through ``spacy convert``.
"""

import csv
import io
import itertools
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from labelops.domain.formats.base import (
    ExportFormat,
    LabelConfig,
    control_tags,
    data_fields,
    has_control_on,
    object_tags,
)
from labelops.domain.formats.flatten import META_COLUMNS, control_types, iter_min_records
from labelops.domain.formats.options import ExportOptions, select_annotations
from labelops.domain.records import ResultItem, Task

CHUNK_SIZE = 1 << 16
APOSTROPHES = "'\u2019"
JOINERS = APOSTROPHES + "-\u2010"
ABBREVIATION_RE = re.compile(r"(?:[^\W\d_]\.){2,}")
CLITIC_RE = re.compile(r"(?i)(?:n['\u2019]t|['\u2019](?:s|m|d|ll|re|ve))$")


def chunked(parts: Iterable[str | bytes], size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yields the UTF-8 bytes of ``parts`` joined, in chunks of about ``size`` bytes."""
    pending: list[bytes] = []
    length = 0
    for part in parts:
        data = part if isinstance(part, bytes) else part.encode("utf-8")
        pending.append(data)
        length += len(data)
        if length >= size:
            yield b"".join(pending)
            pending.clear()
            length = 0
    if pending:
        yield b"".join(pending)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _json_list(items: Iterable[Any]) -> Iterator[bytes]:
    # orjson: the same JSON as the standard library, several times faster (exports are hot paths)
    yield b"["
    for index, item in enumerate(items):
        yield (b"\n" if index == 0 else b",\n") + orjson.dumps(item, option=orjson.OPT_NON_STR_KEYS)
    yield b"\n]\n"


class _TextFormat(ExportFormat):
    def is_supported(self, config: LabelConfig) -> bool:
        return True


class JsonFormat(_TextFormat):
    """Label Studio's full task JSON: a list of tasks with annotations (and predictions)."""

    name = "JSON"
    title = "JSON"
    description = "List of tasks with their data, annotations and predictions (Label Studio JSON)."
    media_type = "application/json"
    extension = ".json"

    def stream(
        self, tasks: Iterable[Task], config: LabelConfig, options: ExportOptions
    ) -> Iterator[bytes]:
        """Yields the JSON list, one task at a time."""
        return chunked(_json_list(self._items(tasks, options)))

    @staticmethod
    def _items(tasks: Iterable[Task], options: ExportOptions) -> Iterator[dict[str, Any]]:
        for task in tasks:
            annotations = select_annotations(task, options, keep_cancelled=True)
            if not annotations and not options.download_all_tasks:
                continue
            item = task.to_ls()
            item["annotations"] = [a.to_ls() for a in annotations]
            if not options.include_predictions:
                item["predictions"] = []
            yield item


class JsonMinFormat(_TextFormat):
    """Label Studio's JSON_MIN: one flat record per annotation."""

    name = "JSON_MIN"
    title = "JSON-MIN"
    description = "One flat record per annotation: task data plus one key per control."
    media_type = "application/json"
    extension = ".json"

    def stream(
        self, tasks: Iterable[Task], config: LabelConfig, options: ExportOptions
    ) -> Iterator[bytes]:
        """Yields the JSON list of flat records."""
        types = control_types(config)
        records = (
            record for task in tasks for record in iter_min_records(task, config, options, types)
        )
        return chunked(_json_list(records))


class CsvFormat(_TextFormat):
    """Label Studio's CSV: the JSON_MIN records as rows, nested values JSON-encoded."""

    name = "CSV"
    title = "CSV"
    description = "One row per annotation; nested values are JSON strings."
    media_type = "text/csv"
    extension = ".csv"
    delimiter = ","

    def stream(
        self, tasks: Iterable[Task], config: LabelConfig, options: ExportOptions
    ) -> Iterator[bytes]:
        """Yields the header, then one row per flat record."""
        return chunked(self._lines(iter(tasks), config, options))

    def _lines(
        self, tasks: Iterator[Task], config: LabelConfig, options: ExportOptions
    ) -> Iterator[str]:
        first = next(tasks, None)
        data_keys = set(data_fields(config)) | set(first.data if first is not None else ())
        controls = set(config.controls)
        renamed = {key: f"_data_{key}" for key in data_keys if key in controls}
        columns = sorted({"id", *(renamed.get(k, k) for k in data_keys), *controls, *META_COLUMNS})
        out = io.StringIO()
        writer = csv.DictWriter(
            out,
            fieldnames=columns,
            delimiter=self.delimiter,
            quoting=csv.QUOTE_NONNUMERIC,
            extrasaction="ignore",
            lineterminator="\n",
        )
        writer.writeheader()
        types = control_types(config)
        all_tasks = tasks if first is None else itertools.chain([first], tasks)
        for task in all_tasks:
            for record in iter_min_records(task, config, options, types, renamed):
                writer.writerow(_csv_row(record))
            yield out.getvalue()
            out.seek(0)
            out.truncate()
        yield out.getvalue()


class TsvFormat(CsvFormat):
    """CSV with tabs."""

    name = "TSV"
    title = "TSV"
    description = "One tab-separated row per annotation; nested values are JSON strings."
    media_type = "text/tab-separated-values"
    extension = ".tsv"
    delimiter = "\t"


def _csv_row(record: dict[str, Any]) -> dict[str, Any]:
    return {k: _json(v) if isinstance(v, dict | list) else v for k, v in record.items()}


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Returns ``(token, start, end)`` triples of the CONLL tokenizer (end exclusive)."""
    return [(text[start:end], start, end) for start, end in _token_offsets(text)]


def _is_word(char: str) -> bool:
    return unicodedata.category(char)[0] in "LNM" and not _is_cjk(char)


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= code <= 0xFAFF  # CJK compatibility ideographs
        or 0xFF66 <= code <= 0xFF9F  # half-width katakana
        or 0x20000 <= code <= 0x2FA1F  # CJK extensions B..F, compatibility supplement
    )


def _token_offsets(text: str) -> Iterator[tuple[int, int]]:
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if _is_word(char):
            abbreviation = ABBREVIATION_RE.match(text, i)
            end = abbreviation.end() if abbreviation else _word_end(text, i)
            yield from _split_clitic(text, i, end)
            i = end
            continue
        end = i + 3 if text.startswith("...", i) else i + 1
        yield i, end
        i = end


def _word_end(text: str, start: int) -> int:
    """Returns where the word starting at ``start`` ends (inner joiners and number marks kept)."""
    i, n = start + 1, len(text)
    while i < n:
        char = text[i]
        if _is_word(char):
            i += 1
        elif (
            i + 1 < n
            and _is_word(text[i + 1])
            and (
                char in JOINERS
                or (char in ".," and text[i - 1].isdigit() and text[i + 1].isdigit())
            )
        ):
            i += 2
        else:
            break
    return i


def _split_clitic(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    clitic = CLITIC_RE.search(text, start, end)
    if clitic is None or clitic.start() == start:
        yield start, end
    else:
        yield start, clitic.start()
        yield clitic.start(), end


def _cut_at_span_edges(
    tokens: list[tuple[str, int, int]], spans: list[tuple[int, int, str]]
) -> list[tuple[str, int, int]]:
    """Returns the tokens cut at every span start or end that falls inside one."""
    edges = sorted({edge for start, end, _ in spans for edge in (start, end)})
    out: list[tuple[str, int, int]] = []
    for token, start, end in tokens:
        cuts = [e for e in edges if start < e < end]
        for left, right in zip([start, *cuts], [*cuts, end], strict=True):
            out.append((token[left - start : right - start], left, right))
    return out


def iob_tags(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    """Returns ``(token, tag)`` pairs: ``B-``/``I-`` for tokens inside a span, else ``O``.

    Tokens are first cut at the span edges, so each lies wholly inside or outside each span; a
    token inside several spans takes the one that starts first (the longest on a tie).
    """
    ordered = sorted(spans, key=lambda s: (s[0], -s[1]))
    pairs: list[tuple[str, str]] = []
    previous: tuple[int, int, str] | None = None
    for token, start, end in _cut_at_span_edges(tokenize(text), spans):
        span = next((s for s in ordered if s[0] < end and start < s[1]), None)
        if span is None:
            pairs.append((token, "O"))
        else:
            pairs.append((token, f"{'I' if span is previous else 'B'}-{span[2]}"))
        previous = span
    return pairs


def text_field(config: LabelConfig) -> str | None:
    """Returns the data field of the text that the config's Labels controls annotate."""
    objects = object_tags(config)
    for ctl in config.controls.values():
        if str(ctl.tag).lower() == "labels":
            for to_name in ctl.to_names:
                if objects.get(to_name) == "text":
                    return str(config.objects[to_name].data_field)
    for obj in config.objects.values():
        if str(obj.tag).lower() == "text":
            return str(obj.data_field)
    return None


def text_spans(result: list[ResultItem], label_controls: set[str]) -> list[tuple[int, int, str]]:
    """Returns ``(start, end, label)`` for every label of every span of the Labels controls."""
    spans = []
    for item in result:
        value = item.get("value") or {}
        if item.get("from_name") not in label_controls or "start" not in value:
            continue
        for label in value.get("labels") or []:
            spans.append((int(value["start"]), int(value["end"]), str(label)))
    return spans


def _documents(
    tasks: Iterable[Task], config: LabelConfig, options: ExportOptions
) -> Iterator[tuple[str, list[tuple[int, int, str]]]]:
    field = text_field(config)
    controls = {name for name, tag in control_tags(config).items() if tag == "labels"}
    for task in tasks:
        text = str(task.data.get(field, "")) if field else ""
        selected = select_annotations(task, options)
        if not selected and options.download_all_tasks:
            yield text, []
        for annotation in selected:
            yield text, text_spans(annotation.result, controls)


class ConllFormat(ExportFormat):
    """CONLL2003: one token per line with IOB tags."""

    name = "CONLL2003"
    title = "CONLL2003"
    description = "Token per line with IOB tags, for named entity recognition."
    media_type = "text/plain"
    extension = ".conll"

    def is_supported(self, config: LabelConfig) -> bool:
        """Returns whether a Labels control annotates a Text object (and only one data key)."""
        return len(data_fields(config)) <= 1 and has_control_on(config, {"labels"}, "text")

    def stream(
        self, tasks: Iterable[Task], config: LabelConfig, options: ExportOptions
    ) -> Iterator[bytes]:
        """Yields the CONLL file, one document per annotation."""

        def lines() -> Iterator[str]:
            yield "-DOCSTART- -X- O\n"
            for text, spans in _documents(tasks, config, options):
                body = "".join(f"{tok} -X- _ {tag}\n" for tok, tag in iob_tags(text, spans))
                yield body + "\n"

        return chunked(lines())


class SpacyFormat(ConllFormat):
    """spaCy training data as JSONL with character-offset entities."""

    name = "SPACY"
    title = "spaCy"
    description = "JSON lines of text with [start, end, label] entities (character offsets)."
    media_type = "application/jsonl"
    extension = ".jsonl"

    def stream(
        self, tasks: Iterable[Task], config: LabelConfig, options: ExportOptions
    ) -> Iterator[bytes]:
        """Yields one JSON line per annotation."""
        lines = (
            _json({"text": text, "entities": [list(s) for s in sorted(spans)]}) + "\n"
            for text, spans in _documents(tasks, config, options)
        )
        return chunked(lines)
