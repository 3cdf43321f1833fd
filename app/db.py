"""Database engines, sessions and migrations."""

import threading
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool, StaticPool

from app.errors import APIError
from app.settings import bundled_path


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite's own lower() folds ASCII only; case-insensitive filters (lower(x) LIKE
    # lower(y)) must work in every script, as they do on PostgreSQL.
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
    # The driver's own transaction handling starts a transaction only before a write, so the
    # reads before it could see an older state than the write; BEGIN is sent explicitly below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the API read while an ingest writes; NORMAL sync is durable in WAL mode
    # except for the last transactions on power loss, which re-ingest restores.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # Pages are read from the file mapped in memory: a page the connection's own cache does not
    # hold costs a memory read instead of a system call and a copy.
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


def _json_text(value: Any) -> str:
    # Compact, and UTF-8 rather than \u escapes: smaller rows, and what responses carry.
    return orjson.dumps(value).decode()


def _sqlite_writer_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # A writer touches index pages all over a large database: with SQLite's default 2 MB
    # page cache, loading into 100,000 articles spent a third of its time reading back and
    # writing out the same pages. It reads through its own cache, not the memory map, which
    # would count every page it touched as its memory.
    dbapi_connection.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
    dbapi_connection.execute("PRAGMA mmap_size=0")


SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITER_CACHE_KIB = 256 * 1024
SQLITE_MMAP_BYTES = 1 << 40  # as much of the file as SQLite maps (2 GiB as usually built)
# Ingest and migrations serialise on this lock on PostgreSQL, as they do on SQLite's
# single writer: two ingests adding the same new entity would otherwise deadlock.
WRITER_LOCK = 0x61726674  # "arft"


def create_db_engine(
    url: str,
    *,
    writer: bool = False,
    pool_size: int = 5,
    max_overflow: int = 10,
    pool_timeout: float = 30.0,
    pool_recycle: int = 1800,
    statement_timeout_ms: int = 0,
) -> Engine:
    """An engine for ``url`` whose transactions each see one consistent state of the data.

    A reader's transaction is a snapshot (SQLite ``BEGIN`` in WAL mode, PostgreSQL
    ``REPEATABLE READ``), so a response never mixes data from before and after an ingest. A
    ``writer`` (ingest, migrations) holds the database's single write lock for its whole
    transaction: ``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on PostgreSQL.
    A reader's statements on PostgreSQL stop after ``statement_timeout_ms`` (0: never); on
    SQLite, ``Database`` sets each transaction's time limit.
    """
    pool: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": max_overflow,
        "pool_timeout": pool_timeout,
        "pool_recycle": pool_recycle,
    }
    # JSON columns (anchors) are read on every request: orjson parses them several times
    # faster than the standard library, and writes them compactly.
    fast_json = {"json_deserializer": orjson.loads, "json_serializer": _json_text}
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # A file on this machine, so no ping before each checkout (a statement per request).
        # An in-memory database lives as long as its one connection: share that connection.
        memory = parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False},
            **fast_json,
            **({"poolclass": StaticPool} if memory else {"poolclass": QueuePool, **pool}),
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if writer:
            event.listen(engine, "connect", _sqlite_writer_pragmas)
        begin = "BEGIN IMMEDIATE" if writer else "BEGIN"
        # Sent on the driver's own connection: every request begins a transaction, and
        # SQLAlchemy's execution path costs more than the statement.
        event.listen(engine, "begin", lambda conn: conn.connection.dbapi_connection.execute(begin))
        return engine
    # A server connection may have been closed by the server or the network.
    pool["pool_pre_ping"] = True
    if writer:
        engine = create_engine(url, **pool, **fast_json)
        event.listen(
            engine,
            "begin",
            lambda conn: conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITER_LOCK})"),
        )
        return engine
    # A reader's statements stop after the time limit, counted by the server itself.
    connect_args = (
        {"options": f"-c statement_timeout={statement_timeout_ms}"} if statement_timeout_ms else {}
    )
    return create_engine(
        url,
        isolation_level="REPEATABLE READ",
        connect_args=connect_args,
        **pool,
        **fast_json,
    )


def on_loop(engine: Engine, setting: str = "auto") -> bool:
    """Whether cheap reads of ``engine`` may run on the event loop rather than in a thread.

    By default (``auto``) on SQLite, which answers an indexed read from the page cache in
    microseconds and whose readers never wait for a writer in WAL mode: a hop to a worker
    thread (about 100 µs) costs more than the read. PostgreSQL waits on the network, which a
    worker thread overlaps with other requests.
    """
    return engine.dialect.name == "sqlite" if setting == "auto" else setting == "true"


class DatabaseBusy(APIError):
    """Every connection the worker may open is in use, and none came free in time."""

    status_code = 503


