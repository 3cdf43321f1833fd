"""Write a resolved fact file into the database: idempotent, and never commits.

Public ids are stable across re-ingest: articles and entities keep the id their fact
file gives them, events and claims get ``<article id>.<local id>``, and each row keeps
its integer key when it is updated in place. Every fact carries a fingerprint of its
input, so a re-ingest touches only what changed. A claim's status history is append-only.
"""

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    Connection,
    String,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlmodel import Session

from app import changes, fts, reviews
from app.ingest.document import (
    Anchor,
    FactFileError,
    ResolvedArticle,
)
from app.models import (
    INGEST_ACTOR,
    alias_t,
    article_entity_t,
    article_t,
    claim_event_t,
    claim_t,
    entity_t,
    event_t,
    evidence_t,
    history_t,
    mention_t,
    participant_t,
    relation_t,
    subject_t,
)
from app.queries import id_list, in_ids
from app.statements import Statement

KINDS = ("articles", "entities", "events", "claims")


@dataclass
class LoadResult:
    """What one load did, counted per kind of fact and outcome."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    # The claims whose status this load changed (not merged: recorded per article).
    status_changes: list[changes.StatusChange] = field(default_factory=list)

    def add(self, kind: str, outcome: str, n: int = 1) -> None:
        if n:
            self.counts[(kind, outcome)] += n

    def merge(self, other: "LoadResult") -> None:
        self.counts.update(other.counts)

    def get(self, kind: str, outcome: str) -> int:
        return self.counts[(kind, outcome)]

    @property
    def changed(self) -> bool:
        return any(o in ("added", "updated", "removed") for _, o in self.counts)


def _fingerprint(*parts: Any) -> int:
    """The first 64 bits of a digest of a fact's input, as a signed integer (a BIGINT)."""
    digest = hashlib.sha256(orjson.dumps(parts, default=_plain)).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _plain(value: Any) -> Any:
    if hasattr(value, "__pydantic_serializer__"):
        # The bytes of model_dump(mode="json", by_alias=True) serialised, in one call.
        return orjson.Fragment(value.__pydantic_serializer__.to_json(value, by_alias=True))
    if isinstance(value, Anchor):
        return value.as_json()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(type(value))


def _anchors(anchors: Iterable[Anchor]) -> list[dict[str, Any]]:
    return [a.as_json() for a in anchors]


def _opt(anchor: Anchor | None) -> dict[str, Any] | None:
    return None if anchor is None else anchor.as_json()


# Statements of the load, compiled once per dialect and run on the driver's cursor (see
# ``app.db.Statement``): an article is some twenty statements and a hundred rows, and
# SQLAlchemy's execution path would cost more than SQLite takes to write them.
ARTICLE_COLUMNS = (
    "key",
    "title",
    "text",
    "url",
    "publisher",
    "published",
    "language",
    "sha256",
    "source_sha256",
    "updated_at",
)
ENTITY_FIELDS = ("name", "kind", "description", "external_ids")
EVENT_COLUMNS = (
    "key",
    "article_id",
    "position",
    "kind",
    "summary",
    "time_start",
    "time_end",
    "time_precision",
    "time_anchor",
    "time_note",
    "location_id",
    "modality",
    "status",
    "anchors",
    "fingerprint",
)
CLAIM_COLUMNS = (
    "key",
    "article_id",
    "position",
    "text",
    "kind",
    "claimant_id",
    "attribution",
    "status",
    "rationale",
    "hedge",
    "anchors",
    "subject_ids",
    "event_keys",
    "fingerprint",
)
EVIDENCE_COLUMNS = (
    "claim_id",
    "position",
    "source",
    "source_entity_id",
    "stance",
    "summary",
    "url",
    "anchor",
    "date",
)


def _by_id(table: Table) -> Any:
    return table.c.id == bindparam("_id")


def _insert(table: Table, columns: Sequence[str], *, returning: bool = False) -> Statement:
    return Statement(insert(table), columns=columns, key=table.c.id if returning else None)


def _update(table: Table, where: Any, columns: Sequence[str]) -> Statement:
    return Statement(update(table).where(where), columns=columns)


_ARTICLE_FIND = Statement(
    select(article_t.c.id, article_t.c.source_sha256).where(article_t.c.key == bindparam("key"))
)
_ARTICLE_INSERT = _insert(article_t, (*ARTICLE_COLUMNS, "created_at"), returning=True)
_ARTICLE_UPDATE = _update(article_t, _by_id(article_t), ARTICLE_COLUMNS)

