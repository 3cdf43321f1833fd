"""Read functions used by the routes: Core selects returning plain dicts shaped like ``schemas``.

The fixed parts of the selects are built once at import (SQLAlchemy statements are
immutable: each ``where`` makes a new one), not on every request.

Every list is keyset-paginated on an indexed integer key (``after`` the last key
seen, ``limit`` rows) and reads its related rows in one batched query per kind,
so the number of statements per page does not grow with the page size.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Protocol, TypeVar

import orjson
from sqlalchemy import (
    ARRAY,
    BindParameter,
    Boolean,
    ColumnElement,
    Connection,
    Float,
    Integer,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    tuple_,
)

from app import fts
from app.models import (
    STATUS_DEFINITIONS,
    VerificationStatus,
    alias_t,
    article_entity_t,
    article_t,
    claim_event_t,
    claim_t,
    data_revision_t,
    entity_name_t,
    entity_t,
    event_t,
    evidence_t,
    external_id_t,
    history_t,
    mention_t,
    participant_t,
    provenance_t,
    quantity_t,
    relation_t,
    subject_t,
)
from app.names import ALIAS, ALIAS_WORD, NAME, NAME_WORD, fold_name
from app.statements import Statement
from app.vocabularies import vocabularies as vocabulary_definitions

Row = dict[str, Any]
Key = tuple[int, ...]
PageResult = tuple[list[Row], Key | None]


class Extension(Protocol):
    """More conditions on a list and what to compute over it (see ``app.listing``)."""

    def apply(
        self, conn: Connection, stmt: Select[Any], params: Mapping[str, Any] | None = None
    ) -> Select[Any]:
        """The filtered ``stmt``; may run summary queries (counts, facets) over it, with
        the values ``params`` binds to its parameters."""
        ...

    @property
    def plain(self) -> bool:
        """Whether the list is the route's own: no grammar filters, sort, count or facets."""
        ...

    def finish(self, conn: Connection, items: list[Row]) -> None:
        """Embed related resources asked for into the page's ``items``."""
        ...

    def order(self, default: ColumnElement[Any]) -> "Order | list[ColumnElement[Any]]":
        """The list's order: ``default`` unless another was asked for."""
        ...

    @property
    def where(self) -> list[ColumnElement[bool]]:
        """The list's conditions from the filter grammar."""
        ...


DETAIL_LIMIT = 100


@dataclass(frozen=True)
class Order:
    """A list's keyset order: its keys, their direction, and how the first maps to a cursor.

    Cursors carry integers; a sort on another type (a date) converts its first key.
    """

    keys: Sequence[ColumnElement[Any]]
    descending: bool = False
    to_cursor: Callable[[Any], int] | None = None
    from_cursor: Callable[[int], Any] | None = None


# Page statements by the shape of their list (see ``_page``). SQLAlchemy computes a cache
# key over the whole statement for each new statement object, which for a list's select
# costs more than running it; a statement kept here is keyed once. Shapes are few: one per
# combination of a route's filters, not of their values.
_SHAPED: dict[tuple[Any, ...], Statement] = {}
T = TypeVar("T")


def _shaped(
    built: dict[tuple[Any, ...], T],
    conn: Connection,
    shape: tuple[Any, ...] | None,
    after: Key | None,
    build: Callable[[], T],
) -> T:
    """What ``build`` gives for a list of this ``shape``, kept in ``built`` for the next list
    of the same shape (without a shape, built each time). Statements may differ by dialect
    (full-text conditions do) and by whether a cursor is given."""
    if shape is None:
        return build()
    key = (conn.dialect.name, *shape, after is not None)
    found = built.get(key)
    if found is None:
        found = built[key] = build()
    return found


def _page(
    conn: Connection,
    stmt: Select[Any],
    keys: Sequence[ColumnElement[int]] | Order,
    after: Key | None,
    limit: int,
    params: Mapping[str, Any] | None = None,
    shape: tuple[Any, ...] | None = None,
    parsed: Sequence[str] = (),
) -> tuple[list[Any], Key | None]:
    """Run ``stmt`` in ``keys`` order, after the cursor's key; return the rows and the next key.

    ``params`` holds the values of ``stmt``'s bound parameters. A ``shape`` says ``stmt``
    (with ``keys``) is the same statement whenever the shape is, its values all in
    ``params``: the page statement built for that shape is reused, run on the driver's
    cursor, and its rows are plain sequences (without a shape, SQLAlchemy rows); its
    ``parsed`` JSON columns are always parsed (see ``db.serialised_json``).
    """
    order = keys if isinstance(keys, Order) else Order(keys)
    keys = order.keys
    values = dict(params or {})

    def build() -> Select[Any]:
        final = stmt.add_columns(*(k.label(f"_k{i}") for i, k in enumerate(keys)))
        if after is not None:
            seen: list[Any] = [bindparam(f"_after{i}") for i in range(len(keys))]
            row, mark = (keys[0], seen[0]) if len(keys) == 1 else (tuple_(*keys), tuple_(*seen))
            final = final.where(row < mark if order.descending else row > mark)
        by = [k.desc() for k in keys] if order.descending else keys
        return final.order_by(*by).limit(bindparam("_limit"))

    if after is not None:
        if order.from_cursor is not None:
            after = (order.from_cursor(after[0]), *after[1:])
        values.update((f"_after{i}", value) for i, value in enumerate(after))
    values["_limit"] = limit + 1
    if shape is None:
        rows: list[Any] = list(conn.execute(build(), values).all())
    else:
        statement = _shaped(_SHAPED, conn, shape, after, lambda: Statement(build(), parsed=parsed))
        rows = statement.rows(conn, values)
    if len(rows) > limit:
        rows = rows[:limit]
        # The keys are the last columns (see ``build``).
        key = list(rows[-1][len(rows[-1]) - len(keys) :])
        if order.to_cursor is not None:
            key[0] = order.to_cursor(key[0])
        return rows, tuple(key)
    return rows, None


def _text_match(conn: Connection, table: Table, q: str) -> ColumnElement[bool]:
    """Rows of ``table`` whose indexed text matches the full-text query ``q`` (see app.fts)."""
    return fts.matches(conn.dialect.name, table, q)


def _entity_id(key: Any) -> Any:
    return select(entity_t.c.id).where(entity_t.c.key == key).scalar_subquery()


def _article_id(key: Any) -> Any:
    return select(article_t.c.id).where(article_t.c.key == key).scalar_subquery()


def _ref(key: str | None, name: str | None, kind: str | None) -> Row | None:
    return None if key is None else {"id": key, "name": name, "kind": kind}


def _by(rows: Iterable[Any], owner: str) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row._mapping[owner]].append(row)
    return grouped


def _by_first(rows: Iterable[Any]) -> dict[int, list[tuple[Any, ...]]]:
    """Rows grouped by their first column, as plain tuples of the other columns.

    Plain tuples: reading a Row's field by name costs about 200 ns, which adds up over the
    related rows of a page.
    """
    grouped: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for owner, *rest in rows:
        grouped[owner].append(tuple(rest))
    return grouped


