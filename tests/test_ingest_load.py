"""Loading resolved fact files: idempotence, updates in place, stable ids, history."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from app.fts import FTS_TABLES
from app.models import article_entity_t, claim_t, entity_t, event_t, history_t, mention_t
from tests.conftest import DATA, SEED_FILE, Ingest, minimal_doc, write_doc


def _rows(engine: Engine, table: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(table).order_by(table.c[list(table.c.keys())[0]])).all())


def test_seed_loads_and_reloads_unchanged(ingest: Ingest, engine: Engine) -> None:
    first = ingest(DATA)
    assert first.get("articles", "added") == 1
    assert first.get("claims", "added") >= 10
    before = {t.name: _rows(engine, t) for t in (entity_t, event_t, claim_t, mention_t, history_t)}
    second = ingest(DATA)
    assert not second.changed
    assert second.get("articles", "unchanged") == 1
    assert {
        t.name: _rows(engine, t) for t in (entity_t, event_t, claim_t, mention_t, history_t)
    } == before


def test_changed_file_updates_in_place_and_appends_history(
    tmp_path: Path, ingest: Ingest, engine: Engine
) -> None:
    path = write_doc(tmp_path / "a.json", minimal_doc())
    ingest(path)
    claim_before = _rows(engine, claim_t)[0]
    event_before = _rows(engine, event_t)[0]

    doc = minimal_doc()
    doc["claims"][0]["status"] = "confirmed"
    doc["claims"][0]["rationale"] = "Alice confirmed it later."
    result = ingest(write_doc(path, doc))
    assert result.get("claims", "updated") == 1
    assert result.get("events", "unchanged") == 1
    assert result.get("entities", "unchanged") == 3
    claim_after = _rows(engine, claim_t)[0]
    assert (
        (claim_after.id, claim_after.key)
        == (claim_before.id, claim_before.key)
        == (
            claim_after.id,
            "test-article.talks-went-well",
        )
    )
    assert claim_after.status == "confirmed"
    assert _rows(engine, event_t)[0] == event_before
    history = [(h.status, h.rationale) for h in _rows(engine, history_t)]
    assert history == [("pending", "Only Bob says so."), ("confirmed", "Alice confirmed it later.")]

    # A change that keeps the status does not add to the history.
    doc["claims"][0]["text"] = "The talks went very well."
    doc["claims"][0]["anchors"] = ["talks went well"]
    ingest(write_doc(path, doc))
    assert len(_rows(engine, history_t)) == 2
    # Going back to an earlier status appends again: history is never rewritten.
    doc["claims"][0]["status"] = "pending"
    ingest(write_doc(path, doc))
    assert [h.status for h in _rows(engine, history_t)] == ["pending", "confirmed", "pending"]


def test_removed_facts_are_deleted_and_orphan_entities_dropped(
    tmp_path: Path, ingest: Ingest, engine: Engine
) -> None:
    path = write_doc(tmp_path / "a.json", minimal_doc())
    ingest(path)
    doc = minimal_doc()
    doc["entities"] = [e for e in doc["entities"] if e["id"] != "paris"]
    doc["events"][0].pop("location")
    doc["relations"] = []
    doc["claims"] = []
    result = ingest(write_doc(path, doc))
    assert result.get("entities", "removed") == 1
    assert result.get("claims", "removed") == 1
    assert result.get("events", "updated") == 1
    assert [e.key for e in _rows(engine, entity_t)] == ["alice", "bob"]
    assert _rows(engine, claim_t) == []
    # The history is kept: it belongs to the claim's id, which may come back.
    assert [h.claim_key for h in _rows(engine, history_t)] == ["test-article.talks-went-well"]


def test_entities_are_shared_between_articles(
    tmp_path: Path, ingest: Ingest, engine: Engine
) -> None:
    ingest(write_doc(tmp_path / "a.json", minimal_doc()))
    other = minimal_doc()
    other["article"] = {**other["article"], "id": "second-article"}
    other["entities"][0]["aliases"] = [{"name": "Alicia", "language": "es"}]
    ingest(write_doc(tmp_path / "b.json", other))
    assert [e.key for e in _rows(engine, entity_t)] == ["alice", "bob", "paris"]
    assert len(_rows(engine, article_entity_t)) == 6
    assert len(_rows(engine, mention_t)) == 10

    # Dropping the entity from one article keeps it for the other.
    first = minimal_doc()
    first["entities"] = [e for e in first["entities"] if e["id"] != "paris"]
    first["events"][0].pop("location")
    first["relations"] = []
    ingest(write_doc(tmp_path / "a.json", first))
    assert [e.key for e in _rows(engine, entity_t)] == ["alice", "bob", "paris"]


def test_claim_ids_stay_valid_when_claims_are_reordered(
    tmp_path: Path, ingest: Ingest, engine: Engine
) -> None:
    doc = minimal_doc()
    second = copy.deepcopy(doc["claims"][0])
    second["id"] = "nothing-said"
    second["anchors"] = ["Alice said nothing"]
    doc["claims"].append(second)
    path = write_doc(tmp_path / "a.json", doc)
    ingest(path)
    ids = {c.key: c.id for c in _rows(engine, claim_t)}
    doc["claims"].reverse()
    ingest(write_doc(path, doc))
    assert {c.key: c.id for c in _rows(engine, claim_t)} == ids


def test_moving_facts_within_the_file_keeps_their_rows(
    tmp_path: Path, ingest: Ingest, engine: Engine
) -> None:
    doc = minimal_doc()
    path = write_doc(tmp_path / "a.json", doc)
    ingest(path)
    mentions = _rows(engine, mention_t)
    doc["entities"].reverse()
    result = ingest(write_doc(path, doc))
    assert result.get("entities", "unchanged") == 3 and not result.get("entities", "updated")
    assert _rows(engine, mention_t) == mentions
    positions = {r.entity_id: r.position for r in _rows(engine, article_entity_t)}
    assert sorted(positions.values()) == [0, 1, 2]
    assert positions[_rows(engine, entity_t)[2].id] == 0  # paris now comes first


def test_history_outlives_a_claim_dropped_and_added_back(
    tmp_path: Path, ingest: Ingest, engine: Engine
) -> None:
    doc = minimal_doc()
    path = write_doc(tmp_path / "a.json", doc)
    ingest(path)
    doc["claims"][0]["status"] = "confirmed"
    ingest(write_doc(path, doc))
    ingest(write_doc(path, {**doc, "claims": []}))
    assert [h.status for h in _rows(engine, history_t)] == ["pending", "confirmed"]
    ingest(write_doc(path, doc))  # back, with the status it had: nothing to append
    assert [h.status for h in _rows(engine, history_t)] == ["pending", "confirmed"]
    doc["claims"][0]["status"] = "disputed"
    ingest(write_doc(path, doc))
    assert [(h.claim_key, h.status) for h in _rows(engine, history_t)] == [
        ("test-article.talks-went-well", "pending"),
        ("test-article.talks-went-well", "confirmed"),
        ("test-article.talks-went-well", "disputed"),
    ]


def test_deleted_rows_never_give_their_keys_to_new_ones(
    tmp_path: Path, ingest: Ingest, engine: Engine
) -> None:
    doc = minimal_doc()
    path = write_doc(tmp_path / "a.json", doc)
    ingest(path)
    first = _rows(engine, claim_t)[0].id
    ingest(write_doc(path, {**doc, "claims": []}))
    ingest(write_doc(path, doc))
    assert _rows(engine, claim_t)[0].id > first


def _fts_ok(engine: Engine) -> None:
    """FTS5's own check that each index holds exactly its table's rows (SQLite)."""
    with engine.begin() as conn:
        for table in FTS_TABLES.values():
            conn.exec_driver_sql(
                f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 1)"
            )


def test_the_search_index_follows_every_load(
    backend: str, engine: Engine, ingest: Ingest, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL's index is a generated column")
    ingest(DATA)
    _fts_ok(engine)
    doc = json.loads(SEED_FILE.read_text("utf-8"))
    doc["claims"][0]["text"] += " (edited)"
    doc["claims"].pop()
    doc["events"][0]["summary"] += " (edited)"
    for entity in doc["entities"][:3]:
        entity["name"] += " (renamed)"
        entity["aliases"] = [{"name": "Another name", "language": "en"}]
    changed = tmp_path / "changed"
    changed.mkdir()
    write_doc(changed / SEED_FILE.name, doc)
    for name in SEED_FILE.parent.iterdir():
        if name.suffix != ".json":
            (changed / name.name).write_bytes(name.read_bytes())
    ingest(changed, update_entities=True)
    _fts_ok(engine)
    second = minimal_doc()
    second["article"]["id"] = "second-article"
    ingest(write_doc(tmp_path / "second.json", second))
    _fts_ok(engine)