_LINKS_FIND = Statement(
    select(
        article_entity_t.c.entity_id, article_entity_t.c.fingerprint, article_entity_t.c.position
    ).where(article_entity_t.c.article_id == bindparam("article"))
)
_ENTITY_INSERT = _insert(
    entity_t, ("key", "created_at", "updated_at", *ENTITY_FIELDS), returning=True
)
_ENTITY_UPDATE = _update(entity_t, _by_id(entity_t), ("updated_at", *ENTITY_FIELDS))
_LINK_WHERE = and_(
    article_entity_t.c.article_id == bindparam("_article"),
    article_entity_t.c.entity_id == bindparam("_entity"),
)
_LINK_POSITION = _update(article_entity_t, _LINK_WHERE, ("position",))
_LINK_UPDATE = _update(article_entity_t, _LINK_WHERE, ("fingerprint", "position"))
_ALIAS_INSERT = _insert(alias_t, ("entity_id", "article_id", "name", "language"))
_MENTION_INSERT = _insert(mention_t, ("article_id", "start", "end", "entity_id", "exact"))
_LINK_INSERT = _insert(article_entity_t, ("article_id", "entity_id", "position", "fingerprint"))

_RELATION_DELETE = Statement(delete(relation_t).where(relation_t.c.article_id == bindparam("a")))
_RELATION_INSERT = _insert(
    relation_t, ("article_id", "position", "subject_id", "predicate", "object_id", "anchors")
)

_EVENT_INSERT = _insert(event_t, EVENT_COLUMNS, returning=True)
_EVENT_UPDATE = _update(event_t, _by_id(event_t), EVENT_COLUMNS)
_PARTICIPANT_DELETE = Statement(
    delete(participant_t).where(participant_t.c.event_id == bindparam("event"))
)
_PARTICIPANT_INSERT = _insert(participant_t, ("event_id", "entity_id", "role", "position"))

_CLAIM_INSERT = _insert(claim_t, CLAIM_COLUMNS, returning=True)
_CLAIM_UPDATE = _update(claim_t, _by_id(claim_t), CLAIM_COLUMNS)
_CLAIM_LINK_DELETES = tuple(
    Statement(delete(table).where(table.c.claim_id == bindparam("claim")))
    for table in (subject_t, claim_event_t, evidence_t)
)
_SUBJECT_INSERT = _insert(subject_t, ("claim_id", "entity_id", "position"))
_CLAIM_EVENT_INSERT = _insert(claim_event_t, ("claim_id", "event_id", "position"))
_EVIDENCE_INSERT = _insert(evidence_t, EVIDENCE_COLUMNS)
_HISTORY_INSERT = _insert(
    history_t, ("claim_key", "seq", "status", "rationale", "recorded_at", "actor")
)


@cache
def _existing_statement(table: Table) -> Statement:
    columns = [table.c.id, table.c.key, table.c.fingerprint, table.c.position]
    if table is claim_t:
        columns.append(table.c.status)
    return Statement(select(*columns).where(table.c.article_id == bindparam("article")))


@cache
def _position_update(table: Table) -> Statement:
    return _update(table, _by_id(table), ("position",))


@cache
def _delete_by_ids(table: Table, dialect: str) -> Statement:
    return Statement(delete(table).where(in_ids(table.c.id, dialect)))


@cache
def _entity_statements(dialect: str) -> dict[str, Statement]:
    """The load's statements that take a list of keys or ids (see ``app.queries.in_ids``)."""
    entities = in_ids(article_entity_t.c.entity_id, dialect, name="entities")
    still_declared = select(article_entity_t.c.entity_id).where(entities)

    def of_article(table: Table) -> Statement:
        return Statement(
            delete(table).where(
                table.c.article_id == bindparam("article"),
                in_ids(table.c.entity_id, dialect, name="entities"),
            )
        )

    return {
        "find": Statement(
            select(entity_t.c.id, entity_t.c.key, *(entity_t.c[f] for f in ENTITY_FIELDS)).where(
                in_ids(entity_t.c.key, dialect, String, name="keys")
            )
        ),
        "aliases": of_article(alias_t),
        "mentions": of_article(mention_t),
        "links": of_article(article_entity_t),
        "unused": Statement(
            delete(entity_t).where(
                in_ids(entity_t.c.id, dialect, name="entities"),
                entity_t.c.id.not_in(still_declared),
            )
        ),
        "histories": Statement(
            select(history_t.c.claim_key, history_t.c.seq, history_t.c.status)
            .where(in_ids(history_t.c.claim_key, dialect, String, name="keys"))
            .order_by(history_t.c.claim_key, history_t.c.seq)
        ),
    }


