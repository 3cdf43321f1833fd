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
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Table, delete, func, insert, select, update
from sqlmodel import Session

from app.ingest.document import (
    Anchor,
    FactFileError,
    ResolvedArticle,
    ResolvedClaim,
    ResolvedEvent,
)
from app.models import (
    alias_t,
    article_entity_t,
    article_t,
    claim_event_t,
    claim_t,
    data_revision_t,
    entity_t,
    event_t,
    evidence_t,
    history_t,
    mention_t,
    participant_t,
    relation_t,
    subject_t,
)

KINDS = ("articles", "entities", "events", "claims")


@dataclass
class LoadResult:
    """What one load did, counted per kind of fact and outcome."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

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


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(orjson.dumps(parts, default=_plain)).hexdigest()


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, Anchor):
        return value.as_json()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(type(value))


def _anchors(anchors: Iterable[Anchor]) -> list[dict[str, Any]]:
    return [a.as_json() for a in anchors]


def _opt(anchor: Anchor | None) -> dict[str, Any] | None:
    return None if anchor is None else anchor.as_json()


def load_article(session: Session, doc: ResolvedArticle, *, now: dt.datetime) -> LoadResult:
    """Insert or update one article and its facts. The caller owns the transaction."""
    conn = session.connection()
    result = LoadResult()
    key = doc.article.id
    row = conn.execute(
        select(article_t.c.id, article_t.c.source_sha256).where(article_t.c.key == key)
    ).first()
    if row is not None and row.source_sha256 == doc.source_sha256:
        result.add("articles", "unchanged")
        result.add("entities", "unchanged", len(doc.entities))
        result.add("events", "unchanged", len(doc.events))
        result.add("claims", "unchanged", len(doc.claims))
        return result

    values = {
        "key": key,
        "title": doc.title,
        "text": doc.text,
        "url": doc.article.url,
        "publisher": doc.article.publisher,
        "published": doc.article.published,
        "language": doc.article.language,
        "sha256": doc.sha256,
        "source_sha256": doc.source_sha256,
        "updated_at": now,
    }
    if row is None:
        article_id = conn.execute(
            insert(article_t).values(created_at=now, **values).returning(article_t.c.id)
        ).scalar_one()
        result.add("articles", "added")
    else:
        article_id = row.id
        conn.execute(update(article_t).where(article_t.c.id == article_id).values(**values))
        result.add("articles", "updated")

    entity_ids, undeclared = _load_entities(conn, article_id, doc, now, result)
    _load_relations(conn, article_id, doc, entity_ids)
    event_ids = _load_events(conn, article_id, key, doc.events, entity_ids, result)
    _load_claims(conn, article_id, key, doc.claims, entity_ids, event_ids, now, result)
    # Last, so no old row of this article still points at an entity being dropped.
    if undeclared:
        _remove_entities(conn, article_id, undeclared)
    if result.changed:
        bump_revision(conn, now)
    return result


def bump_revision(conn: Connection, now: dt.datetime) -> None:
    """Count one more change of the data, in the caller's transaction (for HTTP validators)."""
    bumped = conn.execute(
        update(data_revision_t)
        .where(data_revision_t.c.id == 1)
        .values(revision=data_revision_t.c.revision + 1, changed_at=now)
    )
    if bumped.rowcount == 0:
        # The row is created by the migration; recreate it if it was removed.
        conn.execute(insert(data_revision_t).values(id=1, revision=1, changed_at=now))


_INSERT_ENTITY = insert(entity_t).returning(entity_t.c.id)


