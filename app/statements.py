"""Statements compiled once per dialect and run on the driver's own cursor (see ``Statement``)."""

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Dialect
from sqlalchemy.exc import DBAPIError

Fetched = list[Sequence[Any]]
Conversions = tuple[tuple[int, Callable[[Any], Any]], ...]

# Whether a statement may hand SQLite's JSON columns back still serialised (see
# ``serialised_json``).
_SERIALISED_JSON: ContextVar[bool] = ContextVar("serialised_json", default=False)


@contextmanager
def serialised_json() -> Iterator[None]:
    """Within the block, JSON columns read from SQLite by ``Statement`` are not parsed.

    They come back as ``orjson.Fragment``: orjson writes them into a response as they are,
    where parsing them only to serialise them again costs a page of claims more than
    reading it. For a response rendered as JSON and nothing else. A statement's ``parsed``
    columns, which the code reading them looks into, are parsed anyway; PostgreSQL's driver
    always parses.
    """
    token = _SERIALISED_JSON.set(True)
    try:
        yield
    finally:
        _SERIALISED_JSON.reset(token)


def _json_value(value: Any) -> Any:
    return None if value is None else orjson.loads(value)


def _json_fragment(value: Any) -> Any:
    return None if value is None else orjson.Fragment(value)


Converter = Callable[[Fetched], Fetched]


def _converter(conversions: Conversions, width: int) -> Converter | None:
    """A function converting the cells of every row (``width`` cells each) that need it.

    It is generated per statement, as dataclasses generates ``__init__``: looping over the
    conversions of each row of a page costs more than the conversions themselves. The two
    JSON conversions are written inline, so a row costs no Python call but the others'.
    """
    if not conversions:
        return None
    by_index = dict(conversions)
    namespace: dict[str, Any] = {"loads": orjson.loads, "Fragment": orjson.Fragment}
    cells = []
    for i in range(width):
        process = by_index.get(i)
        if process is None:
            cells.append(f"r[{i}]")
        elif process is _json_value:
            cells.append(f"(None if r[{i}] is None else loads(r[{i}]))")
        elif process is _json_fragment:
            cells.append(f"(None if r[{i}] is None else Fragment(r[{i}]))")
        else:
            namespace[f"p{i}"] = process
            cells.append(f"p{i}(r[{i}])")
    source = f"def convert(rows):\n    return [[{', '.join(cells)}] for r in rows]\n"
    exec(source, namespace)  # the source holds column indexes and names defined above
    convert: Converter = namespace["convert"]
    return convert


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # parameter names in order (qmark), or None (named)
    defaults: dict[str, Any]  # values the statement binds itself (literals, OFFSET 0)
    binds: dict[str, Callable[[Any], Any]]  # conversions of given values, by name
    columns: Converter | None  # converts result rows' cells (see ``_converter``)
    serialised: Converter | None  # the same, keeping JSON serialised (``serialised_json``)
    # (name, conversion or None, default) of each positional parameter, in order
    positional: tuple[tuple[str, Callable[[Any], Any] | None, Any], ...]
    # For rows of values given in ``columns`` order: where each positional parameter is in
    # such a row, with its conversion; and whether rows can be bound as they are.
    from_columns: tuple[tuple[int, Callable[[Any], Any] | None], ...]
    rows_as_given: bool