# --- what to write: an article's rows, worked out from its resolved fact file -------------


@dataclass(frozen=True, slots=True)
class EntityPlan:
    key: str
    fields: tuple[Any, ...]  # the values of ENTITY_FIELDS
    fingerprint: int
    aliases: tuple[tuple[str, str | None], ...]  # (name, language), distinct, in file order
    mentions: tuple[tuple[int, int, str], ...]  # (start, end, exact)


@dataclass(frozen=True, slots=True)
class EventPlan:
    local: str  # the fact file's id of the event
    fingerprint: int
    values: dict[str, Any]  # its columns, but for its key, article, position and location
    location: str | None  # entity id
    participants: tuple[tuple[str, str], ...]  # (entity id, role)


@dataclass(frozen=True, slots=True)
class ClaimPlan:
    local: str
    fingerprint: int
    values: dict[str, Any]  # its columns, but for its key, article, position and the links
    claimant: str
    subjects: tuple[str, ...]
    events: tuple[str, ...]  # the fact file's ids of its events
    # (source, source entity id, stance, summary, url, anchor, date)
    evidence: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True, slots=True)
class ArticlePlan:
    """Everything ``load_article`` writes for one resolved fact file, in plain values.

    Working it out (fingerprints, anchors as JSON values) takes no database, so a large run
    does it in other processes while this one writes; it pickles small and quickly, where the
    resolved article it comes from does not.
    """

    key: str
    source_sha256: str
    values: dict[str, Any]  # the article's columns, but for its timestamps
    entities: tuple[EntityPlan, ...]
    relations: tuple[tuple[str, str, str, list[dict[str, Any]]], ...]  # subject, predicate…
    events: tuple[EventPlan, ...]
    claims: tuple[ClaimPlan, ...]
    declarations: "Declarations"


def plan_article(doc: ResolvedArticle) -> ArticlePlan:
    """What loading ``doc`` writes, whatever the database holds."""
    entities = tuple(
        EntityPlan(
            key=e.source.id,
            fields=(
                e.source.name,
                e.source.kind.value,
                e.source.description,
                dict(e.source.external_ids) or None,
            ),
            fingerprint=_fingerprint(e.source, e.mentions),
            aliases=tuple({(a.name, a.language): a for a in e.source.aliases}),
            mentions=tuple((a.start, a.end, a.exact) for a in e.mentions),
        )
        for e in doc.entities
    )
    relations = tuple(
        (r.source.subject, r.source.predicate.value, r.source.object, _anchors(r.anchors))
        for r in doc.relations
    )
    events = []
    for resolved in doc.events:
        ev, t = resolved.source, resolved.time
        events.append(
            EventPlan(
                local=ev.id,
                fingerprint=_fingerprint(ev, t and t.__dict__, resolved.anchors),
                values={
                    "kind": ev.kind.value,
                    "summary": ev.summary,
                    "time_start": t.start if t else None,
                    "time_end": t.end if t else None,
                    "time_precision": t.precision.value if t else None,
                    "time_anchor": _opt(t.anchor) if t else None,
                    "time_note": t.note if t else None,
                    "modality": ev.modality.value,
                    "status": ev.status.value,
                    "anchors": _anchors(resolved.anchors),
                },
                location=ev.location,
                participants=tuple((p.entity, p.role) for p in ev.participants),
            )
        )
    claims = []
    for claim_in in doc.claims:
        c = claim_in.source
        claims.append(
            ClaimPlan(
                local=c.id,
                fingerprint=_fingerprint(
                    c,
                    claim_in.attribution,
                    claim_in.hedge,
                    claim_in.anchors,
                    [(e.anchor, e.source) for e in claim_in.evidence],
                ),
                values={
                    "text": c.text,
                    "kind": c.kind.value,
                    "attribution": _opt(claim_in.attribution),
                    "status": c.status.value,
                    "rationale": c.rationale,
                    "hedge": _opt(claim_in.hedge),
                    "anchors": _anchors(claim_in.anchors),
                },
                claimant=c.claimant,
                subjects=tuple(c.subjects),
                events=tuple(c.events),
                evidence=tuple(
                    (
                        ev.source.source,
                        ev.source.source_entity,
                        ev.source.stance.value,
                        ev.source.summary,
                        ev.source.url,
                        _opt(ev.anchor),
                        ev.source.date,
                    )
                    for ev in claim_in.evidence
                ),
            )
        )
    return ArticlePlan(
        key=doc.article.id,
        source_sha256=doc.source_sha256,
        values={
            "key": doc.article.id,
            "title": doc.title,
            "text": doc.text,
            "url": doc.article.url,
            "publisher": doc.article.publisher,
            "published": doc.article.published,
            "language": doc.article.language,
            "sha256": doc.sha256,
            "source_sha256": doc.source_sha256,
        },
        entities=entities,
        relations=relations,
        events=tuple(events),
        claims=tuple(claims),
        declarations=Declarations.of(doc),
    )