def in_ids(
    column: ColumnElement[Any], dialect: str, item: Any = Integer, name: str = "ids"
) -> ColumnElement[bool]:
    """``column`` is one of the values bound as the single parameter ``name`` (see ``id_list``).

    ``column.in_(values)`` binds one parameter per value, so its statement is rendered
    again for every page; this one is compiled once, and its statement built once.
    """
    if dialect == "sqlite":
        each: Select[Any] = select(literal_column("value")).select_from(
            func.json_each(bindparam(name))
        )
        return column.in_(each)
    return column == any_(bindparam(name, type_=ARRAY(item)))


def id_list(conn: Connection, values: Sequence[Any], name: str = "ids") -> dict[str, Any]:
    """The parameter of an ``in_ids`` condition: JSON text for SQLite, an array."""
    values = list(values)
    return {name: orjson.dumps(values).decode() if conn.dialect.name == "sqlite" else values}


# --- existence ---------------------------------------------------------------


@cache
def _row_id(table: Table) -> Statement:
    return Statement(select(table.c.id).where(table.c.key == bindparam("key")))


def row_id(conn: Connection, table: Table, key: str) -> int | None:
    """The integer key of the row with this public id in ``table``, or None."""
    row = _row_id(table).first(conn, {"key": key})
    return None if row is None else int(row[0])


# --- articles ----------------------------------------------------------------


def _count_per_article(table: Table) -> Any:
    return (
        select(func.count())
        .select_from(table)
        .where(table.c.article_id == article_t.c.id)
        .scalar_subquery()
    )


# How many entities, events and claims each article holds (its `counts`).
ARTICLE_COUNTS = {
    "entities": _count_per_article(article_entity_t),
    "events": _count_per_article(event_t),
    "claims": _count_per_article(claim_t),
}


def _article_columns() -> list[Any]:
    return [
        article_t.c.id.label("_key"),
        article_t.c.key,
        article_t.c.title,
        article_t.c.url,
        article_t.c.publisher,
        article_t.c.published,
        article_t.c.language,
        article_t.c.sha256,
        ARTICLE_COUNTS["entities"].label("n_entities"),
        ARTICLE_COUNTS["events"].label("n_events"),
        ARTICLE_COUNTS["claims"].label("n_claims"),
    ]


ARTICLE_COLUMNS = _article_columns()


def _article(row: Any, *, text: bool = False) -> Row:
    m = row._mapping
    out = {
        "id": m["key"],
        "title": m["title"],
        "url": m["url"],
        "publisher": m["publisher"],
        "published": m["published"],
        "language": m["language"],
        "sha256": m["sha256"],
        "counts": {"entities": m["n_entities"], "events": m["n_events"], "claims": m["n_claims"]},
    }
    if text:
        out["text"] = m["text"]
    return out


def list_articles(
    conn: Connection,
    *,
    publisher: str | None = None,
    language: str | None = None,
    published_from: date | None = None,
    published_to: date | None = None,
    entity: str | None = None,
    q: str | None = None,
    extension: Extension | None = None,
    after: Key | None = None,
    limit: int,
) -> PageResult:
    """Articles in ingest order, filtered by publisher, language, dates, entity or words."""
    stmt = select(*ARTICLE_COLUMNS)
    if publisher is not None:
        stmt = stmt.where(article_t.c.publisher == publisher)
    if language is not None:
        stmt = stmt.where(article_t.c.language == language)
    if published_from is not None:
        stmt = stmt.where(article_t.c.published >= published_from)
    if published_to is not None:
        stmt = stmt.where(article_t.c.published <= published_to)
    if entity is not None:
        stmt = stmt.where(
            article_t.c.id.in_(
                select(article_entity_t.c.article_id).where(
                    article_entity_t.c.entity_id == _entity_id(entity)
                )
            )
        )
    if q:
        stmt = stmt.where(_text_match(conn, article_t, q))
    if extension is not None:
        stmt = extension.apply(conn, stmt)
    keys = extension.order(article_t.c.id) if extension else [article_t.c.id]
    rows, nxt = _page(conn, stmt, keys, after, limit)
    return [_article(r) for r in rows], nxt


def get_article(conn: Connection, key: str) -> Row | None:
    """One article with its full text, or None."""
    row = conn.execute(
        select(*ARTICLE_COLUMNS, article_t.c.text).where(article_t.c.key == key)
    ).first()
    return None if row is None else _article(row, text=True)


# --- entities ----------------------------------------------------------------


def _aliases(conn: Connection, entity_ids: Sequence[int]) -> dict[int, list[Row]]:
    if not entity_ids:
        return {}
    rows = conn.execute(
        select(alias_t.c.entity_id, alias_t.c.name, alias_t.c.language)
        .where(alias_t.c.entity_id.in_(entity_ids))
        .group_by(alias_t.c.entity_id, alias_t.c.name, alias_t.c.language)
        .order_by(alias_t.c.entity_id, func.min(alias_t.c.id))
    )
    return {
        k: [{"name": r.name, "language": r.language} for r in v]
        for k, v in _by(rows, "entity_id").items()
    }


def _entity(m: Mapping[str, Any], aliases: dict[int, list[Row]]) -> Row:
    return {
        "id": m["key"],
        "name": m["name"],
        "kind": m["kind"],
        "description": m["description"],
        "aliases": aliases.get(m["_key"], []),
        "external_ids": m["external_ids"] or {},
        "provenance": PROVENANCES.known(m["provenance_id"]),
    }


_ENTITY_COLUMNS = (
    entity_t.c.id.label("_key"),
    entity_t.c.key,
    entity_t.c.name,
    entity_t.c.kind,
    entity_t.c.description,
    entity_t.c.external_ids,
    entity_t.c.provenance_id,
)


def list_entities(
    conn: Connection,
    *,
    kind: Sequence[str] | None = None,
    article: str | None = None,
    q: str | None = None,
    external_id: tuple[str, str] | None = None,
    reviewed: bool | None = None,
    extractor: str | None = None,
    extension: Extension | None = None,
    after: Key | None = None,
    limit: int,
) -> PageResult:
    """Entities in the order first ingested, filtered by kind, article, name/alias text,
    an external id (``("wikidata", "Q232")``) or provenance (see ``list_claims``)."""
    stmt: Select[Any] = select(*_ENTITY_COLUMNS)
    if external_id is not None:
        scheme, value = external_id
        stmt = stmt.where(
            entity_t.c.id.in_(
                select(external_id_t.c.entity_id).where(
                    external_id_t.c.scheme == scheme, external_id_t.c.value == value
                )
            )
        )
    stmt = stmt.where(
        *provenance_filter(entity_t.c.provenance_id, reviewed=reviewed, extractor=extractor)
    )
    if kind:
        stmt = stmt.where(entity_t.c.kind.in_(kind))
    if article is not None:
        stmt = stmt.where(
            entity_t.c.id.in_(
                select(article_entity_t.c.entity_id).where(
                    article_entity_t.c.article_id == _article_id(article)
                )
            )
        )
    if q:
        stmt = stmt.where(
            or_(
                _text_match(conn, entity_t, q),
                entity_t.c.id.in_(select(alias_t.c.entity_id).where(_text_match(conn, alias_t, q))),
            )
        )
    if extension is not None:
        stmt = extension.apply(conn, stmt)
    keys = extension.order(entity_t.c.id) if extension else [entity_t.c.id]
    rows, nxt = _page(conn, stmt, keys, after, limit)
    aliases = _aliases(conn, [r._key for r in rows])
    PROVENANCES.of(conn, [r.provenance_id for r in rows])
    return [_entity(dict(r._mapping), aliases) for r in rows], nxt


