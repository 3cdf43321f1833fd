"""full-text search

Revision ID: d8e2f3a4b5c6
Revises: c7d1e2f3a4b5
Create Date: 2026-11-24 21:45:00.000000

Indexes article titles and texts, claim texts, event summaries, entity names and alias
names for ``/search`` and the ``q`` filters.

SQLite: one FTS5 table per indexed table, reading its content from that table
(``content=``), kept in step by triggers; tokens are runs of letters and digits, case
folded, diacritics kept. Note for later migrations: a batch (copy-and-move) migration of
an indexed table drops its triggers, so such a migration must create them again.

PostgreSQL: a generated ``search_vector`` column (the ``simple`` configuration over the
text with every run of characters other than letters and digits replaced by a space, so
the tokens are those of SQLite) and a GIN index on it.

Both are filled from the existing rows when created, and removed on downgrade.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "d8e2f3a4b5c6"
down_revision: str | None = "c7d1e2f3a4b5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> its indexed columns
INDEXED = {
    "article": ("title", "text"),
    "claim": ("text",),
    "event": ("summary",),
    "entity": ("name",),
    "entity_alias": ("name",),
}
TOKENIZER = "unicode61 remove_diacritics 0"


def _sqlite_upgrade() -> None:
    for table, columns in INDEXED.items():
        fts = f"{table}_fts"
        cols = ", ".join(f'"{c}"' for c in columns)
        new = ", ".join(f'new."{c}"' for c in columns)
        old = ", ".join(f'old."{c}"' for c in columns)
        changed = " OR ".join(f'old."{c}" IS NOT new."{c}"' for c in columns)
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', "
            f"content_rowid='id', tokenize='{TOKENIZER}')"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
        )
        # Only when the indexed text changes: a re-ingest rewrites rows whole.
        op.execute(
            f"CREATE TRIGGER {fts}_update AFTER UPDATE ON {table} WHEN {changed} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
        )
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _sqlite_downgrade() -> None:
    for table in reversed(INDEXED):
        fts = f"{table}_fts"
        for action in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{action}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")


def _vector(column: str) -> str:
    return f"to_tsvector('simple', regexp_replace(\"{column}\", '[^[:alnum:]]+', ' ', 'g'))"


def _postgresql_upgrade() -> None:
    for table, columns in INDEXED.items():
        if table == "article":
            # Title words weigh more than text words in the ranking.
            expression = f"setweight({_vector('title')}, 'A') || setweight({_vector('text')}, 'B')"
        else:
            expression = _vector(columns[0])
        op.execute(
            f'ALTER TABLE "{table}" ADD COLUMN search_vector tsvector '
            f"GENERATED ALWAYS AS ({expression}) STORED"
        )
        op.execute(f'CREATE INDEX ix_{table}_search_vector ON "{table}" USING gin (search_vector)')


def _postgresql_downgrade() -> None:
    for table in reversed(INDEXED):
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_vector")
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN IF EXISTS search_vector')


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_upgrade()
    else:
        _postgresql_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_downgrade()
    else:
        _postgresql_downgrade()
