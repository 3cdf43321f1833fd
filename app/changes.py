"""The data revision and what each revision changed: the source of ETags and of ``/changes``.

Every write (an ingest or upload that changes something, an article deleted, a reviewer's
status change) runs in one writer transaction that calls ``publish`` once: it increments the
data's revision (``data_revision``, which every ETag and Last-Modified derive from) and
records what changed in ``data_change`` under that revision. Writers hold the database's
write lock for their whole transaction (``app.db.create_db_engine(writer=True)``), so
revisions and change ids grow together in commit order: a reader whose snapshot is at
revision R has seen every change with ``revision <= R``, and asks for ``revision > R`` next.

Kinds of change: ``article_added``, ``article_updated`` (its fact file changed something),
``article_deleted``, and ``status_changed`` (a claim's status, ``from`` → ``to``). Each
has its ``actor``: ``ingest`` for the command, else the name of the token that wrote (the
uploader's for a fact file sent over HTTP, the reviewer's for a status). A claim's first
status is not a change: it comes with its article.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from app.models import INGEST_ACTOR, change_t, claim_t, data_revision_t
from app.statements import Statement

if TYPE_CHECKING:
    from app.ingest.load import LoadResult

ARTICLE_ADDED = "article_added"
ARTICLE_UPDATED = "article_updated"
ARTICLE_DELETED = "article_deleted"
STATUS_CHANGED = "status_changed"
KINDS = (ARTICLE_ADDED, ARTICLE_UPDATED, ARTICLE_DELETED, STATUS_CHANGED)
ARTICLE_KINDS = (ARTICLE_ADDED, ARTICLE_UPDATED, ARTICLE_DELETED)

COLUMNS = (
    "revision",
    "kind",
    "article",
    "claim",
    "from_status",
    "to_status",
    "rationale",
    "actor",
    "recorded_at",
)

# Compiled once per dialect: ingest publishes once per article it changes.
_BUMP = Statement(
    update(data_revision_t)
    .where(data_revision_t.c.id == 1)
    .values(revision=data_revision_t.c.revision + 1, changed_at=bindparam("now"))
)
_CREATE = Statement(insert(data_revision_t), columns=("id", "revision", "changed_at"))
_READ = Statement(select(data_revision_t.c.revision).where(data_revision_t.c.id == 1))
_RECORD = Statement(insert(change_t), columns=COLUMNS)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One claim's status moving from one value to another, as a writer records it."""

    claim: str
    from_status: str
    to_status: str
    rationale: str


def article_of(claim_key: str) -> str:
    """The article id of a claim's public id (``<article id>.<local id>``)."""
    return claim_key.partition(".")[0]


def publish(conn: Connection, now: dt.datetime) -> int:
    """Count one more change of the data, in the caller's writer transaction; the new revision.

    Every ETag and Last-Modified derives from the revision, so each write calls this once.
    """
    if _BUMP.execute(conn, {"now": now}) == 0:
        # The row is created by the migration; recreate it if it was removed.
        _CREATE.execute(conn, {"id": 1, "revision": 1, "changed_at": now})
        return 1
    return int(_READ.first(conn)[0])


def record(
    conn: Connection,
    revision: int,
    now: dt.datetime,
    *,
    article: str,
    kind: str | None = None,
    statuses: Sequence[StatusChange] = (),
    actor: str = INGEST_ACTOR,
) -> None:
    """Record the changes of one write under ``revision``: the article's (when ``kind`` is
    given), then its claims' status changes."""
    rows: list[tuple[Any, ...]] = []
    if kind is not None:
        rows.append((revision, kind, article, None, None, None, None, actor, now))
    rows += [
        (
            revision,
            STATUS_CHANGED,
            article_of(s.claim),
            s.claim,
            s.from_status,
            s.to_status,
            s.rationale,
            actor,
            now,
        )
        for s in statuses
    ]
    _RECORD.insert_values(conn, rows)


