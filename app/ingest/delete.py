"""Deleting an article: the article and its own facts go, in one writer transaction.

Its mentions, aliases, relations, events and claims (with their evidence and links) go with
the article row (foreign keys cascade; on SQLite the search index triggers follow). An
entity goes too when no other article declares it; one that other articles declare stays,
with their mentions and aliases. The claims' status histories and reviews stay: they belong
to the claims' ids, and an article loaded again under the same id continues them. The
deletion is published as a change of the data (``/changes``) with who asked for it.
"""

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Table, delete, func, select

from app import changes
from app.models import article_entity_t, article_t, claim_t, entity_t, event_t
from app.queries import id_list, in_ids


@dataclass(frozen=True, slots=True)
class Deleted:
    article: str
    entities: int  # entities deleted with it (no other article declared them)
    events: int
    claims: int
    revision: int


def delete_article(conn: Connection, key: str, *, actor: str, now: dt.datetime) -> Deleted | None:
    """Delete the article ``key`` in the caller's writer transaction; None if there is none."""
    article_id = conn.execute(select(article_t.c.id).where(article_t.c.key == key)).scalar()
    if article_id is None:
        return None

    def count(table: Table) -> int:
        where = table.c.article_id == article_id
        return int(conn.execute(select(func.count()).where(where)).scalar_one())

    events, claims = count(event_t), count(claim_t)
    declared = list(
        conn.execute(
            select(article_entity_t.c.entity_id).where(article_entity_t.c.article_id == article_id)
        ).scalars()
    )
    conn.execute(delete(article_t).where(article_t.c.id == article_id))
    entities = 0
    if declared:
        # Bound as one parameter, however many entities the article declares.
        dialect = conn.dialect.name
        still_declared = select(article_entity_t.c.entity_id).where(
            in_ids(article_entity_t.c.entity_id, dialect)
        )
        unused = delete(entity_t).where(
            in_ids(entity_t.c.id, dialect), entity_t.c.id.not_in(still_declared)
        )
        entities = conn.execute(unused, id_list(conn, declared)).rowcount
    revision = changes.publish(conn, now)
    changes.record(conn, revision, now, article=key, kind=changes.ARTICLE_DELETED, actor=actor)
    return Deleted(key, entities, events, claims, revision)