def list_article_entities(
    conn: Connection,
    article: str,
    *,
    kind: Sequence[str] | None = None,
    after: Key | None = None,
    limit: int,
) -> PageResult:
    """An article's entities in fact-file order, each with its mentions in that article."""
    article_id = _article_id(article)
    stmt = (
        select(
            *_ENTITY_COLUMNS[1:],
            entity_t.c.id.label("entity_id"),
            article_entity_t.c.position.label("_key"),
        )
        .select_from(article_entity_t.join(entity_t, entity_t.c.id == article_entity_t.c.entity_id))
        .where(article_entity_t.c.article_id == article_id)
    )
    if kind:
        stmt = stmt.where(entity_t.c.kind.in_(kind))
    rows, nxt = _page(conn, stmt, [article_entity_t.c.position], after, limit)
    ids = [r.entity_id for r in rows]
    PROVENANCES.of(conn, [r.provenance_id for r in rows])
    aliases = _aliases(conn, ids)
    mentions = _by(
        conn.execute(
            select(mention_t.c.entity_id, mention_t.c.start, mention_t.c.end, mention_t.c.exact)
            .where(mention_t.c.article_id == article_id, mention_t.c.entity_id.in_(ids))
            .order_by(mention_t.c.entity_id, mention_t.c.start)
        ),
        "entity_id",
    )
    items = []
    for r in rows:
        m = r._mapping
        item = _entity({**m, "_key": m["entity_id"]}, aliases)
        item["mentions"] = [
            {"start": x.start, "end": x.end, "exact": x.exact}
            for x in mentions.get(m["entity_id"], [])
        ]
        items.append(item)
    return items, nxt


def get_entity(conn: Connection, key: str) -> Row | None:
    """One entity with aliases, first mentions, relations and counts, or None."""
    row = conn.execute(select(*_ENTITY_COLUMNS).where(entity_t.c.key == key)).first()
    if row is None:
        return None
    entity_id = row._key
    PROVENANCES.of(conn, [row.provenance_id])
    out = _entity(dict(row._mapping), _aliases(conn, [entity_id]))
    out["mention_count"] = conn.execute(
        select(func.count()).select_from(mention_t).where(mention_t.c.entity_id == entity_id)
    ).scalar_one()
    out["mentions"] = list_mentions(conn, entity_id, after=None, limit=DETAIL_LIMIT)[0]
    out["relation_count"] = conn.execute(
        select(func.count())
        .select_from(relation_t)
        .where(or_(relation_t.c.subject_id == entity_id, relation_t.c.object_id == entity_id))
    ).scalar_one()
    out["relations"] = _relations(conn, entity_id)
    out["claim_count"] = conn.execute(
        select(func.count()).select_from(claim_t).where(_claim_entity_filter(entity_id, "any"))
    ).scalar_one()
    out["event_count"] = conn.execute(
        select(func.count()).select_from(event_t).where(_event_entity_filter(entity_id))
    ).scalar_one()
    return out


def list_mentions(conn: Connection, entity_id: int, *, after: Key | None, limit: int) -> PageResult:
    """Every mention of an entity, by article and position."""
    stmt = (
        select(
            article_t.c.key.label("article"),
            mention_t.c.start,
            mention_t.c.end,
            mention_t.c.exact,
        )
        .select_from(mention_t.join(article_t, article_t.c.id == mention_t.c.article_id))
        .where(mention_t.c.entity_id == entity_id)
    )
    rows, nxt = _page(
        conn, stmt, [mention_t.c.article_id, mention_t.c.start, mention_t.c.end], after, limit
    )
    return [
        {"article": r.article, "start": r.start, "end": r.end, "exact": r.exact} for r in rows
    ], nxt


def _relations(conn: Connection, entity_id: int) -> list[Row]:
    subj = entity_t.alias("subj")
    obj = entity_t.alias("obj")
    rows = conn.execute(
        select(
            subj.c.key.label("s_key"),
            subj.c.name.label("s_name"),
            subj.c.kind.label("s_kind"),
            relation_t.c.predicate,
            obj.c.key.label("o_key"),
            obj.c.name.label("o_name"),
            obj.c.kind.label("o_kind"),
            article_t.c.key.label("article"),
            relation_t.c.anchors,
            relation_t.c.provenance_id,
        )
        .select_from(
            relation_t.join(subj, subj.c.id == relation_t.c.subject_id)
            .join(obj, obj.c.id == relation_t.c.object_id)
            .join(article_t, article_t.c.id == relation_t.c.article_id)
        )
        .where(or_(relation_t.c.subject_id == entity_id, relation_t.c.object_id == entity_id))
        .order_by(relation_t.c.id)
        .limit(DETAIL_LIMIT)
    ).all()
    origins = PROVENANCES.of(conn, [r.provenance_id for r in rows])
    return [
        {
            "subject": _ref(r.s_key, r.s_name, r.s_kind),
            "predicate": r.predicate,
            "object": _ref(r.o_key, r.o_name, r.o_kind),
            "article": r.article,
            "anchors": r.anchors,
            "provenance": origins[r.provenance_id],
        }
        for r in rows
    ]


# --- events ------------------------------------------------------------------


def _event_entity_filter(entity_id: Any) -> ColumnElement[bool]:
    return or_(
        event_t.c.location_id == entity_id,
        event_t.c.id.in_(
            select(participant_t.c.event_id).where(participant_t.c.entity_id == entity_id)
        ),
    )


# The entity joined as an event's location and as a claim's claimant (also filterable).
LOCATION = entity_t.alias("loc")
CLAIMANT = entity_t.alias("who")


def _event_select() -> Select[Any]:
    loc = LOCATION
    return select(
        event_t.c.id.label("_key"),
        event_t.c.key,
        article_t.c.key.label("article"),
        event_t.c.kind,
        event_t.c.summary,
        event_t.c.time_start,
        event_t.c.time_end,
        event_t.c.time_precision,
        event_t.c.time_anchor,
        event_t.c.time_note,
        loc.c.key.label("loc_key"),
        loc.c.name.label("loc_name"),
        loc.c.kind.label("loc_kind"),
        event_t.c.modality,
        event_t.c.status,
        event_t.c.anchors,
        event_t.c.same_as_key,
        event_t.c.provenance_id,
    ).select_from(
        event_t.join(article_t, article_t.c.id == event_t.c.article_id).outerjoin(
            loc, loc.c.id == event_t.c.location_id
        )
    )


