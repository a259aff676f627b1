"""Core statements compiled once per dialect and run straight on the driver's cursor.

The move is the product's hot path: a handful of small statements per transaction. Going
through SQLAlchemy's `Connection.execute` costs ~40 µs per statement here, more than SQLite
takes to do the work. So the hot path keeps its statements as Core (one definition, checked
against the schema like every other query), compiles each once per dialect, and executes the
SQL text on the DBAPI connection underneath the unit of work's Connection, inside the same
transaction. Values are converted the way SQLAlchemy's types would store them, and rows
come back converted the way its types would read them (SQLite returns dates as text), for a
SELECT and for an INSERT/UPDATE … RETURNING alike.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any, cast

import orjson
from sqlalchemy import JSON, Connection, Date, DateTime
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


def _sqlite_value(value: Any) -> Any:
    """SQLAlchemy's SQLite storage: ISO dates, naive UTC datetimes with microseconds."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _sqlite_rows(
    order: tuple[str, ...], defaults: dict[str, Any], rows: list[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """Positional rows for executemany, converting only date columns, each distinct value once.

    A batch of alerts shares a few deadlines and one 'raised at': converting every value of
    every row one by one cost more than SQLite's insert. The values are picked in C
    (`itemgetter`); only the columns that hold a date (or None) in the first row are looked at.
    """
    first = rows[0]
    if any(key not in first for key in order):  # literals in the statement: fill them in
        rows = [{**defaults, **row} for row in rows]
        first = rows[0]
    converted: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if not isinstance(value, date):
            return value
        found = converted.get(value)
        if found is None:
            found = converted[value] = _sqlite_value(value)
        return found

    pick = itemgetter(*order)
    picked = [pick(row) for row in rows] if len(order) > 1 else [(pick(row),) for row in rows]
    slots = [i for i, key in enumerate(order) if first[key] is None or isinstance(first[key], date)]
    if not slots:
        return picked
    out = []
    for values in picked:
        fixed = list(values)
        for i in slots:
            fixed[i] = convert(fixed[i])
        out.append(tuple(fixed))
    return out


def _read_date(value: Any) -> date:
    """A DATE column as the driver returns it (SQLite: text)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def _read_datetime(value: Any) -> datetime:
    """A DATETIME column as SQLite returns it: naive UTC text."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


Converters = tuple[tuple[int, Callable[[Any], Any]], ...]


class DriverResult:
    """The driver's cursor, with rows read as SQLAlchemy's types would read them."""

    __slots__ = ("_converters", "cursor")

    def __init__(self, cursor: Any, converters: Converters) -> None:
        self.cursor = cursor
        self._converters = converters

    @property
    def rowcount(self) -> int:
        return int(self.cursor.rowcount)

    def _convert(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        if not self._converters:
            return tuple(row)
        values = list(row)
        for i, read in self._converters:
            if values[i] is not None:
                values[i] = read(values[i])
        return tuple(values)

    def one_or_none(self) -> tuple[Any, ...] | None:
        row = self.cursor.fetchone()
        return None if row is None else self._convert(row)

    def one(self) -> tuple[Any, ...]:
        row = self.one_or_none()
        if row is None:
            raise LookupError("the statement returned no row")
        return row

    def all(self) -> list[tuple[Any, ...]]:
        """Every row, converted; each distinct stored value is read once (a scan's thousands
        of rows share a few deadlines, and parsing each one again cost more than the query)."""
        return self.convert_all(self.cursor.fetchall())

    def convert_all(self, rows: list[Any]) -> list[tuple[Any, ...]]:
        """`rows` as read from the driver, converted (see `all`)."""
        return list(self._converted(rows))

    def _converted(self, rows: list[Any]) -> Iterable[tuple[Any, ...]]:
        """`rows` converted column by column, each distinct value of a converted column read
        once (rows() reads a statement's rows in one pass instead: row_reader)."""
        if not self._converters or not rows:
            return rows
        columns: list[Any] = list(zip(*rows, strict=True))
        for i, convert in self._converters:
            column, distinct = columns[i], set(columns[i])
            distinct.discard(None)
            if 2 * len(distinct) > len(column):  # mostly distinct (moments of entry): no memo
                columns[i] = [None if value is None else convert(value) for value in column]
                continue
            read = {value: convert(value) for value in distinct}
            columns[i] = map(read.get, column)  # None is no key: it stays None
        return zip(*columns, strict=True)


#: Rows per multi-row INSERT on SQLite: well under its 32,766 parameters for any table here.
_BATCH = 500


@lru_cache(maxsize=64)
def _many_values(sql: str, rows: int) -> str:
    """`INSERT … VALUES (?, …) tail` as one statement for `rows` rows: the VALUES tuple
    repeated (its end found by counting parentheses; literals in it hold none)."""
    head, rest = sql.split(" VALUES ", 1)
    depth, end = 0, 0
    while True:
        depth += {"(": 1, ")": -1}.get(rest[end], 0)
        end += 1
        if depth == 0:
            break
    values, tail = rest[:end], rest[end:]
    return f"{head} VALUES {', '.join([values] * rows)}{tail}"


def _converters(compiled: SQLCompiler, dialect: str) -> Converters:
    """How each column SQLite returns as text is read: dates, moments and JSON documents."""
    if dialect != "sqlite":  # psycopg returns dates, datetimes and JSON as Python objects
        return ()
    found: list[tuple[int, Callable[[Any], Any]]] = []
    for i, column in enumerate(getattr(compiled, "_result_columns", ())):
        if isinstance(column.type, JSON):
            found.append((i, orjson.loads))
        elif isinstance(column.type, DateTime):
            found.append((i, _read_datetime))
        elif isinstance(column.type, Date):
            found.append((i, _read_date))
    return tuple(found)


def row_reader(row: type, width: int, converters: Converters) -> Callable[[list[Any]], list[Any]]:
    """A function that reads fetched rows of `width` columns into `row`s (a named tuple),
    converting each row's dates, moments (aware UTC) and JSON in one pass.

    Made once per statement and dialect, from source written for its columns, as namedtuple
    and dataclasses make their methods: unpacking a row into locals and building the named
    tuple from them costs half of converting column by column (transposing, converting,
    transposing back) and a third of a Python call per row. A report reads 40,000 rows so.
    """
    values = [f"v{i}" for i in range(width)]
    read = list(values)
    env: dict[str, Any] = {"new": tuple.__new__, "row": row, "day": date.fromisoformat}
    for i, convert in converters:
        v = values[i]
        if convert is _read_date:  # each distinct date parsed once, in C calls only
            read[i] = f"(dates[{v}] if {v} in dates else put({v}, day({v})))"
        elif convert is _read_datetime:
            # Naive UTC text read aware, as psycopg reads them: parsed with its offset
            # (datetime.replace would cost eight times the parse).
            env["moment"] = datetime.fromisoformat
            read[i] = f"(None if {v} is None else moment({v} + '+00:00'))"
        else:
            env[f"read{i}"] = convert
            read[i] = f"(None if {v} is None else read{i}({v}))"
    source = (
        "def read(rows):\n"
        "    dates = {None: None}\n"
        "    put = dates.setdefault\n"
        f"    return [new(row, ({', '.join(read)},)) for {', '.join(values)}, in rows]\n"
    )
    exec(source, env)  # the source is made above from column positions only
    return cast(Callable[[list[Any]], list[Any]], env["read"])


class DriverStatement:
    """One Core statement, compiled per dialect on first use."""

    __slots__ = ("_compiled", "_for_dialect", "_readers", "_row", "statement")

    def __init__(
        self, statement: ClauseElement, for_dialect: Callable[[str], ClauseElement] | None = None
    ) -> None:
        """`for_dialect` builds a dialect's own form (e.g. INSERT … ON CONFLICT) by name."""
        self.statement = statement
        self._for_dialect = for_dialect
        self._compiled: dict[
            str, tuple[str, tuple[str, ...] | None, dict[str, Any], Converters]
        ] = {}
        self._row: Any = None
        self._readers: dict[str, Callable[[list[Any]], list[Any]]] = {}

    def _compile(
        self, conn: Connection
    ) -> tuple[str, tuple[str, ...] | None, dict[str, Any], Converters]:
        name = conn.dialect.name
        found = self._compiled.get(name)
        if found is None:
            statement = self._for_dialect(name) if self._for_dialect else self.statement
            compiled = cast(SQLCompiler, statement.compile(dialect=conn.dialect))
            order = (
                tuple(compiled.positiontup)
                if conn.dialect.positional and compiled.positiontup
                else None
            )
            # Literals in the statement ('open', 'met') are binds with a value: their defaults.
            defaults = {
                key: bind.value for key, bind in compiled.binds.items() if not bind.required
            }
            found = (str(compiled), order, defaults, _converters(compiled, name))
            self._compiled[name] = found
        return found

    def execute_many(self, conn: Connection, rows: list[dict[str, Any]]) -> int:
        """Run once per row in one round of the driver's executemany; returns rows affected."""
        if not rows:
            return 0
        sql, order, defaults, _ = self._compile(conn)
        driver = conn.connection.driver_connection
        try:
            if order is not None:
                values = _sqlite_rows(order, defaults, rows)
                return int(driver.executemany(sql, values).rowcount)  # type: ignore[union-attr]
            cursor = driver.cursor()  # type: ignore[union-attr]
            cursor.executemany(sql, [{**defaults, **row} for row in rows])
            return int(cursor.rowcount)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, rows[0], exc, conn.dialect.loaded_dbapi.Error) from exc

    def execute_many_returning(
        self, conn: Connection, rows: list[dict[str, Any]]
    ) -> list[tuple[Any, ...]]:
        """Run once per row and return what the statement's RETURNING gave, converted: the
        rows an INSERT … ON CONFLICT DO NOTHING really inserted, so a caller never has to find
        them again (by a timestamp, say). psycopg returns each statement's rows from one
        executemany; sqlite3's executemany returns none, so there the rows go in batches of
        one multi-row INSERT each (what SQLAlchemy calls "insertmanyvalues")."""
        if not rows:
            return []
        sql, order, defaults, converters = self._compile(conn)
        driver = conn.connection.driver_connection
        found: list[Any] = []
        try:
            if order is not None:
                values = _sqlite_rows(order, defaults, rows)
                for start in range(0, len(values), _BATCH):
                    batch = values[start : start + _BATCH]
                    flat = [value for row in batch for value in row]
                    statement = _many_values(sql, len(batch))
                    found.extend(driver.execute(statement, flat).fetchall())  # type: ignore[union-attr]
            else:
                cursor = driver.cursor()  # type: ignore[union-attr]
                cursor.executemany(sql, [{**defaults, **row} for row in rows], returning=True)
                while True:
                    found.extend(cursor.fetchall())
                    if not cursor.nextset():
                        break
        except conn.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, rows[0], exc, conn.dialect.loaded_dbapi.Error) from exc
        return DriverResult(None, converters).convert_all(found)

    def sent(self, conn: Connection, params: dict[str, Any]) -> tuple[str, Any]:
        """The SQL text and the parameters the driver receives when run with `params`."""
        sql, values, _ = self._prepared(conn, params)
        return sql, values

    def _prepared(self, conn: Connection, params: dict[str, Any]) -> tuple[str, Any, Converters]:
        sql, order, defaults, converters = self._compile(conn)
        values = {**defaults, **params}
        if order is not None:  # SQLite: qmark parameters, in order
            return sql, tuple(_sqlite_value(values[key]) for key in order), converters
        return sql, values, converters

    def execute(self, conn: Connection, params: dict[str, Any]) -> DriverResult:
        """Run with `params` in the connection's current transaction."""
        sql, values, converters = self._prepared(conn, params)
        driver = conn.connection.driver_connection
        try:
            cursor = driver.execute(sql, values)  # type: ignore[union-attr]
            return DriverResult(cursor, converters)
        except conn.dialect.loaded_dbapi.Error as exc:
            # The same exception types as SQLAlchemy's own path, so callers map them once.
            raise DBAPIError.instance(sql, values, exc, conn.dialect.loaded_dbapi.Error) from exc

    def rows(self, conn: Connection, params: dict[str, Any] | None = None) -> list[Any]:
        """Every row of a SELECT, converted, each a named tuple of the selected columns' names.

        For reads of thousands of rows (the progress report, a status on a day): the folds
        read them by name, and a named tuple's field costs what a tuple's index does, where
        SQLAlchemy's Row looks each name up in Python. Moments come back aware (UTC) on both
        databases.
        """
        result = self.execute(conn, params or {})
        read = self._readers.get(conn.dialect.name)
        if read is None:
            if self._row is None:
                names = [column.key for column in getattr(self.statement, "selected_columns", ())]
                self._row = namedtuple("DriverRow", names)  # type: ignore[misc]
            read = self._readers[conn.dialect.name] = row_reader(
                self._row, len(self._row._fields), result._converters
            )
        return read(result.cursor.fetchall())
