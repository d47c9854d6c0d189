"""Who may do what in a project, as pure predicates over a member's role."""

from enum import StrEnum


class Role(StrEnum):
    """A member's role in one project."""

    MANAGER = "manager"
    REVIEWER = "reviewer"
    ANNOTATOR = "annotator"


def parse_role(value: str) -> Role:
    """Returns the Role named by ``value``.

    Raises:
        ValueError: It is not manager, reviewer or annotator.
    """
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise ValueError(
            f"unknown role {value!r}; expected one of {', '.join(r.value for r in Role)}"
        ) from None


def can_view(role: Role | None, *, is_admin: bool) -> bool:
    """Returns True when the user may see the project at all."""
    return is_admin or role is not None


def can_annotate(role: Role | None, *, is_admin: bool) -> bool:
    """Returns True when the user may pull tasks and submit annotations."""
    return is_admin or role in (Role.MANAGER, Role.ANNOTATOR, Role.REVIEWER)


def can_review(role: Role | None, *, is_admin: bool) -> bool:
    """Returns True when the user may accept or reject annotations."""
    return is_admin or role in (Role.MANAGER, Role.REVIEWER)


def can_manage(role: Role | None, *, is_admin: bool) -> bool:
    """Returns True when the user may edit settings, import, export, delete and add members."""
    return is_admin or role is Role.MANAGER