EVENT_SELECT = _event_select()


@cache
def _event_participants(dialect: str) -> Select[Any]:
    return (
        select(
            participant_t.c.event_id,
            participant_t.c.role,
            entity_t.c.key,
            entity_t.c.name,
            entity_t.c.kind,
        )
        .join(entity_t, entity_t.c.id == participant_t.c.entity_id)
        .where(in_ids(participant_t.c.event_id, dialect))
        .order_by(participant_t.c.event_id, participant_t.c.position)
    )


def _event_rows(conn: Connection, rows: Sequence[Any]) -> list[Row]:
    ids = [r._key for r in rows]
    participants = _by(
        conn.execute(_event_participants(conn.dialect.name), id_list(conn, ids)) if ids else [],
        "event_id",
    )
    origins = PROVENANCES.of(conn, [r.provenance_id for r in rows])
    out = []
    for r in rows:
        time = None
        if r.time_precision is not None or r.time_note is not None or r.time_anchor is not None:
            time = {
                "start": r.time_start,
                "end": r.time_end,
                "precision": r.time_precision,
                "anchor": r.time_anchor,
                "note": r.time_note,
            }
        out.append(
            {
                "id": r.key,
                "article": r.article,
                "kind": r.kind,
                "summary": r.summary,
                "time": time,
                "location": _ref(r.loc_key, r.loc_name, r.loc_kind),
                "participants": [
                    {"entity": _ref(p.key, p.name, p.kind), "role": p.role}
                    for p in participants.get(r._key, [])
                ],
                "modality": r.modality,
                "status": r.status,
                "anchors": r.anchors,
                "same_as": r.same_as_key,
                "provenance": origins[r.provenance_id],
            }
        )
    return out


def list_events(
    conn: Connection,
    *,
    status: Sequence[str] | None = None,
    kind: Sequence[str] | None = None,
    modality: Sequence[str] | None = None,
    entity: str | None = None,
    article: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    q: str | None = None,
    first_report: bool | None = None,
    reviewed: bool | None = None,
    extractor: str | None = None,
    in_article_order: bool = False,
    extension: Extension | None = None,
    after: Key | None = None,
    limit: int,
) -> PageResult:
    """Events in ingest order, or in fact-file order within one ``article``.

    A date window keeps the events whose time span overlaps it (an event known only from
    its note has none). ``first_report``, ``reviewed`` and ``extractor`` are as for
    ``list_claims``.
    """
    stmt = EVENT_SELECT
    if first_report is not None:
        same_as = event_t.c.same_as_key
        stmt = stmt.where(same_as.is_(None) if first_report else same_as.is_not(None))
    stmt = stmt.where(
        *provenance_filter(event_t.c.provenance_id, reviewed=reviewed, extractor=extractor)
    )
    if status:
        stmt = stmt.where(event_t.c.status.in_(status))
    if kind:
        stmt = stmt.where(event_t.c.kind.in_(kind))
    if modality:
        stmt = stmt.where(event_t.c.modality.in_(modality))
    if entity is not None:
        stmt = stmt.where(_event_entity_filter(_entity_id(entity)))
    if article is not None:
        stmt = stmt.where(event_t.c.article_id == _article_id(article))
    # Overlap of [time_start, time_end] with [date_from, date_to]; an open bound is unbounded.
    if date_from is not None:
        stmt = stmt.where(
            event_t.c.time_precision.is_not(None),
            or_(event_t.c.time_end.is_(None), event_t.c.time_end >= date_from),
        )
    if date_to is not None:
        stmt = stmt.where(
            event_t.c.time_precision.is_not(None),
            or_(event_t.c.time_start.is_(None), event_t.c.time_start <= date_to),
        )
    if q:
        stmt = stmt.where(_text_match(conn, event_t, q))
    if extension is not None:
        stmt = extension.apply(conn, stmt)
    order = event_t.c.position if in_article_order and article is not None else event_t.c.id
    rows, nxt = _page(conn, stmt, extension.order(order) if extension else [order], after, limit)
    return _event_rows(conn, rows), nxt


def get_event(conn: Connection, key: str) -> Row | None:
    """One event with participants and the ids of the claims about it, or None."""
    rows = conn.execute(EVENT_SELECT.where(event_t.c.key == key)).all()
    if not rows:
        return None
    out = _event_rows(conn, rows)[0]
    reports = fact_reports(conn, "event", [out["same_as"] or key])[out["same_as"] or key]
    # The claims about the event, whichever article's report of it they name.
    reported = select(event_t.c.id).where(event_t.c.key.in_([r["id"] for r in reports] or [key]))
    out["claims"] = list(
        conn.execute(
            select(claim_t.c.key)
            .join(claim_event_t, claim_event_t.c.claim_id == claim_t.c.id)
            .where(claim_event_t.c.event_id.in_(reported))
            .group_by(claim_t.c.key)
            .order_by(func.min(claim_t.c.id))
        ).scalars()
    )
    out["reports"] = reports
    return out


def fact_reports(conn: Connection, kind: str, roots: Sequence[str]) -> dict[str, list[Row]]:
    """Every report of each of these events or claims (by the id of its first report): the
    article, its date, and the report's own words, earliest article first.

    An event or claim reported by one article has one report, itself.
    """
    out: dict[str, list[Row]] = {r: [] for r in roots}
    if not roots:
        return out
    params = {**id_list(conn, roots, "keys"), **id_list(conn, roots, "firsts")}
    for root, key, article, published, anchors, *words in _fact_reports(
        kind, conn.dialect.name
    ).rows(conn, params):
        report = {"id": key, "article": article, "published": published, "anchors": anchors}
        if kind == "claim":
            report |= {"attribution": words[0], "hedge": words[1]}
        out.setdefault(root, []).append(report)
    return out


@cache
def _fact_reports(kind: str, dialect: str) -> Statement:
    """The reports of events or claims: the rows with these keys, and those reporting them
    (each side walks its own index)."""
    table = event_t if kind == "event" else claim_t
    columns = [table.c.key, article_t.c.key.label("article"), article_t.c.published]
    columns.append(table.c.anchors)
    if kind == "claim":
        columns += [claim_t.c.attribution, claim_t.c.hedge]
    root = func.coalesce(table.c.same_as_key, table.c.key)
    return Statement(
        select(root.label("root"), *columns)
        .join(article_t, article_t.c.id == table.c.article_id)
        .where(
            or_(
                in_ids(table.c.key, dialect, String, "keys"),
                in_ids(table.c.same_as_key, dialect, String, "firsts"),
            )
        )
        .order_by(article_t.c.published.is_(None), article_t.c.published, table.c.id)
    )


# --- claims ------------------------------------------------------------------


