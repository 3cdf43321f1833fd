"""The databases the suite runs on: SQLite always, PostgreSQL when TEST_DATABASE_URL is set."""

import os
import sqlite3
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, select, text
from sqlalchemy.engine import make_url

from app.db import upgrade
from app.models import metadata

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
NO_POSTGRES = (
    "PostgreSQL not tested: set TEST_DATABASE_URL=postgresql+psycopg://user:password@host/db "
    "(a throwaway database: the suite drops its tables)"
)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def reset_postgres(url: str) -> None:
    """Drop the project's tables and migrate the database from nothing to head."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    finally:
        engine.dispose()
    upgrade(url)


def empty_postgres(engine: Engine) -> None:
    """Remove every row and restart every identity, keeping the migrated schema."""
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def dump(url: str) -> list[Any]:
    """Every row of every table, in a stable order: the database's full content."""
    if is_sqlite(url):
        raw = sqlite3.connect(make_url(url).database or "")
        try:
            return list(raw.iterdump())
        finally:
            raw.close()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows: list[Any] = [conn.execute(text("SELECT version_num FROM alembic_version")).all()]
            # The tables as they are (a database at an older schema too), not as the models say.
            stored = MetaData()
            stored.reflect(conn, only=lambda name, _: name != "alembic_version")
            for table in stored.sorted_tables:
                order = list(table.primary_key.columns) or list(table.c)
                rows.append((table.name, conn.execute(select(table).order_by(*order)).all()))
            return rows
    finally:
        engine.dispose()
