"""Where a storage connection may read: prefix normalization and confinement.

A connection to the deployment's own object store (a "local" connection: a folder of the store)
may never reach the areas the deployment writes itself (exported datasets, uploaded media, models)
nor the folder another project's connection reads. Prefixes are normalized first and refused when
they try to leave their place; containment is then checked segment by segment.
"""

import unicodedata
from collections.abc import Iterable
from urllib.parse import unquote

from labelops.domain.errors import LabelopsError

# Top-level folders of the object store that the deployment writes (datasets/<project>/...,
# uploads/<project>/...) or keeps for itself; no connection reads them.
DEPLOYMENT_AREAS = ("datasets", "uploads", "models", "exports", "mlartifacts")
MAX_PREFIX_LENGTH = 1024


class StoragePrefixError(LabelopsError):
    """A prefix that is malformed or reaches outside the connection's place."""


def normalize_prefix(raw: str) -> str:
    """Returns the prefix as ``a/b/c`` (no leading or trailing slash); "" is the whole store.

    Raises:
        StoragePrefixError: Backslashes, ``.`` or ``..`` parts, empty parts (``a//b``), a leading
            ``/``, percent-encoded characters, control characters, or a prefix that is too long.
    """
    prefix = (raw or "").strip()
    if len(prefix) > MAX_PREFIX_LENGTH:
        raise StoragePrefixError(f"a prefix has at most {MAX_PREFIX_LENGTH} characters")
    if any(unicodedata.category(c).startswith("C") for c in prefix):
        raise StoragePrefixError("a prefix cannot contain control characters")
    if "\\" in prefix:
        raise StoragePrefixError("a prefix cannot contain backslashes; separate folders with '/'")
    if unquote(prefix) != prefix:
        raise StoragePrefixError("a prefix cannot contain percent-encoded characters")
    if prefix.startswith("/"):
        raise StoragePrefixError("a prefix is relative: it cannot start with '/'")
    prefix = prefix.removesuffix("/")
    if not prefix:
        return ""
    parts = prefix.split("/")
    folded = [unicodedata.normalize("NFKC", p) for p in parts]
    if any(p in (".", "..") for p in folded):
        raise StoragePrefixError("a prefix cannot contain '.' or '..' parts")
    if any(not p for p in parts):
        raise StoragePrefixError("a prefix cannot contain empty parts ('//')")
    return prefix


def overlaps(a: str, b: str) -> bool:
    """Returns True when one normalized prefix contains the other ("" contains everything)."""
    pa = [p for p in a.split("/") if p]
    pb = [p for p in b.split("/") if p]
    n = min(len(pa), len(pb))
    return [p.casefold() for p in pa[:n]] == [p.casefold() for p in pb[:n]]


def confinement_problem(prefix: str, others: Iterable[str] = ()) -> str | None:
    """Returns why a folder of the deployment's store is out of reach, or None when it is not.

    Args:
        prefix: The normalized prefix of the connection, relative to the store.
        others: Normalized prefixes other projects' connections read in the same store.
    """
    if not prefix:
        return (
            "name a folder of the object store: the whole store holds the deployment's own "
            f"{', '.join(a + '/' for a in DEPLOYMENT_AREAS)}"
        )
    for area in DEPLOYMENT_AREAS:
        if overlaps(prefix, area):
            return f"{prefix!r} reaches the deployment's own {area}/ area"
    for other in others:
        if overlaps(prefix, other):
            return f"{prefix!r} overlaps a folder another project reads"
    return None