# --- writing it ----------------------------------------------------------------------------


def load_article(
    session: Session, plan: ArticlePlan, *, now: dt.datetime, override_reviews: bool = False
) -> LoadResult:
    """Insert or update one article and its facts. The caller owns the transaction.

    Claims a reviewer has decided keep the reviewer's status unless the file changes it, and
    a file that changes it is refused (``reviews.ReviewConflict``, raised before anything is
    written) unless ``override_reviews``: see ``app.reviews``.
    """
    conn = session.connection()
    result = LoadResult()
    key = plan.key
    row = _ARTICLE_FIND.first(conn, {"key": key})
    if row is not None and row[1] == plan.source_sha256:
        result.add("articles", "unchanged")
        result.add("entities", "unchanged", len(plan.entities))
        result.add("events", "unchanged", len(plan.events))
        result.add("claims", "unchanged", len(plan.claims))
        return result
    plan = reviews.reconcile(conn, plan, override=override_reviews)

    values = {**plan.values, "updated_at": now}
    if row is None:
        article_id = _ARTICLE_INSERT.inserted(conn, {"created_at": now, **values})
        fts.index_new_rows(conn, "article", [article_id])
        result.add("articles", "added")
    else:
        article_id = row[0]
        _ARTICLE_UPDATE.execute(conn, {"_id": article_id, **values})
        result.add("articles", "updated")

    entity_ids, undeclared = _load_entities(conn, article_id, plan.entities, now, result)
    _load_relations(conn, article_id, plan.relations, entity_ids)
    event_ids = _load_events(conn, article_id, key, plan.events, entity_ids, result)
    _load_claims(conn, article_id, key, plan.claims, entity_ids, event_ids, now, result)
    # Last, so no old row of this article still points at an entity being dropped.
    if undeclared:
        _remove_entities(conn, article_id, undeclared)
    if result.changed:
        # The data revision moves, and what changed is recorded under it (/changes).
        changes.record_load(conn, key, result, now)
    return result


def bump_revision(conn: Connection, now: dt.datetime) -> None:
    """Count one more change of the data, in the caller's transaction (for HTTP validators)."""
    changes.publish(conn, now)