def _load_entities(
    conn: Connection, article_id: int, doc: ResolvedArticle, now: dt.datetime, result: LoadResult
) -> tuple[dict[str, int], set[int]]:
    """Upsert the declared entities; return their ids, and the ids no longer declared here."""
    keys = [e.source.id for e in doc.entities]
    existing = {
        r.key: r
        for r in conn.execute(
            select(
                entity_t.c.id,
                entity_t.c.key,
                entity_t.c.name,
                entity_t.c.kind,
                entity_t.c.description,
                entity_t.c.external_ids,
            ).where(entity_t.c.key.in_(keys))
        )
    }
    links = {
        r.entity_id: r
        for r in conn.execute(
            select(
                article_entity_t.c.entity_id,
                article_entity_t.c.fingerprint,
                article_entity_t.c.position,
            ).where(article_entity_t.c.article_id == article_id)
        )
    }
    ids: dict[str, int] = {}
    # Rows are gathered and written with one statement per table, not one per entity.
    stale: list[int] = []  # entities whose aliases and mentions here are replaced
    alias_rows: list[dict[str, Any]] = []
    mention_rows: list[dict[str, Any]] = []
    link_rows: list[dict[str, Any]] = []
    for position, resolved in enumerate(doc.entities):
        e = resolved.source
        fields = {
            "name": e.name,
            "kind": e.kind.value,
            "description": e.description,
            "external_ids": dict(e.external_ids) or None,
        }
        fingerprint = _fingerprint(e, resolved.mentions)
        old = existing.get(e.id)
        link = links.get(old.id) if old is not None else None
        # This article's aliases and mentions of the entity are as they were.
        same_here = link is not None and link.fingerprint == fingerprint
        if old is None:
            entity_id = conn.execute(
                _INSERT_ENTITY, {"key": e.id, "created_at": now, "updated_at": now, **fields}
            ).scalar_one()
            outcome = "added"
        else:
            entity_id = old.id
            same = all(getattr(old, k) == v for k, v in fields.items())
            if not same:
                conn.execute(
                    update(entity_t)
                    .where(entity_t.c.id == entity_id)
                    .values(updated_at=now, **fields)
                )
            outcome = "unchanged" if same and same_here else "updated"
        ids[e.id] = entity_id
        result.add("entities", outcome)
        if link is not None and same_here:
            if link.position != position:
                conn.execute(
                    update(article_entity_t)
                    .where(
                        article_entity_t.c.article_id == article_id,
                        article_entity_t.c.entity_id == entity_id,
                    )
                    .values(position=position)
                )
            continue
        # This article's aliases and mentions of the entity are replaced together.
        aliases = list({(a.name, a.language): a for a in e.aliases})
        alias_rows += [
            {"entity_id": entity_id, "article_id": article_id, "name": n, "language": lang}
            for n, lang in aliases
        ]
        mention_rows += [
            {"article_id": article_id, "entity_id": entity_id, **a.as_json()}
            for a in resolved.mentions
        ]
        values = {"fingerprint": fingerprint, "position": position}
        if link is not None:
            stale.append(entity_id)
            conn.execute(
                update(article_entity_t)
                .where(
                    article_entity_t.c.article_id == article_id,
                    article_entity_t.c.entity_id == entity_id,
                )
                .values(**values)
            )
        else:
            link_rows.append({"article_id": article_id, "entity_id": entity_id, **values})
    if stale:
        for table in (alias_t, mention_t):
            conn.execute(
                delete(table).where(table.c.article_id == article_id, table.c.entity_id.in_(stale))
            )
    for table, rows in (
        (alias_t, alias_rows),
        (mention_t, mention_rows),
        (article_entity_t, link_rows),
    ):
        if rows:
            conn.execute(insert(table), rows)

    gone = set(links) - set(ids.values())
    result.add("entities", "removed", len(gone))
    return ids, gone


def _remove_entities(conn: Connection, article_id: int, entity_ids: set[int]) -> None:
    """Drop this article's declarations of the entities, and the entities no article declares."""
    for table in (alias_t, mention_t, article_entity_t):
        conn.execute(
            delete(table).where(
                table.c.article_id == article_id,
                table.c.entity_id.in_(entity_ids),
            )
        )
    still_declared = select(article_entity_t.c.entity_id).where(
        article_entity_t.c.entity_id.in_(entity_ids)
    )
    conn.execute(
        delete(entity_t).where(
            entity_t.c.id.in_(entity_ids),
            entity_t.c.id.not_in(still_declared),
        )
    )


def _load_relations(
    conn: Connection, article_id: int, doc: ResolvedArticle, entity_ids: dict[str, int]
) -> None:
    conn.execute(delete(relation_t).where(relation_t.c.article_id == article_id))
    if doc.relations:
        conn.execute(
            insert(relation_t),
            [
                {
                    "article_id": article_id,
                    "position": i,
                    "subject_id": entity_ids[r.source.subject],
                    "predicate": r.source.predicate.value,
                    "object_id": entity_ids[r.source.object],
                    "anchors": _anchors(r.anchors),
                }
                for i, r in enumerate(doc.relations)
            ],
        )


