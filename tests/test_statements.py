"""Statements run on the driver's cursor give what SQLAlchemy's execution would."""

import datetime as dt
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, bindparam, event, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.models import article_t, evidence_t, relation_t
from app.statements import Statement, serialised_json
from tests.conftest import DATA, SEED_ARTICLE, Ingest

ARTICLE = select(article_t.c.id, article_t.c.key, article_t.c.published).where(
    article_t.c.key == bindparam("key")
)


def test_rows_match_sqlalchemy(engine: Engine, ingest: Ingest) -> None:
    ingest(DATA)
    with engine.connect() as conn:
        conn.begin()
        expected = [tuple(r) for r in conn.execute(ARTICLE, {"key": SEED_ARTICLE})]
        found = [tuple(r) for r in Statement(ARTICLE).rows(conn, {"key": SEED_ARTICLE})]
        assert found == expected
        assert isinstance(found[0][2], dt.date)  # converted as SQLAlchemy converts it
        assert Statement(ARTICLE).first(conn, {"key": "nope"}) is None


def test_literals_and_dates_are_bound(engine: Engine, ingest: Ingest) -> None:
    ingest(DATA)
    stmt = select(article_t.c.key).where(
        article_t.c.published >= bindparam("since"), article_t.c.id > 0
    )
    with engine.connect() as conn:
        conn.begin()
        assert Statement(stmt).rows(conn, {"since": dt.date(2024, 1, 1)}) == [(SEED_ARTICLE,)]
        assert Statement(stmt).rows(conn, {"since": dt.date(2025, 1, 1)}) == []


def test_json_is_parsed_unless_left_serialised(engine: Engine, ingest: Ingest) -> None:
    ingest(DATA)
    stmt = select(relation_t.c.anchors).order_by(relation_t.c.id).limit(1)
    with engine.connect() as conn:
        conn.begin()
        parsed = Statement(stmt).first(conn)[0]
        assert isinstance(parsed, list) and {"start", "end", "exact"} <= set(parsed[0])
        with serialised_json():
            kept = Statement(stmt).first(conn)[0]
            also_parsed = Statement(stmt, parsed=["anchors"]).first(conn)[0]
        assert also_parsed == parsed
        # Either way the response carries the same JSON.
        assert orjson.loads(orjson.dumps(kept)) == parsed


def test_inserts_give_their_keys_and_convert_rows(engine: Engine, ingest: Ingest) -> None:
    ingest(DATA)
    columns = ("claim_id", "position", "source", "stance", "anchor", "date")
    with engine.connect() as conn:
        conn.begin()
        claim_id = conn.execute(select(evidence_t.c.claim_id).limit(1)).scalar_one()
        rows = [
            (claim_id, 90, "test", "supports", {"start": 0, "end": 1, "exact": "K"}, None),
            (claim_id, 91, "test", "refutes", None, dt.date(2024, 10, 6)),
        ]
        Statement(insert(evidence_t), columns=columns).insert_values(conn, rows)
        found = conn.execute(
            select(evidence_t.c.anchor, evidence_t.c.date)
            .where(evidence_t.c.position >= 90)
            .order_by(evidence_t.c.position)
        ).all()
        assert [tuple(r) for r in found] == [(rows[0][4], None), (None, dt.date(2024, 10, 6))]

        keyed = Statement(insert(evidence_t), columns=columns, key=evidence_t.c.id)
        values = (claim_id, 92, "x", "supports", None, None)
        new_id = keyed.inserted(conn, dict(zip(columns, values, strict=True)))
        stored = conn.execute(select(evidence_t.c.position).where(evidence_t.c.id == new_id))
        assert stored.scalar_one() == 92

        changed = Statement(
            update(evidence_t).where(evidence_t.c.id == bindparam("_id")), columns=("source",)
        ).execute(conn, {"_id": new_id, "source": "changed"})
        assert changed == 1
        conn.rollback()


def test_errors_are_sqlalchemy_errors_and_events_fire(engine: Engine, ingest: Ingest) -> None:
    ingest(DATA)
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with engine.connect() as conn:
            conn.begin()
            Statement(ARTICLE).rows(conn, {"key": SEED_ARTICLE})
            assert any("FROM article" in s for s in seen)
            duplicate = Statement(insert(article_t), columns=("key",))
            with pytest.raises(IntegrityError):
                duplicate.execute(conn, {"key": SEED_ARTICLE})
    finally:
        event.remove(engine, "before_cursor_execute", record)