def _load_entities(
    conn: Connection,
    article_id: int,
    entities: Sequence[EntityPlan],
    now: dt.datetime,
    result: LoadResult,
) -> tuple[dict[str, int], set[int]]:
    """Upsert the declared entities; return their ids, and the ids no longer declared here."""
    statements = _entity_statements(conn.dialect.name)
    keys = [e.key for e in entities]
    # key -> (id, name, kind, description, external_ids)
    existing = {
        r[1]: (r[0], *r[2:]) for r in statements["find"].rows(conn, id_list(conn, keys, "keys"))
    }
    # entity id -> (fingerprint, position)
    links = {r[0]: (r[1], r[2]) for r in _LINKS_FIND.rows(conn, {"article": article_id})}
    ids: dict[str, int] = {}
    # Rows are gathered and written with one statement per table, not one per entity.
    stale: list[int] = []  # entities whose aliases and mentions here are replaced
    # Rows as the values of each insert's columns, in order.
    alias_rows: list[tuple[Any, ...]] = []
    mention_rows: list[tuple[Any, ...]] = []
    link_rows: list[tuple[Any, ...]] = []
    added: list[int] = []
    for position, e in enumerate(entities):
        fields, fingerprint = e.fields, e.fingerprint
        old = existing.get(e.key)
        link = links.get(old[0]) if old is not None else None
        # This article's aliases and mentions of the entity are as they were.
        same_here = link is not None and link[0] == fingerprint
        named = dict(zip(ENTITY_FIELDS, fields, strict=True))
        if old is None:
            entity_id = _ENTITY_INSERT.inserted(
                conn, {"key": e.key, "created_at": now, "updated_at": now, **named}
            )
            added.append(entity_id)
            outcome = "added"
        else:
            entity_id = old[0]
            same = tuple(old[1:]) == fields
            if not same:
                _ENTITY_UPDATE.execute(conn, {"_id": entity_id, "updated_at": now, **named})
            outcome = "unchanged" if same and same_here else "updated"
        ids[e.key] = entity_id
        result.add("entities", outcome)
        where = {"_article": article_id, "_entity": entity_id}
        if link is not None and same_here:
            if link[1] != position:
                _LINK_POSITION.execute(conn, {**where, "position": position})
            continue
        # This article's aliases and mentions of the entity are replaced together.
        alias_rows += [(entity_id, article_id, n, lang) for n, lang in e.aliases]
        mention_rows += [(article_id, a, b, entity_id, exact) for a, b, exact in e.mentions]
        if link is not None:
            stale.append(entity_id)
            _LINK_UPDATE.execute(conn, {**where, "fingerprint": fingerprint, "position": position})
        else:
            link_rows.append((article_id, entity_id, position, fingerprint))
    if stale:
        params = {"article": article_id, **id_list(conn, stale, "entities")}
        statements["aliases"].execute(conn, params)
        statements["mentions"].execute(conn, params)
    fts.index_new_rows(conn, "entity", added)
    _ALIAS_INSERT.insert_values(conn, alias_rows)
    fts.index_new_aliases(conn, article_id, sorted({r[0] for r in alias_rows}))
    _MENTION_INSERT.insert_values(conn, mention_rows)
    _LINK_INSERT.insert_values(conn, link_rows)

    gone = set(links) - set(ids.values())
    result.add("entities", "removed", len(gone))
    return ids, gone


def _remove_entities(conn: Connection, article_id: int, entity_ids: set[int]) -> None:
    """Drop this article's declarations of the entities, and the entities no article declares."""
    statements = _entity_statements(conn.dialect.name)
    params = {"article": article_id, **id_list(conn, sorted(entity_ids), "entities")}
    for name in ("aliases", "mentions", "links"):
        statements[name].execute(conn, params)
    statements["unused"].execute(conn, id_list(conn, sorted(entity_ids), "entities"))


def _load_relations(
    conn: Connection,
    article_id: int,
    relations: Sequence[tuple[str, str, str, list[dict[str, Any]]]],
    entity_ids: dict[str, int],
) -> None:
    _RELATION_DELETE.execute(conn, {"a": article_id})
    _RELATION_INSERT.insert_values(
        conn,
        [
            (article_id, i, entity_ids[subject], predicate, entity_ids[obj], anchors)
            for i, (subject, predicate, obj, anchors) in enumerate(relations)
        ],
    )


class _Existing(NamedTuple):
    id: int
    key: str
    fingerprint: int
    position: int
    status: str | None = None


def _existing(conn: Connection, table: Table, article_id: int) -> dict[str, _Existing]:
    rows = _existing_statement(table).rows(conn, {"article": article_id})
    return {r[1]: _Existing(*r) for r in rows}