def _existing(conn: Connection, table: Table, article_id: int) -> dict[str, Any]:
    rows = conn.execute(
        select(
            table.c.id,
            table.c.key,
            table.c.fingerprint,
            table.c.position,
            *([table.c.status] if table is claim_t else []),
        ).where(table.c.article_id == article_id)
    )
    return {r.key: r for r in rows}


def _load_events(
    conn: Connection,
    article_id: int,
    article_key: str,
    events: Sequence[ResolvedEvent],
    entity_ids: dict[str, int],
    result: LoadResult,
) -> dict[str, int]:
    existing = _existing(conn, event_t, article_id)
    ids: dict[str, int] = {}
    participants: list[dict[str, Any]] = []
    added: list[tuple[ResolvedEvent, dict[str, Any]]] = []  # inserted together, below
    for position, resolved in enumerate(events):
        ev = resolved.source
        key = f"{article_key}.{ev.id}"
        fingerprint = _fingerprint(ev, resolved.time and resolved.time.__dict__, resolved.anchors)
        old = existing.get(key)
        if old is not None and old.fingerprint == fingerprint:
            ids[ev.id] = old.id
            _keep_position(conn, event_t, old, position)
            result.add("events", "unchanged")
            continue
        t = resolved.time
        values = {
            "key": key,
            "article_id": article_id,
            "position": position,
            "kind": ev.kind.value,
            "summary": ev.summary,
            "time_start": t.start if t else None,
            "time_end": t.end if t else None,
            "time_precision": t.precision.value if t else None,
            "time_anchor": _opt(t.anchor) if t else None,
            "time_note": t.note if t else None,
            "location_id": entity_ids[ev.location] if ev.location else None,
            "modality": ev.modality.value,
            "status": ev.status.value,
            "anchors": _anchors(resolved.anchors),
            "fingerprint": fingerprint,
        }
        if old is None:
            added.append((resolved, values))
            result.add("events", "added")
            continue
        event_id = old.id
        conn.execute(update(event_t).where(event_t.c.id == event_id).values(**values))
        conn.execute(delete(participant_t).where(participant_t.c.event_id == event_id))
        result.add("events", "updated")
        ids[resolved.source.id] = event_id
        participants += _participant_rows(event_id, resolved, entity_ids)
    for (resolved, _), event_id in zip(
        added, _insert_returning_ids(conn, event_t, added), strict=True
    ):
        ids[resolved.source.id] = event_id
        participants += _participant_rows(event_id, resolved, entity_ids)
    if participants:
        conn.execute(insert(participant_t), participants)
    _remove_missing(
        conn, event_t, existing, {f"{article_key}.{e.source.id}" for e in events}, "events", result
    )
    return ids


def _participant_rows(
    event_id: int, resolved: ResolvedEvent, entity_ids: dict[str, int]
) -> list[dict[str, Any]]:
    return [
        {"event_id": event_id, "entity_id": entity_ids[p.entity], "role": p.role, "position": i}
        for i, p in enumerate(resolved.source.participants)
    ]


def _insert_returning_ids(
    conn: Connection, table: Table, added: Sequence[tuple[Any, dict[str, Any]]]
) -> list[int]:
    """Insert the rows of ``added`` (pairs of a fact and its row) in one statement; their ids,
    in the same order."""
    if not added:
        return []
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(conn.execute(stmt, [values for _, values in added]).scalars())


def _keep_position(conn: Connection, table: Table, old: Any, position: int) -> None:
    """An unchanged fact that only moved within its file keeps its row; its position follows."""
    if old.position != position:
        conn.execute(update(table).where(table.c.id == old.id).values(position=position))


def _remove_missing(
    conn: Connection,
    table: Table,
    existing: dict[str, Any],
    keep: set[str],
    kind: str,
    result: LoadResult,
) -> None:
    gone = [r.id for k, r in existing.items() if k not in keep]
    if gone:
        conn.execute(delete(table).where(table.c.id.in_(gone)))
        result.add(kind, "removed", len(gone))