def record_loads(
    conn: Connection,
    loads: Sequence[tuple[str, "LoadResult"]],
    now: dt.datetime,
    actor: str = INGEST_ACTOR,
) -> int | None:
    """Publish what the fact files loaded in one transaction changed: one data revision for
    them all, and each changed article (added or updated) with its claims' status changes
    under it, by ``actor`` (``ingest``, or the name of the token that uploaded the file). The
    new revision, or None when nothing changed.
    """
    changed = [(article, result) for article, result in loads if result.changed]
    if not changed:
        return None
    revision = publish(conn, now)
    for article, result in changed:
        record(
            conn,
            revision,
            now,
            article=article,
            kind=ARTICLE_ADDED if result.get("articles", "added") else ARTICLE_UPDATED,
            statuses=result.status_changes,
            actor=actor,
        )
    return revision


# --- reading -----------------------------------------------------------------------------


def current_revision(conn: Connection) -> int:
    """The data revision the connection's transaction sees (0 before any write)."""
    row = conn.execute(select(data_revision_t.c.revision).where(data_revision_t.c.id == 1)).first()
    return int(row[0]) if row is not None else 0


def revision_time(conn: Connection) -> dt.datetime:
    """When the data last changed (the start of 1970 before any write)."""
    row = conn.execute(
        select(data_revision_t.c.changed_at).where(data_revision_t.c.id == 1)
    ).first()
    return row[0] if row is not None else dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def claim_changed_at(conn: Connection, claim: str) -> int:
    """The last revision that changed a claim: its status, or its article's fact file.

    A conservative answer: a re-ingest of the article that changed any of its facts counts,
    whether or not it changed this claim. 0 when nothing is recorded.
    """
    article = article_of(claim)
    revision = conn.execute(
        select(func.max(change_t.c.revision)).where(
            or_(
                change_t.c.claim == claim,
                and_(change_t.c.article == article, change_t.c.claim.is_(None)),
            )
        )
    ).scalar()
    return int(revision or 0)


Key = tuple[int, int]


def _item(row: Any) -> dict[str, Any]:
    return {
        "revision": row.revision,
        "kind": row.kind,
        "article": row.article,
        "claim": row.claim,
        "from": row.from_status,
        "to": row.to_status,
        "rationale": row.rationale,
        "actor": row.actor,
        "recorded_at": row.recorded_at,
    }


def _columns() -> list[Any]:
    return [change_t.c.id, *(change_t.c[name] for name in COLUMNS)]


def list_changes(
    conn: Connection, *, since: int, after: Key | None, limit: int
) -> tuple[list[dict[str, Any]], Key | None]:
    """The changes after revision ``since``, oldest first: a page of ``limit`` after the
    (revision, id) key ``after``, and the key the next page starts after (None on the last)."""
    where = [change_t.c.revision > since]
    if after is not None:
        revision, change_id = after
        where.append(
            or_(
                change_t.c.revision > revision,
                and_(change_t.c.revision == revision, change_t.c.id > change_id),
            )
        )
    rows = conn.execute(
        select(*_columns())
        .where(*where)
        .order_by(change_t.c.revision, change_t.c.id)
        .limit(limit + 1)
    ).all()
    page = rows[:limit]
    following = (page[-1].revision, page[-1].id) if len(rows) > limit else None
    return [_item(r) for r in page], following


def latest_status_changes(conn: Connection, *, since: int, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` claim status changes after revision ``since``, newest first, each
    with its change ``id`` and the claim's text (None once the claim is gone)."""
    rows = conn.execute(
        select(*_columns(), claim_t.c.text)
        .select_from(change_t.outerjoin(claim_t, claim_t.c.key == change_t.c.claim))
        .where(change_t.c.kind == STATUS_CHANGED, change_t.c.revision > since)
        .order_by(change_t.c.revision.desc(), change_t.c.id.desc())
        .limit(limit)
    ).all()
    return [{**_item(r), "id": r.id, "text": r.text} for r in rows]
