"""Entity refs are read once per data revision, and each transaction sees its own revision's."""

import json
import shutil
from pathlib import Path

from sqlalchemy import Engine

from app.models import entity_t
from app.queries import EntityRefs, row_id
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

        ingest(renamed_seed(tmp_path, "kazakhstan"))
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