def _claim_entity_filter(entity_id: Any, role: str) -> ColumnElement[bool]:
    as_claimant: ColumnElement[bool] = claim_t.c.claimant_id == entity_id
    as_subject = claim_t.c.id.in_(
        select(subject_t.c.claim_id).where(subject_t.c.entity_id == entity_id)
    )
    if role == "claimant":
        return as_claimant
    if role == "subject":
        return as_subject
    return or_(as_claimant, as_subject)


def _claim_select() -> Select[Any]:
    who = CLAIMANT
    return select(
        claim_t.c.id.label("_key"),
        claim_t.c.key,
        article_t.c.key.label("article"),
        claim_t.c.text,
        claim_t.c.kind,
        claim_t.c.claimant_id,
        claim_t.c.attribution,
        claim_t.c.status,
        claim_t.c.rationale,
        claim_t.c.hedge,
        claim_t.c.anchors,
        claim_t.c.subject_ids,
        claim_t.c.event_keys,
        claim_t.c.claimant_unnamed,
        claim_t.c.claimant_anchor,
        claim_t.c.quantities,
        claim_t.c.same_as_key,
        claim_t.c.provenance_id,
    ).select_from(
        # An outer join: the claimant of a claim may be an unnamed source.
        claim_t.join(article_t, article_t.c.id == claim_t.c.article_id).outerjoin(
            who, who.c.id == claim_t.c.claimant_id
        )
    )


CLAIM_SELECT = _claim_select()
# Claim rows are read for their subjects' ids, whatever the response (see _claim_rows).
CLAIM_PARSED = ("subject_ids",)
CLAIM_BY_KEY = Statement(CLAIM_SELECT.where(claim_t.c.key == bindparam("key")), parsed=CLAIM_PARSED)


_REVISION = Statement(select(data_revision_t.c.revision).where(data_revision_t.c.id == 1))
_SEEN_REVISION = "article_facts.revision"  # conn.info key: (transaction, revision)


def remember_revision(conn: Connection, revision: int | None) -> None:
    """Note the data revision ``conn``'s current transaction sees, read by the caller.

    The API's transactions only read, each from one snapshot, so the revision read for a
    request's validators is the one its queries see: they need not read it again.
    """
    conn.info[_SEEN_REVISION] = (conn.get_transaction(), revision)


def _revision(conn: Connection) -> int | None:
    """The data revision ``conn``'s transaction sees: as remembered, else read now."""
    transaction = conn.get_transaction()
    seen = conn.info.get(_SEEN_REVISION)
    if transaction is not None and seen is not None and seen[0] is transaction:
        return seen[1]  # type: ignore[no-any-return]
    row = _REVISION.first(conn)
    return None if row is None else int(row[0])


@cache
def _entity_refs(dialect: str) -> Statement:
    columns = (entity_t.c.id, entity_t.c.key, entity_t.c.name, entity_t.c.kind)
    return Statement(select(*columns).where(in_ids(entity_t.c.id, dialect)))


class EntityRefs:
    """Entities as lists name them (``{"id", "name", "kind"}``), by integer key.

    Claims name their claimant and subjects by integer key; the few thousand entities a
    busy server names again and again are read once per data revision instead of once per
    claim. The refs are those of the revision the request's transaction sees: a request
    seeing a newer revision starts a new set, one seeing an older one (an ingest committed
    meanwhile) reads its own. Held to ``MAX_KEPT`` entities.
    """

    MAX_KEPT = 200_000

    def __init__(self) -> None:
        self._kept: tuple[int | None, dict[int, Row]] = (None, {})

    def refs(self, conn: Connection, ids: Iterable[int]) -> dict[int, Row]:
        """The refs of these entities (those that exist), read in ``conn``'s transaction."""
        revision = _revision(conn)
        kept_revision, kept = self._kept
        if revision is None or kept_revision is None or revision > kept_revision:
            kept = {}
            self._kept = (revision, kept)
        elif revision < kept_revision:
            kept = {}
        elif len(kept) > self.MAX_KEPT:
            kept = {}
            self._kept = (revision, kept)
        missing = [i for i in set(ids) if i not in kept]
        if missing:
            statement = _entity_refs(conn.dialect.name)
            for pk, key, name, kind in statement.rows(conn, id_list(conn, missing)):
                kept[pk] = {"id": key, "name": name, "kind": kind}
        return kept


ENTITY_REFS = EntityRefs()

# A fact whose file said nothing of its provenance was written by a person.
PERSON_PROVENANCE: Row = {
    "extractor": "person",
    "extractor_version": None,
    "model": None,
    "model_version": None,
    "reviewed": True,
}


@cache
def _provenances(dialect: str) -> Statement:
    columns = [provenance_t.c[c] for c in PERSON_PROVENANCE]
    return Statement(select(provenance_t.c.id, *columns).where(in_ids(provenance_t.c.id, dialect)))


class Provenances:
    """Provenance rows by key, as bodies show them. Rows never change once stored, so each is
    read once per process."""

    def __init__(self) -> None:
        self._kept: dict[int | None, Row] = {None: PERSON_PROVENANCE}

    def of(self, conn: Connection, ids: Iterable[int | None]) -> dict[int | None, Row]:
        missing = [i for i in set(ids) if i not in self._kept]
        if missing:
            for pk, *values in _provenances(conn.dialect.name).rows(conn, id_list(conn, missing)):
                self._kept[pk] = dict(zip(PERSON_PROVENANCE, values, strict=True))
        return self._kept

    def known(self, key: int | None) -> Row:
        """A provenance read before (with ``of``)."""
        return self._kept[key]


PROVENANCES = Provenances()


def provenance_filter(
    column: ColumnElement[Any], *, reviewed: bool | None, extractor: str | None
) -> list[ColumnElement[bool]]:
    """Conditions on a fact's ``provenance_id`` column: reviewed or not, by this extractor.

    A fact with no provenance row was written by a person (``extractor`` ``person``,
    reviewed).
    """
    conditions: list[ColumnElement[bool]] = []
    if reviewed is not None:
        rows = select(provenance_t.c.id).where(provenance_t.c.reviewed.is_(reviewed))
        found = column.in_(rows)
        conditions.append(or_(column.is_(None), found) if reviewed else found)
    if extractor is not None:
        rows = select(provenance_t.c.id).where(provenance_t.c.extractor == extractor)
        found = column.in_(rows)
        conditions.append(or_(column.is_(None), found) if extractor == "person" else found)
    return conditions


