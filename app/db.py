"""Database engines, sessions and migrations."""

from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from functools import cache
from typing import Annotated, Any, TypeVar

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool, StaticPool
from starlette.concurrency import run_in_threadpool

from app.settings import bundled_path

T = TypeVar("T")


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
) -> Engine:
    """An engine for ``url`` whose transactions each see one consistent state of the data.

    A reader's transaction is a snapshot (SQLite ``BEGIN`` in WAL mode, PostgreSQL
    ``REPEATABLE READ``), so a response never mixes data from before and after an ingest. A
    ``writer`` (ingest, migrations) holds the database's single write lock for its whole
    transaction: ``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on PostgreSQL.
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
    return create_engine(url, isolation_level="REPEATABLE READ", **pool, **fast_json)


# Whether this request's database calls run on the event loop (see ``blocking``).
_ON_LOOP: ContextVar[bool] = ContextVar("database_on_loop", default=False)


def on_loop(engine: Engine, setting: str = "auto") -> bool:
    """Whether calls to ``engine`` run on the event loop rather than in the threadpool.

    By default (``auto``) on SQLite, which answers from the page cache in microseconds
    and whose readers never wait for a writer in WAL mode: a hop to a worker thread (about
    100 µs) costs more than it could overlap. PostgreSQL waits on the network, which a
    worker thread overlaps with other requests.
    """
    return engine.dialect.name == "sqlite" if setting == "auto" else setting == "true"


async def blocking(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a call that uses the request's database where ``on_loop`` says it belongs."""
    if _ON_LOOP.get():
        return call(*args, **kwargs)
    return await run_in_threadpool(call, *args, **kwargs)


class DatabaseSession:
    """A request's database connection: opened on first use, in one transaction, closed at
    the end of the request.

    Its transaction is a snapshot (see ``create_db_engine``). A route that never asks for
    the connection never touches the database, so health checks and docs answer while the
    database is down. Lighter than an ORM session, which the read routes have no use for.
    """

    __slots__ = ("_conn", "engine")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None

    def connection(self) -> Connection:
        """The request's connection, in its transaction."""
        conn = self._conn
        if conn is None:
            conn = self.engine.connect()
            try:
                conn.begin()
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return conn

    def rollback(self) -> None:
        """End the transaction (after a failed statement); the next use starts another."""
        self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


async def get_session(request: Request) -> AsyncIterator[DatabaseSession]:
    """One database session per request, on the app's engine (closed where its calls run)."""
    _ON_LOOP.set(request.app.state.db_on_loop)
    session = DatabaseSession(request.app.state.engine)
    try:
        yield session
    finally:
        await blocking(session.close)


SessionDep = Annotated[DatabaseSession, Depends(get_session)]


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
def code_head() -> str | None:
    """The newest migration revision the code knows (read once: the scripts do not change)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def schema_revision(engine: Engine) -> tuple[str | None, str | None]:
    """The database's current migration revision and the newest one the code knows."""
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, code_head()
