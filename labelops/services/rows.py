"""Rows by id: the one getter behind each service's ``get_<noun>``."""

from typing import TypeVar

from sqlalchemy.orm import Session

from labelops.db.base import Base
from labelops.domain.json_limits import is_stored_id
from labelops.services.errors import NotFoundError

RowT = TypeVar("RowT", bound=Base)


def get_row(session: Session, row_type: type[RowT], row_id: object, noun: str) -> RowT:
    """Returns the row of ``row_type`` with this id.

    Anything that cannot be a stored id (a string, a bool, an integer past 2^63-1) is not found,
    rather than handed to the database.

    Raises:
        NotFoundError: There is none (``"<noun> <id> not found"``).
    """
    row = session.get(row_type, row_id) if is_stored_id(row_id) else None
    if row is None:
        raise NotFoundError(f"{noun} {row_id} not found")
    return row
