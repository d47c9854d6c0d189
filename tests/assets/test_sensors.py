from datetime import UTC, datetime

import pytest

from labelops.sensors import _new_objects

T1 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
T2 = datetime(2026, 1, 1, 12, 0, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cursor", "objects", "new"),
    [
        # first tick: everything is new
        ({}, [("a", T1), ("b", T2)], ["a", "b"]),
        # nothing changed since the cursor
        ({"t": T2.isoformat(), "keys": ["b"]}, [("a", T1), ("b", T2)], []),
        # a key uploaded in the same second as the mark, after the tick (S3 has 1 s resolution)
        ({"t": T2.isoformat(), "keys": ["b"]}, [("a", T1), ("b", T2), ("c", T2)], ["c"]),
        # an object rewritten later is new again
        ({"t": T1.isoformat(), "keys": ["a"]}, [("a", T2)], ["a"]),
        # the newest object was deleted: older ones stay old
        ({"t": T2.isoformat(), "keys": ["b"]}, [("a", T1)], []),
    ],
)
def test_new_objects_follow_the_high_water_mark(
    cursor: dict[str, object], objects: list[tuple[str, datetime]], new: list[str]
) -> None:
    found, following = _new_objects(cursor, objects)

    assert found == new
    again, _ = _new_objects(following, objects)
    assert again == []
