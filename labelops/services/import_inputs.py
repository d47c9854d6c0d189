"""Sources an import reads besides uploaded files: pasted text and a document at a URL.

Each becomes an :class:`~labelops.services.imports.ImportSource` for the one import path
(:func:`~labelops.services.imports.import_source`), so pasted text and fetched documents go
through the same format detection, checks and writer as uploads. A URL is read by
:func:`~labelops.services.outbound.fetch_url`: private and metadata addresses are refused unless
an administrator allowed the host, redirects are checked again, and size and time are limited.
"""

import io
import posixpath
from collections.abc import Collection
from urllib.parse import unquote, urlsplit

from labelops.domain.errors import InvalidInputError
from labelops.services.imports import ImportSource
from labelops.services.outbound import fetch_url

TEXT_FORMATS = ("auto", "json", "jsonl", "csv", "tsv")
MAX_PASTED_CHARS = 10 * 1024 * 1024
PASTED_NAME = "pasted text"


def detect_text_format(text: str) -> str:
    """Returns the format of pasted tasks: JSON, JSON lines, TSV (a tab in line 1) or CSV."""
    stripped = text.strip()
    lines = [line for line in stripped.splitlines() if line.strip()]
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        many = len(lines) > 1 and all(line.lstrip().startswith("{") for line in lines)
        return "jsonl" if many and lines[0].rstrip().endswith("}") else "json"
    return "tsv" if lines and "\t" in lines[0] else "csv"


def pasted_source(text: str, text_format: str = "auto") -> ImportSource:
    """Returns pasted tasks as a source named ``pasted text.<format>``.

    Raises:
        InvalidInputError: The text is empty or too long, or the format is unknown.
    """
    if text_format not in TEXT_FORMATS:
        raise InvalidInputError(f"format: {text_format!r} is not one of {', '.join(TEXT_FORMATS)}")
    if not text.strip():
        raise InvalidInputError("text: paste at least one task")
    if len(text) > MAX_PASTED_CHARS:
        raise InvalidInputError(
            f"text: {len(text)} characters pasted; at most {MAX_PASTED_CHARS} "
            "(upload a file instead)"
        )
    kind = detect_text_format(text) if text_format == "auto" else text_format
    body = text.encode("utf-8")
    return ImportSource(name=f"{PASTED_NAME}.{kind}", opener=lambda: io.BytesIO(body))


def url_source(
    url: str,
    *,
    allowed_hosts: Collection[str] = (),
    max_bytes: int,
    timeout: float = 30.0,
) -> ImportSource:
    """Returns the document at ``url`` as a source named after the URL's last path segment.

    The document is read now (within the limits); its name's extension, else its content
    type, tells the import what it is.

    Raises:
        InvalidInputError: The URL is empty.
        OutboundURLError: The URL or a redirect target is refused by the outbound rule.
        FetchError: It could not be read, or exceeded ``max_bytes`` or ``timeout``.
    """
    url = url.strip()
    if not url:
        raise InvalidInputError("url: give the address of a task file")
    fetched = fetch_url(
        url, allowed_hosts=allowed_hosts, max_bytes=max_bytes, timeout=timeout, what="url"
    )
    name = posixpath.basename(unquote(urlsplit(fetched.url).path)) or "download"
    stream = fetched.stream
    return ImportSource(name=name, opener=lambda: stream, content_type=fetched.content_type)
