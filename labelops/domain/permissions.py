"""Who may do what in a project, as pure predicates over a member's role."""

from enum import StrEnum

from labelops.domain.errors import InvalidInputError


class Role(StrEnum):
    """A member's role in one project."""

    MANAGER = "manager"
    REVIEWER = "reviewer"
    ANNOTATOR = "annotator"


def parse_role(value: str) -> Role:
    """Returns the Role named by ``value``.

    Raises:
        InvalidInputError: It is not manager, reviewer or annotator.
    """
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise InvalidInputError(
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


def can_set_ground_truth(role: Role | None, *, is_admin: bool) -> bool:
    """Returns True when the user may mark an annotation as ground truth (managers only)."""
    return can_manage(role, is_admin=is_admin)


def can_exceed_overlap(role: Role | None, *, is_admin: bool, ground_truth: bool) -> bool:
    """Returns True when the user may add a finished annotation to a task already at its overlap.

    Only a manager adding ground truth may: annotators, reviewers and managers' plain labels
    stop at the project's ``maximum_annotations``.
    """
    return ground_truth and can_set_ground_truth(role, is_admin=is_admin)


def can_review_annotation(*, is_author: bool, is_admin: bool) -> bool:
    """Returns True when a reviewer may decide on this annotation: never their own (admins may)."""
    return is_admin or not is_author


def can_change_accepted(role: Role | None, *, is_admin: bool) -> bool:
    """Returns True when the user may change or delete an annotation a reviewer accepted.

    Only managers and administrators may: otherwise an author could swap the result a reviewer
    accepted for one nobody reviewed.
    """
    return can_manage(role, is_admin=is_admin)
