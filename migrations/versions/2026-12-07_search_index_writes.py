"""ingest writes the SQLite search index of new rows itself

Revision ID: 0b1c2d3e4f5a
Revises: fa4b5c6d7e8f
Create Date: 2026-12-07 07:40:00.000000

A trigger that adds each new row to its FTS5 table cost some 60 µs per row (SQLite runs
the virtual table's statement as a sub-program for every row), most of the time of loading
a claim or an event. Ingest now adds an article's new rows to the index itself, one
statement per table (see ``app.fts.index_new_rows``); the triggers that keep the index in
step when a row is updated or deleted stay. PostgreSQL's generated columns are unchanged.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0b1c2d3e4f5a"
down_revision: str | None = "fa4b5c6d7e8f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED = {
    "article": ("title", "text"),
    "claim": ("text",),
    "event": ("summary",),
    "entity": ("name",),
    "entity_alias": ("name",),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in INDEXED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_insert")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in INDEXED.items():
        fts = f"{table}_fts"
        cols = ", ".join(f'"{c}"' for c in columns)
        new = ", ".join(f'new."{c}"' for c in columns)
        op.execute(
            f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
        )