class Gate:
    """How many connections of an engine may be open at once: the pool's capacity.

    Every connection a reader opens passes the gate first, so the pool itself never makes a
    caller wait. A caller on the event loop only ever tries (``try_enter``), and moves its
    work to a thread when the gate is full; a thread waits up to the pool's timeout.
    """

    __slots__ = ("_slots", "timeout")

    def __init__(self, size: int, timeout: float) -> None:
        self._slots = threading.BoundedSemaphore(size)
        self.timeout = timeout

    def try_enter(self) -> bool:
        """Take a slot if one is free now."""
        return self._slots.acquire(blocking=False)

    def enter(self) -> None:
        """Take a slot, waiting up to ``timeout`` seconds; DatabaseBusy after that."""
        if not self._slots.acquire(timeout=self.timeout):
            raise DatabaseBusy(
                f"every database connection stayed in use for {self.timeout:g} s; try again"
            )

    def leave(self) -> None:
        self._slots.release()


def gate_for(engine: Engine, pool_size: int, max_overflow: int, timeout: float) -> Gate:
    """The gate of ``engine``: the pool's size plus overflow, or one for a shared connection."""
    size = pool_size + max_overflow if isinstance(engine.pool, QueuePool) else 1
    return Gate(size, timeout)


# How often (in SQLite virtual machine instructions) a statement checks its time limit.
PROGRESS_STEPS = 10_000


def limit_time(conn: Connection, milliseconds: int) -> None:
    """Interrupt ``conn``'s statements once ``milliseconds`` have passed from now (SQLite).

    PostgreSQL connections of the API carry a ``statement_timeout`` instead (see
    ``create_db_engine``). Either way the statement fails with an OperationalError that
    ``app.errors.is_timeout`` recognises.
    """
    if conn.dialect.name != "sqlite" or milliseconds <= 0:
        return
    deadline = time.monotonic() + milliseconds / 1000
    monotonic = time.monotonic

    def past_deadline() -> bool:
        return monotonic() > deadline

    driver = conn.connection.dbapi_connection
    driver.set_progress_handler(past_deadline, PROGRESS_STEPS)  # type: ignore[union-attr]


def _clear_time_limit(conn: Connection) -> None:
    if conn.dialect.name == "sqlite" and not conn.closed and not conn.invalidated:
        driver = conn.connection.dbapi_connection
        driver.set_progress_handler(None, 0)  # type: ignore[union-attr]


class Database:
    """One unit of reading: a connection opened on first use, in one transaction, closed by
    ``close``.

    Its transaction is a snapshot (see ``create_db_engine``) whose statements share one time
    limit. A route that never asks for the connection never touches the database, so health
    checks and docs answer while the database is down. ``on_open`` runs once the connection
    is open (the HTTP layer reads the data's revision there). ``entered`` says the caller
    already holds a slot of the gate.
    """

    __slots__ = ("_conn", "engine", "entered", "gate", "limit_ms", "on_open")

    def __init__(
        self,
        engine: Engine,
        gate: Gate,
        *,
        limit_ms: int = 0,
        on_open: Callable[[Connection], None] | None = None,
        entered: bool = False,
    ) -> None:
        self.engine = engine
        self.gate = gate
        self.limit_ms = limit_ms
        self.on_open = on_open
        self.entered = entered
        self._conn: Connection | None = None

    def connection(self) -> Connection:
        """The connection, in its transaction."""
        conn = self._conn
        if conn is None:
            if not self.entered:
                self.gate.enter()
                self.entered = True
            conn = self.engine.connect()
            try:
                conn.begin()
                limit_time(conn, self.limit_ms)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
            if self.on_open is not None:
                self.on_open(conn)
        return conn

    def close(self) -> None:
        """End the transaction, return the connection, and leave the gate."""
        conn, self._conn = self._conn, None
        try:
            if conn is not None:
                try:
                    _clear_time_limit(conn)
                finally:
                    conn.close()
        finally:
            if self.entered:
                self.entered = False
                self.gate.leave()


def alembic_config(url: str) -> Config:
    """Alembic configuration for ``url``, pointing at the project's migrations."""
    config = Config()
    config.set_main_option("script_location", str(bundled_path("migrations")))
    config.attributes["database_url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


@cache
def _scripts() -> ScriptDirectory:
    """The migration scripts (read once: they do not change)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def code_head() -> str | None:
    """The newest migration revision the code knows."""
    return _scripts().get_current_head()


@cache
def known_revisions() -> frozenset[str]:
    """Every migration revision the code knows."""
    return frozenset(s.revision for s in _scripts().walk_revisions())


def schema_revision(engine: Engine) -> tuple[str | None, str | None]:
    """The database's current migration revision and the newest one the code knows."""
    with engine.connect() as conn:
        return migration_revision(conn)


def migration_revision(conn: Connection) -> tuple[str | None, str | None]:
    """``schema_revision`` read on a connection already open."""
    return MigrationContext.configure(conn).get_current_revision(), code_head()
