"""search tokens keep combining marks

Revision ID: e9f3a4b5c6d7
Revises: d8e2f3a4b5c6
Create Date: 2026-11-24 23:10:00.000000

A token is now a run of letters, digits and combining marks (Unicode categories L, N, M)
on both databases, as in ``app.fts``: the vowel signs and viramas of Devanagari, Bengali
or Thai, and a decomposed accent, stay inside their word instead of splitting it.

SQLite: each FTS5 table is created again with ``categories 'L* N* M*'`` and rebuilt from
its table (the triggers name the FTS5 table, so they carry on unchanged).

PostgreSQL: the generated ``search_vector`` columns replace runs of characters other than
letters, digits and marks (before: other than letters and digits) with a space.
"""

from collections.abc import Sequence

from alembic import op

from app.fts import postgres_separators

revision: str = "e9f3a4b5c6d7"
down_revision: str | None = "d8e2f3a4b5c6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED = {
    "article": ("title", "text"),
    "claim": ("text",),
    "event": ("summary",),
    "entity": ("name",),
    "entity_alias": ("name",),
}
TOKENIZERS = {
    "upgrade": "unicode61 remove_diacritics 0 categories ''L* N* M*''",
    "downgrade": "unicode61 remove_diacritics 0",
}
SEPARATORS = {"upgrade": postgres_separators(), "downgrade": "[^[:alnum:]]+"}


def _sqlite(direction: str) -> None:
    for table, columns in INDEXED.items():
        fts = f"{table}_fts"
        cols = ", ".join(f'"{c}"' for c in columns)
        op.execute(f"DROP TABLE {fts}")
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', "
            f"content_rowid='id', tokenize='{TOKENIZERS[direction]}')"
        )
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _vector(column: str, separators: str) -> str:
    return f"to_tsvector('simple', regexp_replace(\"{column}\", '{separators}', ' ', 'g'))"


def _postgresql(direction: str) -> None:
    separators = SEPARATORS[direction]
    for table, columns in INDEXED.items():
        if table == "article":
            title, text = _vector("title", separators), _vector("text", separators)
            expression = f"setweight({title}, 'A') || setweight({text}, 'B')"
        else:
            expression = _vector(columns[0], separators)
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_vector")
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN search_vector')
        op.execute(
            f'ALTER TABLE "{table}" ADD COLUMN search_vector tsvector '
            f"GENERATED ALWAYS AS ({expression}) STORED"
        )
        op.execute(f'CREATE INDEX ix_{table}_search_vector ON "{table}" USING gin (search_vector)')


def _migrate(direction: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite(direction)
    else:
        _postgresql(direction)


def upgrade() -> None:
    _migrate("upgrade")


def downgrade() -> None:
    _migrate("downgrade")