class Statement:
    """A Core statement compiled once per dialect and run on the driver's own cursor.

    SQLAlchemy's execution path (events, execution context, result metadata) costs more in
    Python than SQLite takes to answer an indexed read or write a row. The statements of the
    busiest reads and of ingest are compiled once per dialect; a call converts the parameters
    and result columns that SQLAlchemy would (SQLite's dates and JSON) and returns plain
    rows, in the statement's column order. It runs in the connection's current transaction,
    which must have begun, and fires SQLAlchemy's cursor events for their listeners.

    An INSERT or UPDATE is compiled for the ``columns`` it is given values for, each bound
    under its column's name. An INSERT given the ``key`` column it generates gives that
    key (``inserted``): the driver's last row id on SQLite, where RETURNING costs more than
    the insert itself, and RETURNING elsewhere.
    """

    __slots__ = ("_by_dialect", "columns", "key", "parsed", "statement")

    def __init__(
        self,
        statement: Any,
        *,
        parsed: Sequence[str] = (),
        columns: Sequence[str] = (),
        key: Any = None,
    ) -> None:
        self.statement = statement
        self.parsed = frozenset(parsed)  # JSON columns parsed even in ``serialised_json``
        self.columns = tuple(columns)
        self.key = key
        self._by_dialect: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        statement = self.statement
        if self.key is not None and dialect.name != "sqlite":
            statement = statement.returning(self.key)
        if self.columns:
            compiled = statement.compile(dialect=dialect, column_keys=list(self.columns))
        else:
            compiled = statement.compile(dialect=dialect)
        binds: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                binds[name] = process
        columns: list[tuple[int, Callable[[Any], Any]]] = []
        serialised: list[tuple[int, Callable[[Any], Any]]] = []
        result_columns = _result_columns(statement)
        for index, column in enumerate(result_columns):
            process = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if process is None:
                continue
            if dialect.name == "sqlite" and isinstance(column.type, JSON):
                # The same as SQLAlchemy's conversion, for objects and arrays, in one call.
                columns.append((index, _json_value))
                kept = column.name in self.parsed
                serialised.append((index, _json_value if kept else _json_fragment))
            else:
                columns.append((index, process))
                serialised.append((index, process))
        defaults = {
            name: binds[name](value) if name in binds else value
            for name, value in compiled.construct_params(_check=False).items()
            if value is not None and name not in self.columns  # given at each call
        }
        order = tuple(compiled.positiontup) if compiled.positional else None
        positional = tuple((n, binds.get(n), defaults.get(n)) for n in order or ())
        from_columns = tuple(
            (self.columns.index(n) if n in self.columns else -1, binds.get(n)) for n in order or ()
        )
        rows_as_given = order is not None and from_columns == tuple(
            (i, None) for i in range(len(self.columns))
        )
        found = _Compiled(
            compiled.string,
            order,
            defaults,
            binds,
            _converter(tuple(columns), len(result_columns)),
            _converter(tuple(serialised), len(result_columns)),
            positional,
            from_columns,
            rows_as_given,
        )
        self._by_dialect[dialect.name] = found
        return found

    def _bound(self, c: _Compiled, params: Mapping[str, Any] | None) -> Any:
        if c.order is not None:
            given = params or {}
            bound = []
            for name, process, default in c.positional:
                value = given[name] if name in given else default
                bound.append(value if process is None or value is None else process(value))
            return bound
        values = dict(c.defaults)
        if params:
            binds = c.binds
            for name, value in params.items():
                values[name] = binds[name](value) if name in binds else value
        return values

    def _compiled(self, conn: Connection) -> _Compiled:
        return self._by_dialect.get(conn.dialect.name) or self._compile(conn.dialect)

    def _run(
        self, conn: Connection, params: Any, many: bool = False
    ) -> tuple[_Compiled, int, int | None, Fetched]:
        """Run the statement; its compiled form, how many rows it changed, the row id the
        driver gives the row an INSERT added (SQLite) and the rows it returned."""
        c = self._compiled(conn)
        if many:
            bound: Any = [self._bound(c, row) for row in params]
        else:
            bound = self._bound(c, params)
        return (c, *_execute(conn, c.sql, bound, many))

    def rows(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Fetched:
        """Every row of the statement with ``params`` bound, in ``conn``'s transaction."""
        c, _, _, fetched = self._run(conn, params)
        convert = c.serialised if _SERIALISED_JSON.get() else c.columns
        return fetched if convert is None else convert(fetched)

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """The first row, or None."""
        found = self.rows(conn, params)
        return found[0] if found else None

    def execute(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Run a statement that returns no rows; the number of rows it changed."""
        return self._run(conn, params)[1]

    def inserted(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Insert one row; the key the database gave it."""
        _, _, lastrowid, fetched = self._run(conn, params)
        return int(fetched[0][0] if fetched else lastrowid)  # type: ignore[arg-type]

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once for each of ``rows`` (nothing when there are none)."""
        if rows:
            self._run(conn, rows, many=True)

    def insert_values(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows``, each the values of ``columns`` in that order (none: nothing)."""
        if not rows:
            return
        c = self._compiled(conn)
        if c.order is None:  # named parameters
            self.executemany(conn, [dict(zip(self.columns, row, strict=True)) for row in rows])
            return
        if not c.rows_as_given:
            spec = c.from_columns
            rows = [
                [
                    row[i] if process is None or row[i] is None else process(row[i])
                    for i, process in spec
                ]
                for row in rows
            ]
        _execute(conn, c.sql, rows, True)


def _execute(conn: Connection, sql: str, bound: Any, many: bool) -> tuple[int, int | None, Fetched]:
    """Run ``sql`` on a cursor of ``conn``'s driver connection, firing SQLAlchemy's cursor
    events and raising its errors; how many rows it changed, the driver's last row id (an
    INSERT, on SQLite) and the rows it returned."""
    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    dispatch = conn.dispatch
    if dispatch.before_cursor_execute:
        dispatch.before_cursor_execute(conn, cursor, sql, bound, None, many)
    try:
        if many:
            cursor.executemany(sql, bound)
        else:
            cursor.execute(sql, bound)
        fetched: Fetched = []
        if cursor.description is not None:
            fetched = cursor.fetchall()  # type: ignore[assignment]
        changed = int(cursor.rowcount)
        lastrowid = getattr(cursor, "lastrowid", None)
    except dbapi.Error as exc:
        error = DBAPIError.instance(sql, bound, exc, dbapi.Error, dialect=conn.dialect)
        raise error from exc
    finally:
        cursor.close()
    if dispatch.after_cursor_execute:
        dispatch.after_cursor_execute(conn, cursor, sql, bound, None, many)
    return changed, lastrowid, fetched


def _result_columns(statement: Any) -> Sequence[Any]:
    """A select's columns, or what an INSERT or UPDATE returns."""
    return list(getattr(statement, "exported_columns", ()))
