"""The one rule for every URL the server fetches for someone (storage endpoints, ML backends).

A URL passes when its scheme is http or https and every address its host resolves to is a public
(globally routable) address. Loopback, private, link-local (cloud metadata at 169.254.169.254
included), multicast, reserved, unspecified and shared addresses are refused, unless the
administrator listed the host. Resolution is given as a function, so the rule stays pure.
"""

import ipaddress
from collections.abc import Callable, Collection, Iterable
from urllib.parse import urlsplit

from labelops.domain.errors import LabelopsError

ALLOWED_SCHEMES = ("http", "https")
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254")
)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Iterable[str]]


class OutboundURLError(LabelopsError):
    """A URL the server must not fetch; the message says which part is wrong and why."""


def address_problem(address: Address) -> str | None:
    """Returns why the server may not connect to the address, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    checks = (
        (address in METADATA_ADDRESSES, "a cloud metadata address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for bad, reason in checks if bad), None)


def _host_key(host: str, port: int | None) -> tuple[str, str]:
    host = host.lower().strip("[]").rstrip(".")
    return host, f"{host}:{port}" if port is not None else host


def is_allowed_host(host: str, port: int | None, allowed_hosts: Collection[str]) -> bool:
    """Returns True when the administrator listed the host (``name`` or ``name:port``)."""
    allowed = {h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip()}
    name, with_port = _host_key(host, port)
    return name in allowed or with_port in allowed


def check_url(
    url: str, *, resolve: Resolver, allowed_hosts: Collection[str] = (), what: str = "URL"
) -> None:
    """Returns None when the server may fetch ``url``; every resolved address is checked.

    Args:
        url: The URL the server would fetch.
        resolve: Returns the addresses (as strings) a host name and port resolve to.
        allowed_hosts: Hosts (``name`` or ``name:port``) the administrator allowed to be
            internal.
        what: What the URL is, for the message (e.g. ``endpoint_url``).

    Raises:
        OutboundURLError: A scheme other than http(s), no host, a host that does not resolve,
            or a host with a non-public address that is not allowed.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundURLError(f"{what}: {url!r} is not a valid URL ({exc})") from exc
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise OutboundURLError(f"{what}: scheme {parts.scheme!r} is not allowed; use http or https")
    host = parts.hostname or ""
    if not host:
        raise OutboundURLError(f"{what}: {url!r} names no host")
    if is_allowed_host(host, port, allowed_hosts):
        return
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        default_port = 443 if parts.scheme.lower() == "https" else 80
        try:
            found = list(resolve(host, port or default_port))
        except (OSError, UnicodeError) as exc:  # UnicodeError: a name IDNA cannot encode
            raise OutboundURLError(f"{what}: host {host!r} does not resolve ({exc})") from exc
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
    if not addresses:
        raise OutboundURLError(f"{what}: host {host!r} does not resolve")
    for address in addresses:
        problem = address_problem(address)
        if problem:
            raise OutboundURLError(
                f"{what}: host {host!r} resolves to {address}, {problem}; the server does not "
                "connect there unless an administrator allows the host"
            )