def _load_events(
    conn: Connection,
    article_id: int,
    article_key: str,
    events: Sequence[EventPlan],
    entity_ids: dict[str, int],
    result: LoadResult,
) -> dict[str, int]:
    existing = _existing(conn, event_t, article_id)
    ids: dict[str, int] = {}
    participants: list[tuple[Any, ...]] = []
    added: list[int] = []
    for position, ev in enumerate(events):
        key = f"{article_key}.{ev.local}"
        old = existing.get(key)
        if old is not None and old.fingerprint == ev.fingerprint:
            ids[ev.local] = old.id
            _keep_position(conn, event_t, old, position)
            result.add("events", "unchanged")
            continue
        values = {
            **ev.values,
            "key": key,
            "article_id": article_id,
            "position": position,
            "location_id": entity_ids[ev.location] if ev.location else None,
            "fingerprint": ev.fingerprint,
        }
        if old is None:
            event_id = _EVENT_INSERT.inserted(conn, values)
            added.append(event_id)
            result.add("events", "added")
        else:
            event_id = old.id
            _EVENT_UPDATE.execute(conn, {"_id": event_id, **values})
            _PARTICIPANT_DELETE.execute(conn, {"event": event_id})
            result.add("events", "updated")
        ids[ev.local] = event_id
        participants += [
            (event_id, entity_ids[entity], role, i)
            for i, (entity, role) in enumerate(ev.participants)
        ]
    fts.index_new_rows(conn, "event", added)
    _PARTICIPANT_INSERT.insert_values(conn, participants)
    _remove_missing(
        conn, event_t, existing, {f"{article_key}.{e.local}" for e in events}, "events", result
    )
    return ids


def _keep_position(conn: Connection, table: Table, old: _Existing, position: int) -> None:
    """An unchanged fact that only moved within its file keeps its row; its position follows."""
    if old.position != position:
        _position_update(table).execute(conn, {"_id": old.id, "position": position})


def _remove_missing(
    conn: Connection,
    table: Table,
    existing: dict[str, _Existing],
    keep: set[str],
    kind: str,
    result: LoadResult,
) -> None:
    gone = [r.id for k, r in existing.items() if k not in keep]
    if gone:
        _delete_by_ids(table, conn.dialect.name).execute(conn, id_list(conn, gone))
        result.add(kind, "removed", len(gone))


def _load_claims(
    conn: Connection,
    article_id: int,
    article_key: str,
    claims: Sequence[ClaimPlan],
    entity_ids: dict[str, int],
    event_ids: dict[str, int],
    now: dt.datetime,
    result: LoadResult,
) -> None:
    existing = _existing(conn, claim_t, article_id)
    keys = [f"{article_key}.{c.local}" for c in claims]
    last = _last_statuses(conn, keys)
    # Rows are gathered and written with one statement per table, not one per claim.
    # Rows as the values of each insert's columns, in order.
    history: list[tuple[Any, ...]] = []
    subjects: list[tuple[Any, ...]] = []
    related: list[tuple[Any, ...]] = []
    evidence: list[tuple[Any, ...]] = []
    added: list[int] = []
    for position, c in enumerate(claims):
        key = keys[position]
        old = existing.get(key)
        if old is not None and old.fingerprint == c.fingerprint:
            _keep_position(conn, claim_t, old, position)
            result.add("claims", "unchanged")
            continue
        values = {
            **c.values,
            "key": key,
            "article_id": article_id,
            "position": position,
            "claimant_id": entity_ids[c.claimant],
            "subject_ids": [entity_ids[s] for s in c.subjects] or None,
            "event_keys": [f"{article_key}.{e}" for e in c.events] or None,
            "fingerprint": c.fingerprint,
        }
        if old is None:
            claim_id = _CLAIM_INSERT.inserted(conn, values)
            added.append(claim_id)
            result.add("claims", "added")
        else:
            claim_id = old.id
            _CLAIM_UPDATE.execute(conn, {"_id": claim_id, **values})
            for statement in _CLAIM_LINK_DELETES:
                statement.execute(conn, {"claim": claim_id})
            result.add("claims", "updated")
        subjects += [(claim_id, entity_ids[s], i) for i, s in enumerate(c.subjects)]
        related += [(claim_id, event_ids[e], i) for i, e in enumerate(c.events)]
        evidence += [
            (
                claim_id,
                i,
                source,
                entity_ids[source_entity] if source_entity else None,
                stance,
                summary,
                url,
                anchor,
                date_,
            )
            for i, (source, source_entity, stance, summary, url, anchor, date_) in enumerate(
                c.evidence
            )
        ]
        status = c.values["status"]
        seq, recorded = last.get(key, (0, None))
        previous = old.status if old is not None else recorded
        if previous != status:
            rationale = c.values["rationale"]
            history.append((key, seq + 1, status, rationale, now, INGEST_ACTOR))
            if previous is not None:
                result.status_changes.append(changes.StatusChange(key, previous, status, rationale))
    fts.index_new_rows(conn, "claim", added)
    _HISTORY_INSERT.insert_values(conn, history)
    _SUBJECT_INSERT.insert_values(conn, subjects)
    _CLAIM_EVENT_INSERT.insert_values(conn, related)
    _EVIDENCE_INSERT.insert_values(conn, evidence)
    _remove_missing(conn, claim_t, existing, set(keys), "claims", result)