def _claim_rows(conn: Connection, rows: Sequence[Any]) -> list[Row]:
    # Positional: the columns of CLAIM_SELECT, in order (see _claim_select).
    wanted: set[int] = set()
    for row in rows:
        if row[5] is not None:
            wanted.add(row[5])
        if row[11]:
            wanted.update(row[11])
    refs = ENTITY_REFS.refs(conn, wanted) if rows else {}
    origins = PROVENANCES.of(conn, [row[17] for row in rows])
    out = []
    for row in rows:
        key, article, text, kind, claimant, attribution, status, rationale, hedge = row[1:10]
        anchors, subjects, events, unnamed, unnamed_anchor, quantities, same_as = row[10:17]
        out.append(
            {
                "id": key,
                "article": article,
                "text": text,
                "kind": kind,
                "claimant": refs[claimant]
                if claimant is not None
                else {"id": None, "name": unnamed, "kind": None, "anchor": unnamed_anchor},
                "attribution": attribution,
                "subjects": [refs[s] for s in subjects] if subjects else [],
                "events": events or [],
                "status": status,
                "rationale": rationale,
                "hedge": hedge,
                "anchors": anchors,
                "quantities": quantities or [],
                "same_as": same_as,
                "provenance": origins[row[17]],
            }
        )
    return out


def _is_id_order(keys: Sequence[ColumnElement[Any]] | Order) -> bool:
    return isinstance(keys, list) and len(keys) == 1 and keys[0] is claim_t.c.id


_ENTITY_ARMS: dict[tuple[Any, ...], list[Statement]] = {}


def _entity_claim_arms(base: Select[Any] | None, role: str, after: bool) -> list[Select[Any]]:
    """The index walks of ``_entity_claim_page``, one per role the entity may have.

    They read claim ids only: the page's rows are read once the walks have chosen them.
    Without a ``base`` (no other condition) a walk reads its index alone.
    """
    entity_id = _entity_id(bindparam("entity"))
    arms: list[Select[Any]] = []
    if role in ("subject", "any"):
        if base is None:
            arm = select(subject_t.c.claim_id)
        else:
            arm = base.join(subject_t, subject_t.c.claim_id == claim_t.c.id)
            arm = arm.with_only_columns(subject_t.c.claim_id, maintain_column_froms=True)
        arm = arm.where(subject_t.c.entity_id == entity_id)
        if after:
            arm = arm.where(subject_t.c.claim_id > bindparam("_after0"))
        arms.append(arm.order_by(subject_t.c.claim_id).limit(bindparam("_limit")))
    if role in ("claimant", "any"):
        if base is None:
            arm = select(claim_t.c.id)
        else:
            arm = base.with_only_columns(claim_t.c.id, maintain_column_froms=True)
        arm = arm.where(claim_t.c.claimant_id == entity_id)
        if after:
            arm = arm.where(claim_t.c.id > bindparam("_after0"))
        # SQLite would otherwise walk a status or kind index and test each claim's claimant.
        arm = arm.with_hint(claim_t, "INDEXED BY ix_claim_claimant_id_id", "sqlite")
        arms.append(arm.order_by(claim_t.c.claimant_id, claim_t.c.id).limit(bindparam("_limit")))
    return arms


@cache
def _claims_by_id(dialect: str) -> Statement:
    by_id = CLAIM_SELECT.where(in_ids(claim_t.c.id, dialect)).order_by(claim_t.c.id)
    return Statement(by_id, parsed=CLAIM_PARSED)


def _entity_claim_page(
    conn: Connection,
    base: Select[Any] | None,
    role: str,
    after: Key | None,
    limit: int,
    params: Mapping[str, Any],
    shape: tuple[Any, ...] | None,
) -> tuple[list[Any], Key | None]:
    """A page of the claims ``entity`` makes or is a subject of, in id order.

    A filter "claimant is X or X is a subject" makes the database collect every such claim
    and sort them before it can return the first page: for an entity in most articles that
    is tens of thousands of rows. Instead each role walks its own index in claim id order
    (subjects by ``(entity_id, claim_id)``, claimants by ``(claimant_id, id)``), stopping
    at ``limit + 1`` claims that pass the other filters; the page is the first of the two
    merged, since every claim of the true page is among the first of its own role's.

    The entity is bound as ``entity`` in ``params``; ``shape`` is as for ``_page``.
    """
    values = {**params, "_limit": limit + 1}
    if after is not None:
        values["_after0"] = after[0]
    found: set[int] = set()
    if shape is None:
        for arm in _entity_claim_arms(base, role, after is not None):
            found.update(conn.execute(arm, values).scalars())
    else:
        arms = _shaped(
            _ENTITY_ARMS,
            conn,
            shape,
            after,
            lambda: [Statement(a) for a in _entity_claim_arms(base, role, after is not None)],
        )
        for statement in arms:
            found.update(row[0] for row in statement.rows(conn, values))
    ids = sorted(found)[: limit + 1]
    page = ids[:limit]
    rows = _claims_by_id(conn.dialect.name).rows(conn, id_list(conn, page)) if page else []
    return rows, ((page[-1],) if len(ids) > limit else None)


_CLAIM_LISTS: dict[tuple[Any, ...], tuple[Select[Any], Select[Any], ColumnElement[Any]]] = {}


def _each(name: str, values: Sequence[Any] | None) -> dict[str, Any]:
    """One parameter per value (``status_0``, ``status_1`` …): the statement of a list filtered
    by one value is then an equality the database walks an index for, in key order."""
    return {f"{name}_{i}": value for i, value in enumerate(values or ())}


def _bound(name: str, values: Sequence[Any]) -> list[BindParameter[Any]]:
    return [bindparam(f"{name}_{i}") for i in range(len(values))]


