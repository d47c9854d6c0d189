"""Outbound requests: the domain's URL rule with the system's name resolution, and a fetch.

:func:`fetch_url` reads a document someone named (an import from a URL) under that rule, with
size and time limits, checking every redirect target again.
"""

import socket
import tempfile
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import IO
from urllib.parse import urljoin

import requests
import urllib3

from labelops.domain.errors import LabelopsError
from labelops.domain.outbound import OutboundURLError, check_url

__all__ = [
    "FetchError",
    "Fetched",
    "OutboundURLError",
    "check_outbound_url",
    "fetch_url",
    "system_resolve",
]


def system_resolve(host: str, port: int) -> list[str]:
    """Returns every address (IPv4 and IPv6) the system resolves the host name to."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def check_outbound_url(url: str, allowed_hosts: Collection[str] = (), what: str = "URL") -> None:
    """Returns None when the server may fetch ``url`` (see ``labelops.domain.outbound``).

    Raises:
        OutboundURLError: The URL is refused; the message names ``what`` and the reason.
    """
    check_url(url, resolve=system_resolve, allowed_hosts=allowed_hosts, what=what)


class FetchError(LabelopsError):
    """A URL the server was asked to read could not be read within the limits."""

    code = "fetch_failed"


@dataclass(frozen=True)
class Fetched:
    """A document read from a URL: its bytes (spooled), content type and final URL."""

    stream: IO[bytes]
    content_type: str | None
    url: str


MAX_REDIRECTS = 5


def fetch_url(
    url: str,
    *,
    allowed_hosts: Collection[str] = (),
    max_bytes: int,
    timeout: float = 30.0,
    what: str = "url",
) -> Fetched:
    """Returns the document at ``url``, read under the outbound rule and within the limits.

    The URL and every redirect target are checked by :func:`check_outbound_url` before the
    server connects (a redirect to a private address is refused like the address itself); at
    most ``MAX_REDIRECTS`` redirects are followed; the body may hold at most ``max_bytes`` and
    must arrive within ``timeout`` seconds in all.

    Raises:
        OutboundURLError: The URL or a redirect target is refused by the outbound rule.
        FetchError: The server did not answer, answered an error status, redirected too often,
            sent more than ``max_bytes`` or took longer than ``timeout``.
    """
    deadline = time.monotonic() + timeout
    current = url
    with requests.Session() as http:
        for _ in range(MAX_REDIRECTS + 1):
            check_outbound_url(current, allowed_hosts, what=what)
            try:
                response = http.get(
                    current, stream=True, allow_redirects=False, timeout=(timeout, timeout)
                )
            except requests.RequestException as exc:
                raise FetchError(f"{what}: {current!r} could not be read ({exc})") from exc
            with response:
                if response.is_redirect:
                    location = response.headers.get("Location", "")
                    current = urljoin(current, location)
                    continue
                if response.status_code >= 400:
                    raise FetchError(f"{what}: {current!r} answered {response.status_code}")
                return Fetched(
                    stream=_read_limited(response, max_bytes, deadline, what),
                    content_type=response.headers.get("Content-Type"),
                    url=current,
                )
    raise FetchError(f"{what}: {url!r} redirected more than {MAX_REDIRECTS} times")


def _read_limited(
    response: requests.Response, max_bytes: int, deadline: float, what: str
) -> IO[bytes]:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"{what}: the document has {declared} bytes; at most {max_bytes} are read")
    body = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    size = 0
    try:
        # read1 returns what has arrived (at most 64 KiB), so a body that trickles in meets the
        # deadline between two small reads instead of blocking until 64 KiB are there.
        while chunk := response.raw.read1(64 * 1024, decode_content=True):
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"{what}: the document is larger than {max_bytes} bytes")
            if time.monotonic() > deadline:
                raise FetchError(f"{what}: reading the document took too long")
            body.write(chunk)
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        body.close()
        raise FetchError(f"{what}: the document could not be read ({exc})") from exc
    except FetchError:
        body.close()
        raise
    body.seek(0)
    return body
