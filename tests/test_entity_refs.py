"""Entity refs are read once per data revision, and each transaction sees its own revision's."""

import json
import shutil
from pathlib import Path

from sqlalchemy import Engine, event, select

from app.models import data_revision_t, entity_t
from app.queries import EntityRefs, remember_revision, row_id
from tests.conftest import DATA, SEED_FILE, Ingest


def renamed_seed(tmp_path: Path, entity: str) -> Path:
    folder = tmp_path / "renamed"
    shutil.copytree(DATA, folder)
    path = folder / SEED_FILE.name
    doc = json.loads(path.read_text("utf-8"))
    for declared in doc["entities"]:
        if declared["id"] == entity:
            declared["name"] = "Renamed"
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    return folder


def test_each_transaction_sees_the_names_of_its_own_revision(
    engine: Engine, ingest: Ingest, tmp_path: Path
) -> None:
    ingest(DATA)
    refs = EntityRefs()
    with engine.connect() as old:
        old.begin()
        pk = row_id(old, entity_t, "kazakhstan")
        assert pk is not None
        original = refs.refs(old, [pk])[pk]["name"]
        assert original != "Renamed"

        ingest(renamed_seed(tmp_path, "kazakhstan"), update_entities=True)
        with engine.connect() as new:
            new.begin()
            assert refs.refs(new, [pk])[pk]["name"] == "Renamed"
        # The older snapshot still reads the old name, and leaves the newer ones in place.
        assert refs.refs(old, [pk])[pk]["name"] == original
    with engine.connect() as later:
        later.begin()
        assert refs.refs(later, [pk])[pk]["name"] == "Renamed"


def test_unknown_entities_are_left_out(engine: Engine, ingest: Ingest) -> None:
    ingest(DATA)
    with engine.connect() as conn:
        conn.begin()
        assert EntityRefs().refs(conn, [10**9]) == {}


def test_a_remembered_revision_is_read_again_only_in_a_new_transaction(
    engine: Engine, ingest: Ingest
) -> None:
    ingest(DATA)
    reads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "data_revision" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with engine.connect() as conn:
            conn.begin()
            pk = row_id(conn, entity_t, "kazakhstan")
            assert pk is not None
            revision = conn.execute(select(data_revision_t.c.revision)).scalar_one()
            remember_revision(conn, revision)
            reads.clear()
            refs = EntityRefs()
            assert refs.refs(conn, [pk])[pk]["id"] == "kazakhstan"
            assert reads == []
            conn.rollback()
            # The same pooled connection, a new transaction: the revision is read again.
            conn.begin()
            assert refs.refs(conn, [pk])[pk]["id"] == "kazakhstan"
            assert len(reads) == 1
    finally:
        event.remove(engine, "before_cursor_execute", count)