def list_claims(
    conn: Connection,
    *,
    status: Sequence[str] | None = None,
    kind: Sequence[str] | None = None,
    claimant: str | None = None,
    entity: str | None = None,
    role: str = "any",
    event: str | None = None,
    article: str | None = None,
    published_from: date | None = None,
    published_to: date | None = None,
    q: str | None = None,
    quantity_unit: str | None = None,
    quantity_min: float | None = None,
    quantity_max: float | None = None,
    has_quantity: bool | None = None,
    first_report: bool | None = None,
    reviewed: bool | None = None,
    extractor: str | None = None,
    in_article_order: bool = False,
    extension: Extension | None = None,
    after: Key | None = None,
    limit: int,
) -> PageResult:
    """Claims in ingest order, or in fact-file order within one ``article``; filtered by
    status, kind, claimant, entity and role, event, article, publication date or text.

    Quantities: ``has_quantity`` keeps the claims that state a quantity (or none);
    ``quantity_unit``, ``quantity_min`` and ``quantity_max`` keep those stating a quantity of
    that unit and within those bounds (inclusive), all on the same quantity. A claim reported
    by several articles is one item per report, each marked with ``same_as`` (the first
    report's id, null on the first): ``first_report=True`` keeps one item per claim,
    ``False`` the later reports only. ``reviewed`` and ``extractor`` filter by provenance (a
    fact without one was written by a person: extractor ``person``, reviewed).
    """
    # Values are bound by name, so that lists with the same filters (whatever their values)
    # share one statement (see ``_page``).
    given = {
        **_each("status", status),
        **_each("kind", kind),
        "claimant": claimant,
        "event": event,
        "article": article,
        "published_from": published_from,
        "published_to": published_to,
        "entity": entity,
        "q": fts.expression(conn.dialect.name, q) if q else None,
        "quantity_unit": quantity_unit,
        "quantity_min": quantity_min,
        "quantity_max": quantity_max,
        "extractor": extractor,
        "extractor_person": extractor == "person" if extractor is not None else None,
    }
    params = {name: value for name, value in given.items() if value is not None}
    by_position = in_article_order and article is not None
    dialect = conn.dialect.name
    # Filters whose statement depends on their value (a yes or a no).
    flags = (has_quantity, first_report, reviewed)

    def build() -> tuple[Select[Any], Select[Any], ColumnElement[Any]]:
        """The list's statement, the same without the entity's condition, and its order."""
        stmt = CLAIM_SELECT
        if status:
            stmt = stmt.where(claim_t.c.status.in_(_bound("status", status)))
        if kind:
            stmt = stmt.where(claim_t.c.kind.in_(_bound("kind", kind)))
        if claimant is not None:
            stmt = stmt.where(claim_t.c.claimant_id == _entity_id(bindparam("claimant")))
        if event is not None:
            event_key = event_t.c.key == bindparam("event")
            event_id = select(event_t.c.id).where(event_key).scalar_subquery()
            stmt = stmt.where(
                claim_t.c.id.in_(
                    select(claim_event_t.c.claim_id).where(claim_event_t.c.event_id == event_id)
                )
            )
        if article is not None:
            stmt = stmt.where(claim_t.c.article_id == _article_id(bindparam("article")))
        if published_from is not None:
            stmt = stmt.where(article_t.c.published >= bindparam("published_from"))
        if published_to is not None:
            stmt = stmt.where(article_t.c.published <= bindparam("published_to"))
        stmt = stmt.where(*_claim_extras(params, flags))
        order: ColumnElement[Any] = claim_t.c.position if by_position else claim_t.c.id
        if q:
            query: BindParameter[str] = bindparam("q", params["q"])
            in_id_order = extension is None or _is_id_order(extension.order(order))
            if dialect == "sqlite" and in_id_order and not by_position and entity is None:
                # In id order, the page walks the text index itself: see ``fts.sqlite_index``.
                index = fts.sqlite_index(claim_t)
                stmt = stmt.join(index, index.c.rowid == claim_t.c.id)
                stmt = stmt.where(fts.index_matches(index, query))
                order = index.c.rowid
            else:
                stmt = stmt.where(fts.matching(dialect, claim_t, query))
        # Every condition but the entity's, for the entity's own index walk below.
        base = stmt.where(*extension.where) if extension is not None else stmt
        if entity is not None:
            stmt = stmt.where(_claim_entity_filter(_entity_id(bindparam("entity")), role))
        return stmt, base, order

    plain = extension is None or extension.plain
    # The names of the given parameters say which statement this is (their values do not).
    shape = ("claims", *params, role, by_position, flags) if plain else None
    if shape is not None:
        # Building the statement costs more than running it: lists of one shape share it.
        built = _CLAIM_LISTS.get((dialect, *shape))
        if built is None:
            built = _CLAIM_LISTS[(dialect, *shape)] = build()
    else:
        built = build()
    stmt, base, order = built
    if extension is not None:
        stmt = extension.apply(conn, stmt, params)
    keys = extension.order(order) if extension else [order]
    if entity is not None and _is_id_order(keys):
        # With no other condition, each walk reads its index alone.
        alone = set(params) == {"entity"} and not (extension is not None and extension.where)
        walked = None if alone else base
        rows, nxt = _entity_claim_page(conn, walked, role, after, limit, params, shape)
    else:
        rows, nxt = _page(conn, stmt, keys, after, limit, params, shape, CLAIM_PARSED)
    items = _claim_rows(conn, rows)
    if extension is not None:
        extension.finish(conn, items)
    return items, nxt


def _claim_extras(
    params: Mapping[str, Any], flags: tuple[bool | None, bool | None, bool | None]
) -> list[ColumnElement[bool]]:
    """The conditions of the quantity, report and provenance filters of ``list_claims``."""
    has_quantity, first_report, reviewed = flags
    conditions: list[ColumnElement[bool]] = []
    bounds = []
    if "quantity_unit" in params:
        bounds.append(quantity_t.c.unit == bindparam("quantity_unit"))
    if "quantity_min" in params:
        bounds.append(quantity_t.c.value >= bindparam("quantity_min", type_=Float))
    if "quantity_max" in params:
        bounds.append(quantity_t.c.value <= bindparam("quantity_max", type_=Float))
    if bounds:
        conditions.append(claim_t.c.id.in_(select(quantity_t.c.claim_id).where(*bounds)))
    if has_quantity is not None:
        quantities = claim_t.c.quantities
        conditions.append(quantities.is_not(None) if has_quantity else quantities.is_(None))
    if first_report is not None:
        same_as = claim_t.c.same_as_key
        conditions.append(same_as.is_(None) if first_report else same_as.is_not(None))
    conditions += provenance_filter(claim_t.c.provenance_id, reviewed=reviewed, extractor=None)
    if "extractor" in params:
        by = select(provenance_t.c.id).where(provenance_t.c.extractor == bindparam("extractor"))
        person = and_(
            claim_t.c.provenance_id.is_(None), bindparam("extractor_person", type_=Boolean)
        )
        conditions.append(or_(person, claim_t.c.provenance_id.in_(by)))
    return conditions


def get_claim(conn: Connection, key: str) -> Row | None:
    """One claim with its evidence and full status history, or None."""
    rows = CLAIM_BY_KEY.rows(conn, {"key": key})
    if not rows:
        return None
    out = _claim_rows(conn, rows)[0]
    # Evidence and history are the claim's, kept with its first report.
    root = out["same_as"] or key
    out["evidence"] = claim_evidence(conn, [root]).get(root, [])
    out["history"] = claim_history(conn, [root]).get(root, [])
    out["reports"] = fact_reports(conn, "claim", [root])[root]
    return out


def claim_evidence(conn: Connection, claim_keys: Sequence[str]) -> dict[str, list[Row]]:
    """The evidence of each of these claims, in fact-file order, by claim id."""
    if not claim_keys:
        return {}
    out: dict[str, list[Row]] = defaultdict(list)
    rows = _claim_evidence(conn.dialect.name).rows(conn, id_list(conn, claim_keys))
    for claim, source, src_key, src_name, src_kind, stance, summary, url, anchor, date_ in rows:
        out[claim].append(
            {
                "source": source,
                "source_entity": _ref(src_key, src_name, src_kind),
                "stance": stance,
                "summary": summary,
                "url": url,
                "anchor": anchor,
                "date": date_,
            }
        )
    return dict(out)


@cache
def _claim_evidence(dialect: str) -> Statement:
    src = entity_t.alias("src")
    return Statement(
        select(
            claim_t.c.key.label("claim"),
            evidence_t.c.source,
            src.c.key.label("src_key"),
            src.c.name.label("src_name"),
            src.c.kind.label("src_kind"),
            evidence_t.c.stance,
            evidence_t.c.summary,
            evidence_t.c.url,
            evidence_t.c.anchor,
            evidence_t.c.date,
        )
        .select_from(
            evidence_t.join(claim_t, claim_t.c.id == evidence_t.c.claim_id).outerjoin(
                src, src.c.id == evidence_t.c.source_entity_id
            )
        )
        .where(in_ids(claim_t.c.key, dialect, String))
        .order_by(evidence_t.c.claim_id, evidence_t.c.position)
    )


