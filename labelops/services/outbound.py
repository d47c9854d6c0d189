"""Outbound requests: the domain's URL rule with the system's name resolution."""

import socket
from collections.abc import Collection

from labelops.domain.outbound import OutboundURLError, check_url

__all__ = ["OutboundURLError", "check_outbound_url", "system_resolve"]


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