def _last_statuses(conn: Connection, claim_keys: Sequence[str]) -> dict[str, tuple[int, str]]:
    """The number and status of each claim id's last recorded change (which outlive the
    claim's row)."""
    if not claim_keys:
        return {}
    statement = _entity_statements(conn.dialect.name)["histories"]
    # In order: each claim's last change comes last.
    return {r[0]: (r[1], r[2]) for r in statement.rows(conn, id_list(conn, claim_keys, "keys"))}


@dataclass(frozen=True)
class Declarations:
    """What the checks across files need of one fact file: its article and entity kinds."""

    path: Path
    article: str
    entities: tuple[tuple[str, str], ...]  # (entity id, kind), in file order

    @classmethod
    def of(cls, doc: ResolvedArticle) -> "Declarations":
        entities = tuple((e.source.id, e.source.kind.value) for e in doc.entities)
        return cls(doc.path, doc.article.id, entities)


KEYS_PER_QUERY = 10_000  # well under SQLite's limit on bound parameters


def entity_conflicts(session: Session, docs: Sequence[Declarations]) -> list[FactFileError]:
    """Entity ids that would name two different things: declared with another kind elsewhere.

    An entity id is shared by every article that declares it, so a second article
    that gives it another kind is almost certainly a different entity under a
    reused id. Within one article, changing an entity's kind is an ordinary edit.
    """
    errors: list[FactFileError] = []
    declared: dict[str, tuple[str, str]] = {}  # entity id -> (kind, article id) seen in this run
    declared_kinds: dict[str, set[str]] = {}
    for doc in docs:
        for key, kind in doc.entities:
            declared_kinds.setdefault(key, set()).add(kind)
    keys = sorted(declared_kinds)
    in_run = {doc.article for doc in docs}
    conn = session.connection()
    stored_kinds: dict[str, str] = {}
    for chunk in range(0, len(keys), KEYS_PER_QUERY):
        rows = conn.execute(
            select(entity_t.c.key, entity_t.c.kind).where(
                entity_t.c.key.in_(keys[chunk : chunk + KEYS_PER_QUERY])
            )
        )
        stored_kinds.update({r.key: r.kind for r in rows})
    # The articles that declare an entity are read only where a kind differs: an entity of a
    # large corpus may be declared by most of its articles.
    differing = sorted(k for k, kind in stored_kinds.items() if declared_kinds[k] - {kind})
    stored: dict[str, tuple[str, list[str]]] = {}
    for chunk in range(0, len(differing), KEYS_PER_QUERY):
        rows = conn.execute(
            select(entity_t.c.key, entity_t.c.kind, article_t.c.key.label("article"))
            .join(article_entity_t, article_entity_t.c.entity_id == entity_t.c.id)
            .join(article_t, article_t.c.id == article_entity_t.c.article_id)
            .where(entity_t.c.key.in_(differing[chunk : chunk + KEYS_PER_QUERY]))
            .order_by(article_t.c.id)
        )
        for r in rows:
            stored.setdefault(r.key, (r.kind, []))[1].append(r.article)
    for doc in docs:
        for i, (key, kind) in enumerate(doc.entities):
            where = f"$.entities[{i}].kind"
            if key in declared and declared[key][0] != kind:
                other_kind, other = declared[key]
                problem = f"entity {key!r} is a {other_kind!r} in article {other!r}, not {kind!r}"
                errors.append(FactFileError(doc.path, where, problem))
                continue
            declared.setdefault(key, (kind, doc.article))
            if key in stored:
                stored_kind, articles = stored[key]
                # Articles of this run are checked against each other above, with the
                # kinds their new files give.
                others = [a for a in articles if a not in in_run]
                if stored_kind != kind and others:
                    problem = (
                        f"entity {key!r} is a {stored_kind!r} in article {others[0]!r}, "
                        f"not {kind!r}; use another id for a different entity"
                    )
                    errors.append(FactFileError(doc.path, where, problem))
    return errors


def article_count(session: Session) -> int:
    """How many articles the database holds."""
    return int(
        session.connection().execute(select(func.count()).select_from(article_t)).scalar_one()
    )