def _load_claims(
    conn: Connection,
    article_id: int,
    article_key: str,
    claims: Sequence[ResolvedClaim],
    entity_ids: dict[str, int],
    event_ids: dict[str, int],
    now: dt.datetime,
    result: LoadResult,
) -> None:
    existing = _existing(conn, claim_t, article_id)
    keys = [f"{article_key}.{c.source.id}" for c in claims]
    last_status = _last_statuses(conn, [k for k in keys if k not in existing])
    # Rows are gathered and written with one statement per table, not one per claim.
    history: list[dict[str, Any]] = []
    links: dict[Table, list[dict[str, Any]]] = {subject_t: [], claim_event_t: [], evidence_t: []}
    added: list[tuple[ResolvedClaim, dict[str, Any]]] = []  # inserted together, below
    for position, resolved in enumerate(claims):
        c = resolved.source
        key = keys[position]
        fingerprint = _fingerprint(
            c,
            resolved.attribution,
            resolved.hedge,
            resolved.anchors,
            [(e.anchor, e.source) for e in resolved.evidence],
        )
        old = existing.get(key)
        if old is not None and old.fingerprint == fingerprint:
            _keep_position(conn, claim_t, old, position)
            result.add("claims", "unchanged")
            continue
        values = {
            "key": key,
            "article_id": article_id,
            "position": position,
            "text": c.text,
            "kind": c.kind.value,
            "claimant_id": entity_ids[c.claimant],
            "attribution": _opt(resolved.attribution),
            "status": c.status.value,
            "rationale": c.rationale,
            "hedge": _opt(resolved.hedge),
            "anchors": _anchors(resolved.anchors),
            "subject_ids": [entity_ids[s] for s in c.subjects] or None,
            "event_keys": [f"{article_key}.{e}" for e in c.events] or None,
            "fingerprint": fingerprint,
            "updated_at": now,
        }
        if old is None:
            added.append((resolved, {"created_at": now, **values}))
            result.add("claims", "added")
        else:
            claim_id = old.id
            conn.execute(update(claim_t).where(claim_t.c.id == claim_id).values(**values))
            for table in (subject_t, claim_event_t, evidence_t):
                conn.execute(delete(table).where(table.c.claim_id == claim_id))
            result.add("claims", "updated")
            for table, rows in _claim_link_rows(claim_id, resolved, entity_ids, event_ids).items():
                links[table] += rows
        previous = old.status if old is not None else last_status.get(key)
        if previous != c.status.value:
            history.append(
                {
                    "claim_key": key,
                    "status": c.status.value,
                    "rationale": c.rationale,
                    "recorded_at": now,
                }
            )
    for (resolved, _), claim_id in zip(
        added, _insert_returning_ids(conn, claim_t, added), strict=True
    ):
        for table, rows in _claim_link_rows(claim_id, resolved, entity_ids, event_ids).items():
            links[table] += rows
    for table, rows in ((history_t, history), *links.items()):
        if rows:
            conn.execute(insert(table), rows)
    _remove_missing(
        conn, claim_t, existing, {f"{article_key}.{c.source.id}" for c in claims}, "claims", result
    )


def _last_statuses(conn: Connection, claim_keys: Sequence[str]) -> dict[str, str]:
    """The last recorded status of each claim id, which outlives the claim's row."""
    if not claim_keys:
        return {}
    last = (
        select(func.max(history_t.c.id))
        .where(history_t.c.claim_key.in_(claim_keys))
        .group_by(history_t.c.claim_key)
    )
    rows = conn.execute(
        select(history_t.c.claim_key, history_t.c.status).where(history_t.c.id.in_(last))
    )
    return {r.claim_key: r.status for r in rows}


def _claim_link_rows(
    claim_id: int,
    resolved: ResolvedClaim,
    entity_ids: dict[str, int],
    event_ids: dict[str, int],
) -> dict[Table, list[dict[str, Any]]]:
    c = resolved.source
    return {
        subject_t: [
            {"claim_id": claim_id, "entity_id": entity_ids[s], "position": i}
            for i, s in enumerate(c.subjects)
        ],
        claim_event_t: [
            {"claim_id": claim_id, "event_id": event_ids[e], "position": i}
            for i, e in enumerate(c.events)
        ],
        evidence_t: [
            {
                "claim_id": claim_id,
                "position": i,
                "source": ev.source.source,
                "source_entity_id": entity_ids[ev.source.source_entity]
                if ev.source.source_entity
                else None,
                "stance": ev.source.stance.value,
                "summary": ev.source.summary,
                "url": ev.source.url,
                "anchor": _opt(ev.anchor),
                "date": ev.source.date,
            }
            for i, ev in enumerate(resolved.evidence)
        ],
    }


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