def claim_history(conn: Connection, claim_keys: Sequence[str]) -> dict[str, list[Row]]:
    """Every status each of these claims has had, oldest first, by claim id."""
    if not claim_keys:
        return {}
    out: dict[str, list[Row]] = defaultdict(list)
    rows = _claim_history(conn.dialect.name).rows(conn, id_list(conn, claim_keys))
    for claim_key, status, rationale, recorded_at, actor, evidence in rows:
        out[claim_key].append(
            {
                "status": status,
                "rationale": rationale,
                "recorded_at": recorded_at,
                "actor": actor,
                "evidence": evidence or [],
            }
        )
    return dict(out)


@cache
def _claim_history(dialect: str) -> Statement:
    return Statement(
        select(
            history_t.c.claim_key,
            history_t.c.status,
            history_t.c.rationale,
            history_t.c.recorded_at,
            history_t.c.actor,
            history_t.c.evidence,
        )
        .where(in_ids(history_t.c.claim_key, dialect, String))
        .order_by(history_t.c.claim_key, history_t.c.seq)
    )


def articles_by_id(conn: Connection, keys: Sequence[str]) -> dict[str, Row]:
    """The summaries of the articles with these public ids, by id."""
    if not keys:
        return {}
    rows = conn.execute(select(*ARTICLE_COLUMNS).where(article_t.c.key.in_(keys))).all()
    return {r.key: _article(r) for r in rows}


def status_recorded(conn: Connection, claim_keys: Sequence[str]) -> dict[str, Any]:
    """When each claim's current status was recorded (its newest history entry), by claim id."""
    if not claim_keys:
        return {}
    return dict(
        conn.execute(
            select(history_t.c.claim_key, func.max(history_t.c.recorded_at))
            .where(history_t.c.claim_key.in_(claim_keys))
            .group_by(history_t.c.claim_key)
        ).all()
    )


# --- entity lookup -----------------------------------------------------------

SUGGEST_LIMIT = 100
# Past the last character of any name, so [q, q + HIGHEST) holds the names starting with q.
HIGHEST = "\U0010ffff"


@cache
def _suggest(dialect: str, kinds: bool) -> Statement:
    """One tier's names starting with ``lo``, in folded order: a range of its primary key."""
    stmt = (
        select(
            entity_name_t.c.folded,
            entity_name_t.c.label,
            entity_t.c.key,
            entity_t.c.name,
            entity_t.c.kind,
        )
        .join(entity_t, entity_t.c.id == entity_name_t.c.entity_id)
        .where(
            entity_name_t.c.tier == bindparam("tier"),
            entity_name_t.c.folded >= bindparam("lo"),
            entity_name_t.c.folded < bindparam("hi"),
        )
    )
    if kinds:
        stmt = stmt.where(in_ids(entity_t.c.kind, dialect, String, name="kinds"))
    return Statement(stmt.order_by(entity_name_t.c.folded).limit(bindparam("n")))


def suggest_entities(
    conn: Connection, *, q: str, limit: int = 10, kinds: Sequence[str] | None = None
) -> list[Row]:
    """Entities whose name or alias starts with ``q``, or has a word that does: as-you-type
    lookup, in any script, ignoring case, accents and punctuation (see ``app.names``).

    Best first: the name or an alias equal to ``q``, then names starting with it, then
    aliases, then names and aliases with a later word starting with it; within each, the
    shorter name first. Each row is ``{id, name, kind, matched}``, ``matched`` being the
    name or alias that matched. Each tier is a range of an index, read up to a bound, so
    the cost does not grow with the corpus.
    """
    folded = fold_name(q)
    if not folded:
        return []
    limit = max(1, min(limit, SUGGEST_LIMIT))
    statement = _suggest(conn.dialect.name, bool(kinds))
    params: dict[str, Any] = {"lo": folded, "hi": folded + HIGHEST, "n": 4 * limit}
    if kinds:
        params |= id_list(conn, list(kinds), "kinds")
    found: list[tuple[tuple[int, int, str, str], Row]] = []
    for tier in (NAME, ALIAS, NAME_WORD, ALIAS_WORD):
        for name_folded, label, key, name, kind in statement.rows(conn, {**params, "tier": tier}):
            exact = tier in (NAME, ALIAS) and name_folded == folded
            rank = 0 if exact else min(tier, NAME_WORD)
            row = {"id": key, "name": name, "kind": kind, "matched": label}
            found.append(((rank, len(name_folded), name_folded, key), row))
    found.sort(key=lambda item: item[0])
    out: dict[str, Row] = {}
    for _, row in found:
        out.setdefault(row["id"], row)
    return list(out.values())[:limit]


# --- vocabulary --------------------------------------------------------------


def vocabularies() -> list[Row]:
    """Every closed vocabulary with each value's definition (see ``app.vocabularies``)."""
    return vocabulary_definitions()


def verification_statuses(conn: Connection) -> list[Row]:
    """The status vocabulary: definitions, crosswalks, and how many claims and events have each."""
    claims: dict[str, int] = dict(
        conn.execute(select(claim_t.c.status, func.count()).group_by(claim_t.c.status)).all()
    )
    events: dict[str, int] = dict(
        conn.execute(select(event_t.c.status, func.count()).group_by(event_t.c.status)).all()
    )
    return [
        {
            "status": s.value,
            **STATUS_DEFINITIONS[s],
            "claims": claims.get(s.value, 0),
            "events": events.get(s.value, 0),
        }
        for s in VerificationStatus
    ]


def database_ready(conn: Connection) -> bool:
    """Whether the database answers and holds at least one article."""
    return conn.execute(select(article_t.c.id).limit(1)).first() is not None


# --- one article's facts, whole ------------------------------------------------


def _all(fetch: Any) -> list[Row]:
    items: list[Row] = []
    after: Key | None = None
    while True:
        page, after = fetch(after)
        items.extend(page)
        if after is None:
            return items


def article_facts(conn: Connection, article: str) -> Row:
    """All the entities (with mentions), events and claims (with evidence) of one article."""
    claims = _all(
        lambda after: list_claims(
            conn, article=article, in_article_order=True, after=after, limit=500
        )
    )
    evidence = claim_evidence(conn, [claim["id"] for claim in claims])
    for claim in claims:
        claim["evidence"] = evidence.get(claim["id"], [])
    return {
        "entities": _all(
            lambda after: list_article_entities(conn, article, after=after, limit=500)
        ),
        "events": _all(
            lambda after: list_events(
                conn, article=article, in_article_order=True, after=after, limit=500
            )
        ),
        "claims": claims,
    }
