"""Engines and the unit of work: the one place a transaction is opened and committed.

SQLite gets WAL, foreign keys, a busy timeout and `BEGIN IMMEDIATE` for writing units of work
(its dialect ignores FOR UPDATE, so the write lock is taken up front instead; two writers then
queue rather than fail late on a stale snapshot). PostgreSQL uses psycopg 3.

A UnitOfWork made with `keep_connection=True` keeps its connection between transactions, so
a process that does many moves (a worker, a benchmark) pays the pool checkout once.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InvalidatePoolError,
)

from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.files import create_private

#: The databases this product runs on (and installs drivers for).
SUPPORTED = ("sqlite", "postgresql")


def make_engine(url: str, *, create: bool = False, **kwargs: Any) -> Engine:
    """Build an engine for `url`.

    A SQLite file (and its folder) is only made when `create` is set, which only
    `imvo db upgrade` does: otherwise the file is opened read-write but never created, so
    any other command (or web process) on a missing file fails as "not set up" (SQLite's
    CANTOPEN; see `missing_sqlite_file`) and leaves nothing behind. An unsupported kind of
    database is refused by name.
    """
    backend = make_url(url).get_backend_name()  # ArgumentError for a URL that is none
    if backend not in SUPPORTED:
        raise InvalidInput(
            f"IMVO_DATABASE_URL: database '{backend}' wordt niet ondersteund; gebruik "
            "sqlite:///pad/naar/imvo.db of postgresql://gebruiker@host/database."
        )
    if backend == "sqlite":
        return _sqlite_engine(url, create=create, **kwargs)
    return _postgres_engine(url, **kwargs)


#: A pooled PostgreSQL connection handed back less than this long ago is handed out again
#: without a ping (HikariCP's "alive bypass window", also 500 ms).
PING_AFTER_IDLE_SECONDS = 0.5
#: PostgreSQL connections a process keeps open between uses, and how many more it may open
#: for a peak (closed again when handed back). SQLAlchemy's 5 + 10 closed and reopened
#: connections all the time under 8 concurrent API clients per web process (bench/writers.py):
#: each reopening costs the server a new backend process.
POOL_SIZE, POOL_OVERFLOW = 10, 10


def _postgres_engine(url: str, **kwargs: Any) -> Engine:
    """An engine whose pool pings a connection before handing it out, unless it was in use
    a moment ago: SQLAlchemy's pre-ping costs a round trip on every checkout, which was one
    of the API move's five (bench/web.py, issue 14). A connection that dies within the window
    fails its statement instead; the unit of work then discards it (`_broken`) and the
    caller gets the database's 503, as with a server lost mid-transaction. A connection that
    fails its ping is replaced, and with it every connection pooled before (a restarted
    server dropped them all)."""
    kwargs = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, **kwargs}
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _note_use(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:  # None: a connection already discarded
            record.info["used_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        used_at = record.info.get("used_at")
        if used_at is not None and time.monotonic() - used_at < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise InvalidatePoolError(f"ping failed: {exc}") from exc
        if not alive:
            raise InvalidatePoolError("ping failed")

    return engine


def missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file `url` names, if it does not exist (nothing has set this database up)."""
    path = sqlite_file(url)
    return path if path is not None and not path.exists() else None


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    path = url.split("///", 1)[1] if url.startswith("sqlite") and "///" in url else ""
    path = path.split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def _sqlite_engine(url: str, *, create: bool, **kwargs: Any) -> Engine:
    path = sqlite_file(url)
    if path is not None and create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInput(
                f"Kan de map {path.parent} voor de database niet maken: {exc.strerror}."
            ) from None
    engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

    if path is not None and not create:

        @event.listens_for(engine, "do_connect")
        def _never_create(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> None:
            # mode=rw: open an existing file, never make an empty one as a side effect.
            cargs[:] = [f"file:{quote(str(path))}?mode=rw"]
            cparams.pop("database", None)
            cparams["uri"] = True

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module so BEGIN is ours.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    if path is not None and create:

        @event.listens_for(engine, "do_connect")
        def _private_file(*_: Any) -> None:
            # A new database file is made 0600 before sqlite3 would make it with the umask's
            # mode; SQLite gives its -wal and -shm files the database file's mode.
            with contextlib.suppress(OSError):  # not creatable: sqlite3 says so in its terms
                create_private(path)

    @event.listens_for(engine, "connect")
    def _note_read_only(_dbapi_conn: Any, record: Any) -> None:
        # SQLite opens a file it cannot write read-only, silently, for the connection's life.
        record.info["read_only_file"] = path is not None and not os.access(path, os.W_OK)

    @event.listens_for(engine, "checkout")
    def _drop_if_fixed(_dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        # Once the file can be written again, such a connection is replaced (the pool
        # connects afresh on DisconnectionError), so writes work again without a restart.
        if record.info.get("read_only_file") and path is not None and os.access(path, os.W_OK):
            raise DisconnectionError("database file is writable again")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Straight to the driver: this runs once per transaction, on the move's hot path.
        # SQLAlchemy does not wrap what an event raises, so a failed BEGIN (a file made
        # read-only, a full disk) is wrapped here as the DBAPIError every caller handles, and
        # the connection is discarded: one opened read-only would stay so after a fix.
        statement = "BEGIN" if conn.info.get("readonly") else "BEGIN IMMEDIATE"
        try:
            conn.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
        except sqlite3.Error as exc:
            conn.invalidate()
            raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc

    return engine


class UnitOfWork:
    """`with uow: ...; uow.commit()`: leaving the block without commit rolls back.

    `conn` is the Core connection every service works through (the ORM models describe the
    schema, for the migrations; queries are Core). Nothing but `commit()` here ever commits.
    """

    def __init__(
        self, engine: Engine, *, readonly: bool = False, keep_connection: bool = False
    ) -> None:
        self.engine = engine
        self.readonly = readonly
        #: Keep the connection between transactions (a worker doing many moves); otherwise
        #: it goes back to the pool when the block ends.
        self.keep_connection = keep_connection
        self._conn: Connection | None = None
        self._committed = False

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def conn(self) -> Connection:
        if self._conn is None or not self._conn.in_transaction():
            raise RuntimeError("UnitOfWork used outside its `with` block")
        return self._conn

    def __enter__(self) -> UnitOfWork:
        if self._conn is None or self._conn.closed:
            self._conn = self.engine.connect()
        self._conn.info["readonly"] = self.readonly
        try:
            self._conn.begin()
        except BaseException:
            self._conn.close()  # __exit__ does not run when __enter__ fails
            self._conn = None
            raise
        self._committed = False
        return self

    def commit(self) -> None:
        self.conn.commit()
        self._committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._conn is not None and _broken(exc):
            # Never back into the pool: a lost server, a file opened read-only, a full disk.
            self._conn.invalidate()
        if self._conn is not None and self._conn.in_transaction():
            self._conn.rollback()
        if self._conn is not None and (exc_type is not None or not self.keep_connection):
            # After an error the connection may be unusable (lost server): start afresh.
            self._conn.close()
            self._conn = None

    @contextmanager
    def one_statement(self) -> Iterator[UnitOfWork]:
        """`with uow.one_statement(): …; uow.commit()`: a unit of work whose one write is one
        statement, which PostgreSQL commits as it completes (autocommit), so neither BEGIN nor
        COMMIT costs a round trip. Reads before it see committed data, as every statement of
        a READ COMMITTED transaction does; a second write would not be atomic with the first,
        so only a caller that writes with one statement may use it (the one-statement move,
        services/moves.py). On SQLite it is an ordinary unit of work."""
        with self:
            driver: Any = self.conn.connection.driver_connection
            autocommit = self.dialect == "postgresql"
            if autocommit:
                driver.autocommit = True
            try:
                yield self
            finally:
                if autocommit:
                    try:
                        driver.autocommit = False
                    except Exception:  # never back into the pool committing by itself
                        if self._conn is not None:
                            self._conn.invalidate()

    @contextmanager
    def holding_connection(self) -> Iterator[UnitOfWork]:
        """Keep one connection across the transactions inside (a drain of many batches), then
        hand it back: a pool checkout on PostgreSQL costs a ping, a round trip per transaction."""
        kept = self.keep_connection
        self.keep_connection = True
        try:
            yield self
        finally:
            self.keep_connection = kept
            if not kept:
                self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _broken(exc: BaseException | None) -> bool:
    """A driver failure after which the connection cannot be trusted (not a refused value)."""
    if isinstance(exc, DBAPIError):
        return not isinstance(exc, (IntegrityError, DataError))
    return isinstance(exc, sqlite3.Error)
