"""The driver path (db/driver.py) stores exactly what SQLAlchemy's own insert stores.

The hot paths (moves, the scan) write through the DBAPI cursor and convert values by hand;
SQLite compares dates and times as text, so a stored value that differs from SQLAlchemy's
format in a single character would break every later query. Compared here as raw column
text, row for row, on both databases: a date column that is None in the first row and set in
a later one, aware times in Amsterdam time, and a literal the statement carries itself.
(The services hand SQLAlchemy times in UTC, since its SQLite type drops the zone; the driver
path takes any aware time and stores it in UTC.)
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text

from imvo_workflow.bootstrap import App
from imvo_workflow.db import tables as t
from imvo_workflow.db.driver import DriverStatement
from imvo_workflow.domain.clock import AMSTERDAM

_BOUND = ("key", "target_id", "covenant_id", "user_id", "days", "deadline", "fire_at", "lines")
#: `kind` and `raised_at` are literals of the statement: the driver fills them in per row.
_INSERT = DriverStatement(
    insert(t.alert).values(
        kind="due",
        raised_at=datetime(2016, 11, 1, 10, 0, 0, 123456, tzinfo=AMSTERDAM),
        **{name: bindparam(name) for name in _BOUND},
    )
)


def _rows(prefix: str) -> list[dict[str, Any]]:
    common = {"target_id": None, "covenant_id": None, "user_id": None, "days": 0, "lines": "[]"}
    return [
        {  # no deadline in the first row: the column must still be converted in later rows
            **common,
            "key": f"{prefix}1",
            "deadline": None,
            "fire_at": datetime(2016, 11, 2, 9, 0, tzinfo=AMSTERDAM),
        },
        {
            **common,
            "key": f"{prefix}2",
            "deadline": date(2016, 10, 31),
            "fire_at": datetime(2016, 7, 1, 9, 0, 0, 5, tzinfo=AMSTERDAM),  # summer time
        },
        {
            **common,
            "key": f"{prefix}3",
            "deadline": date(2016, 10, 31),  # the same values again: converted once, reused
            "fire_at": datetime(2016, 7, 1, 9, 0, 0, 5, tzinfo=AMSTERDAM),
        },
    ]


def test_the_driver_path_stores_what_sqlalchemy_stores(app: App) -> None:
    literals = {
        "kind": "due",
        "raised_at": datetime(2016, 11, 1, 9, 0, 0, 123456, tzinfo=UTC),
    }
    with app.uow() as uow:
        assert _INSERT.execute_many(uow.conn, _rows("driver")) == 3
        uow.conn.execute(
            insert(t.alert),
            [
                {**row, **literals, "lines": [], "fire_at": row["fire_at"].astimezone(UTC)}
                for row in _rows("orm")
            ],
        )
        uow.commit()
    with app.engine.connect() as db:
        # Raw text on SQLite (no type processing), the driver's values on PostgreSQL.
        stored = {
            row[0]: tuple(str(value) for value in row[1:])
            for row in db.execute(
                text(
                    "SELECT key, kind, deadline, fire_at, raised_at, lines, days FROM alert"
                    " ORDER BY key"
                )
            )
        }
    for n in (1, 2, 3):
        assert stored[f"driver{n}"] == stored[f"orm{n}"]
    assert stored["driver1"][1] == "None"
    assert stored["driver2"][1] == "2016-10-31"


def test_execute_many_with_no_rows_does_nothing(app: App) -> None:
    with app.uow() as uow:
        assert _INSERT.execute_many(uow.conn, []) == 0


_RETURNING = DriverStatement(
    insert(t.alert)
    .values(kind="due", **{name: bindparam(name) for name in (*_BOUND, "raised_at")})
    .returning(t.alert.c.id, t.alert.c.deadline, t.alert.c.fire_at, t.alert.c.key)
)
_READ_BACK = DriverStatement(
    select(t.alert.c.key, t.alert.c.deadline, t.alert.c.fire_at)
    .where(t.alert.c.key.like(bindparam("b_prefix")))
    .order_by(t.alert.c.key)
)


def test_the_driver_path_returns_rows_as_sqlalchemy_reads_them(app: App) -> None:
    """RETURNING and SELECT give dates and times back as objects, on both databases."""
    raised = datetime(2016, 11, 1, 9, 0, tzinfo=UTC)
    with app.uow() as uow:
        returned = [
            _RETURNING.execute(uow.conn, row | {"raised_at": raised}).one()
            for row in _rows("back-")
        ]
        read = _READ_BACK.execute(uow.conn, {"b_prefix": "back-%"}).all()
        missing = _READ_BACK.execute(uow.conn, {"b_prefix": "nothing-%"}).one_or_none()
    assert [r[1] for r in returned] == [None, date(2016, 10, 31), date(2016, 10, 31)]
    assert all(isinstance(r[0], int) for r in returned)
    fire_at = [r[2] for r in read]
    assert all(isinstance(moment, datetime) for moment in fire_at)
    as_utc = [m if m.tzinfo else m.replace(tzinfo=UTC) for m in fire_at]
    assert as_utc[1] == datetime(2016, 7, 1, 9, 0, 0, 5, tzinfo=AMSTERDAM)
    assert [(k, d) for k, d, _ in read] == [
        ("back-1", None),
        ("back-2", date(2016, 10, 31)),
        ("back-3", date(2016, 10, 31)),
    ]
    assert read[1][1] is read[2][1] or app.settings.database_url.startswith("postgresql")
    assert missing is None


_NAMED = DriverStatement(
    select(t.alert.c.key, t.alert.c.deadline, t.alert.c.fire_at, t.alert.c.lines)
    .where(t.alert.c.key.like(bindparam("b_prefix")))
    .order_by(t.alert.c.key)
)


def test_rows_are_named_and_read_as_postgresql_reads_them(app: App) -> None:
    """`rows()` (the report's reads): fields by column name, moments aware in UTC and JSON
    documents decoded, on both databases alike; a mostly-distinct column is read right too."""
    many = [
        row
        | {"key": f"named-{n:03d}", "lines": '["a", "b"]'}
        | {
            "fire_at": datetime(2016, 7, 1, 9, 0, n, tzinfo=AMSTERDAM)  # every one distinct
        }
        for n, row in enumerate(_rows("x") * 20)
    ]
    with app.uow() as uow:
        _INSERT.execute_many(uow.conn, many)
        rows = _NAMED.rows(uow.conn, {"b_prefix": "named-%"})
        none = _NAMED.rows(uow.conn, {"b_prefix": "nothing-%"})
    assert none == []
    assert [r.key for r in rows] == [row["key"] for row in many]
    assert [r.deadline for r in rows] == [row["deadline"] for row in many]
    assert [r.fire_at for r in rows] == [row["fire_at"] for row in many]
    assert all(r.fire_at.tzinfo is not None for r in rows)
    assert {tuple(r.lines) for r in rows} == {("a", "b")}


_ONE_COLUMN = DriverStatement(
    select(t.alert.c.deadline)
    .where(t.alert.c.key.like(bindparam("b_prefix")))
    .order_by(t.alert.c.key)
)


def test_rows_of_one_column_and_of_none(app: App) -> None:
    """rows() reads each statement through source made for its columns: one column too, and
    a converted column whose value is None stays None."""
    with app.uow() as uow:
        _INSERT.execute_many(uow.conn, _rows("single-"))
        rows = _ONE_COLUMN.rows(uow.conn, {"b_prefix": "single-%"})
    assert [r.deadline for r in rows] == [None, date(2016, 10, 31), date(2016, 10, 31)]
    assert [tuple(r) for r in rows] == [(None,), (date(2016, 10, 31),), (date(2016, 10, 31),)]
