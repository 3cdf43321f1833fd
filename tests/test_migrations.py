"""Alembic owns the schema: head matches the models, and the chain goes down and up again."""

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, inspect

from app.db import alembic_config, create_db_engine, schema_revision, upgrade
from app.fts import include_name, include_object
from app.models import metadata
from tests.conftest import SEED_ARTICLE


def test_head_matches_the_models_and_downgrades_to_nothing(db_url: str) -> None:
    url = db_url
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            opts = {
                "compare_type": True,
                "include_name": include_name,
                "include_object": include_object,
            }
            diff = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        current, head = schema_revision(engine)
        assert current == head is not None

        command.downgrade(alembic_config(url), "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        upgrade(url)
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
    finally:
        engine.dispose()


def test_migration_files_are_named_by_date() -> None:
    versions = Path(__file__).resolve().parent.parent / "migrations" / "versions"
    names = sorted(p.name for p in versions.glob("*.py"))
    assert names
    for name in names:
        assert name[:11].count("-") == 2 and name[10] == "_", name


def test_in_memory_sqlite_uris_get_an_engine(tmp_path: Path) -> None:
    for url in ("sqlite://", "sqlite:///:memory:", "sqlite:///file:m1?mode=memory&uri=true"):
        engine = create_db_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT 1").scalar() == 1
        finally:
            engine.dispose()


def test_going_down_and_up_again_keeps_the_data(client: TestClient, db_url: str) -> None:
    """The migrations of this release move the data of a loaded database both ways."""
    urls = [
        "/claims?limit=500",
        f"/claims/{SEED_ARTICLE}.rosatom-head-seeks-meeting",
        "/entities/kazakhstan/mentions?limit=500",
        f"/articles/{SEED_ARTICLE}/entities?limit=500",
        "/events?limit=500",
        "/search?q=referendum",
    ]
    before = {url: client.get(url).json() for url in urls}
    command.downgrade(alembic_config(db_url), "e9f3a4b5c6d7")
    upgrade(db_url)
    for url in urls:
        assert client.get(url).json() == before[url], url


def test_sqlite_checks_foreign_keys_only_when_a_migration_ran(tmp_path: Path) -> None:
    """The check reads the whole database: a `serve` or `ingest` at head must not pay it."""
    url = f"sqlite:///{tmp_path / 'facts.db'}"
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])  # (conn, cursor, statement, parameters, context, executemany)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        upgrade(url)
        assert "PRAGMA foreign_key_check" in seen
        seen.clear()
        upgrade(url)
        assert seen and "PRAGMA foreign_key_check" not in seen
        command.downgrade(alembic_config(url), "-1")
        seen.clear()
        upgrade(url)
        assert "PRAGMA foreign_key_check" in seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)
