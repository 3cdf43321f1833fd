"""compact storage: clustered link tables, 64-bit fingerprints, a history keyed by claim

Revision ID: 1c2d3e4f5a6b
Revises: 0b1c2d3e4f5a
Create Date: 2026-12-07 08:10:00.000000

Less to store and to write per article:

- ``mention``, ``article_entity``, ``claim_subject``, ``claim_event`` and
  ``event_participant`` are found by their primary key; on SQLite they become
  ``WITHOUT ROWID`` tables, each stored as that key's index. ``mention`` loses its
  surrogate ``id``: its key is where the mention stands (article, start, end, entity),
  which is also the order an article's mentions are read in.
- Fingerprints are the first 64 bits of the digest as a BIGINT (they were its 64 hex
  digits); the values already stored keep comparing equal.
- ``claim_status_change`` is keyed by (``claim_key``, ``seq``), ``seq`` numbering each
  claim's changes from 1 in the order they were recorded, instead of a global ``id`` and
  an index on (``claim_key``, ``id``).
- ``claim.created_at`` and ``claim.updated_at`` go: nothing reads them, and a claim's
  status history records when each change was recorded.
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "1c2d3e4f5a6b"
down_revision: str | None = "0b1c2d3e4f5a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"
    )


def _int(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Integer(), nullable=False, autoincrement=False)


Layout = dict[str, tuple[list[Any], list[str], list[Any], dict[str, list[str]]]]


def _clustered() -> Layout:
    """Table -> (columns, primary key, foreign keys, secondary indexes) after the upgrade,
    built anew for each run (a column belongs to one table object)."""
    return {
        "mention": (
            [
                _int("article_id"),
                _int("start"),
                _int("end"),
                _int("entity_id"),
                sa.Column("exact", sa.String(), nullable=False),
            ],
            ["article_id", "start", "end", "entity_id"],
            [_fk("mention", "article_id", "article"), _fk("mention", "entity_id", "entity")],
            {
                "ix_mention_entity_id_article_id_start_end": [
                    "entity_id",
                    "article_id",
                    "start",
                    "end",
                ]
            },
        ),
        "article_entity": (
            [
                _int("article_id"),
                _int("entity_id"),
                _int("position"),
                sa.Column("fingerprint", sa.BigInteger(), nullable=False),
            ],
            ["article_id", "entity_id"],
            [
                _fk("article_entity", "article_id", "article"),
                _fk("article_entity", "entity_id", "entity"),
            ],
            {"ix_article_entity_entity_id_article_id": ["entity_id", "article_id"]},
        ),
        "claim_subject": (
            [_int("claim_id"), _int("entity_id"), _int("position")],
            ["claim_id", "entity_id"],
            [
                _fk("claim_subject", "claim_id", "claim"),
                _fk("claim_subject", "entity_id", "entity"),
            ],
            {"ix_claim_subject_entity_id_claim_id": ["entity_id", "claim_id"]},
        ),
        "claim_event": (
            [_int("claim_id"), _int("event_id"), _int("position")],
            ["claim_id", "event_id"],
            [_fk("claim_event", "claim_id", "claim"), _fk("claim_event", "event_id", "event")],
            {"ix_claim_event_event_id_claim_id": ["event_id", "claim_id"]},
        ),
        "event_participant": (
            [
                _int("event_id"),
                _int("entity_id"),
                sa.Column("role", sa.String(length=120), nullable=False),
                _int("position"),
            ],
            ["event_id", "entity_id", "role"],
            [
                _fk("event_participant", "event_id", "event"),
                _fk("event_participant", "entity_id", "entity"),
            ],
            {"ix_event_participant_entity_id_event_id": ["entity_id", "event_id"]},
        ),
        "claim_status_change": (
            [
                sa.Column("claim_key", sa.String(length=400), nullable=False),
                _int("seq"),
                sa.Column("status", sa.String(length=40), nullable=False),
                sa.Column("rationale", sa.String(), nullable=False),
                sa.Column("recorded_at", sa.DateTime(), nullable=False),
            ],
            ["claim_key", "seq"],
            [],
            {},
        ),
    }


# What each table's new rows are read from, on SQLite (the fingerprint as a 64-bit integer).
SQLITE_COPY = {
    "mention": 'SELECT article_id, start, "end", entity_id, exact FROM mention',
    "article_entity": (
        "SELECT article_id, entity_id, position, fingerprint_bits(fingerprint) FROM article_entity"
    ),
    "claim_subject": "SELECT claim_id, entity_id, position FROM claim_subject",
    "claim_event": "SELECT claim_id, event_id, position FROM claim_event",
    "event_participant": "SELECT event_id, entity_id, role, position FROM event_participant",
    "claim_status_change": (
        "SELECT claim_key, row_number() OVER (PARTITION BY claim_key ORDER BY id), status, "
        "rationale, recorded_at FROM claim_status_change"
    ),
}
# The indexes the upgrade replaces (dropped with their table on SQLite).
OLD_INDEXES = {
    "mention": ["ix_mention_article_id_start", "ix_mention_entity_id_article_id_start_end"],
    "claim_status_change": ["ix_claim_status_change_claim_key_id"],
}
FINGERPRINTED = ("claim", "event")
PG_BITS = "('x' || substr(fingerprint, 1, 16))::bit(64)::bigint"


def _fingerprint_bits(value: Any) -> Any:
    """A hex digest's first 64 bits as a signed integer (an integer stays as it is)."""
    if isinstance(value, str):
        return int.from_bytes(bytes.fromhex(value[:16]), "big", signed=True)
    return value


def _rebuild(name: str, columns: list[Any], key: list[str], fks: list[Any], select: str) -> None:
    """SQLite: replace table ``name`` by a WITHOUT ROWID table of ``columns`` filled by
    ``select`` (no table refers to these, so dropping one removes nothing else)."""
    new = f"_{name}_new"
    op.create_table(
        new,
        *columns,
        sa.PrimaryKeyConstraint(*key, name=f"pk_{name}"),
        *fks,
        sqlite_with_rowid=False,
    )
    names = ", ".join(f'"{c.name}"' for c in columns)
    op.execute(f"INSERT INTO {new} ({names}) {select}")
    op.execute(f"DROP TABLE {name}")
    op.execute(f"ALTER TABLE {new} RENAME TO {name}")


def _sqlite_upgrade() -> None:
    conn = op.get_bind()
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.create_function("fingerprint_bits", 1, _fingerprint_bits, deterministic=True)
    for name, (columns, key, fks, indexes) in _clustered().items():
        _rebuild(name, columns, key, fks, SQLITE_COPY[name])
        for index, indexed in indexes.items():
            op.create_index(index, name, indexed)
    for table in FINGERPRINTED:
        # SQLite changes a column's type only by replacing the column.
        op.execute(f"ALTER TABLE {table} ADD COLUMN fingerprint_bits BIGINT NOT NULL DEFAULT 0")
        op.execute(f"UPDATE {table} SET fingerprint_bits = fingerprint_bits(fingerprint)")
        op.execute(f"ALTER TABLE {table} DROP COLUMN fingerprint")
        op.execute(f"ALTER TABLE {table} RENAME COLUMN fingerprint_bits TO fingerprint")
    for column in ("created_at", "updated_at"):
        op.execute(f"ALTER TABLE claim DROP COLUMN {column}")


def _postgresql_upgrade() -> None:
    for table in ("article_entity", *FINGERPRINTED):
        op.execute(f"ALTER TABLE {table} ALTER COLUMN fingerprint TYPE BIGINT USING {PG_BITS}")
    for index in OLD_INDEXES["mention"]:
        op.drop_index(index, table_name="mention")
    op.execute("ALTER TABLE mention DROP CONSTRAINT pk_mention")
    op.drop_column("mention", "id")
    _, key, _, indexes = _clustered()["mention"]
    op.create_primary_key("pk_mention", "mention", key)
    for index, indexed in indexes.items():
        op.create_index(index, "mention", indexed)
    op.add_column("claim_status_change", sa.Column("seq", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE claim_status_change h SET seq = n.seq FROM (SELECT id, row_number() OVER "
        "(PARTITION BY claim_key ORDER BY id) AS seq FROM claim_status_change) n "
        "WHERE n.id = h.id"
    )
    op.alter_column("claim_status_change", "seq", nullable=False)
    op.drop_index(OLD_INDEXES["claim_status_change"][0], table_name="claim_status_change")
    op.execute("ALTER TABLE claim_status_change DROP CONSTRAINT pk_claim_status_change")
    op.drop_column("claim_status_change", "id")
    op.create_primary_key("pk_claim_status_change", "claim_status_change", ["claim_key", "seq"])
    for column in ("created_at", "updated_at"):
        op.drop_column("claim", column)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_upgrade()
    else:
        _postgresql_upgrade()


# --- downgrade: the previous layout (fingerprints come back as 16 hex digits, which
# differ from any digest, so the next ingest of each article rewrites its rows once) --

OLD_SQLITE = {
    "mention": (
        "CREATE TABLE _mention_old (id INTEGER NOT NULL, article_id INTEGER NOT NULL, "
        'entity_id INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, '
        "exact VARCHAR NOT NULL, CONSTRAINT pk_mention PRIMARY KEY (id), "
        "CONSTRAINT fk_mention_article_id_article FOREIGN KEY(article_id) REFERENCES "
        "article (id) ON DELETE CASCADE, CONSTRAINT fk_mention_entity_id_entity FOREIGN "
        "KEY(entity_id) REFERENCES entity (id) ON DELETE CASCADE)",
        'SELECT NULL, article_id, entity_id, start, "end", exact FROM mention '
        'ORDER BY article_id, start, "end", entity_id',
        {
            "ix_mention_article_id_start": (["article_id", "start"], False),
            "ix_mention_entity_id_article_id_start_end": (
                ["entity_id", "article_id", "start", "end"],
                True,
            ),
        },
    ),
    "article_entity": (
        "CREATE TABLE _article_entity_old (article_id INTEGER NOT NULL, entity_id INTEGER "
        "NOT NULL, position INTEGER NOT NULL, fingerprint VARCHAR(64) NOT NULL, CONSTRAINT "
        "pk_article_entity PRIMARY KEY (article_id, entity_id), CONSTRAINT "
        "fk_article_entity_article_id_article FOREIGN KEY(article_id) REFERENCES article (id) "
        "ON DELETE CASCADE, CONSTRAINT fk_article_entity_entity_id_entity FOREIGN "
        "KEY(entity_id) REFERENCES entity (id) ON DELETE CASCADE)",
        "SELECT article_id, entity_id, position, printf('%016x', fingerprint) FROM article_entity",
        {"ix_article_entity_entity_id_article_id": (["entity_id", "article_id"], False)},
    ),
    "claim_subject": (
        "CREATE TABLE _claim_subject_old (claim_id INTEGER NOT NULL, entity_id INTEGER NOT "
        "NULL, position INTEGER NOT NULL, CONSTRAINT pk_claim_subject PRIMARY KEY (claim_id, "
        "entity_id), CONSTRAINT fk_claim_subject_claim_id_claim FOREIGN KEY(claim_id) "
        "REFERENCES claim (id) ON DELETE CASCADE, CONSTRAINT fk_claim_subject_entity_id_entity "
        "FOREIGN KEY(entity_id) REFERENCES entity (id) ON DELETE CASCADE)",
        "SELECT claim_id, entity_id, position FROM claim_subject",
        {"ix_claim_subject_entity_id_claim_id": (["entity_id", "claim_id"], False)},
    ),
    "claim_event": (
        "CREATE TABLE _claim_event_old (claim_id INTEGER NOT NULL, event_id INTEGER NOT NULL, "
        "position INTEGER NOT NULL, CONSTRAINT pk_claim_event PRIMARY KEY (claim_id, event_id), "
        "CONSTRAINT fk_claim_event_claim_id_claim FOREIGN KEY(claim_id) REFERENCES claim (id) "
        "ON DELETE CASCADE, CONSTRAINT fk_claim_event_event_id_event FOREIGN KEY(event_id) "
        "REFERENCES event (id) ON DELETE CASCADE)",
        "SELECT claim_id, event_id, position FROM claim_event",
        {"ix_claim_event_event_id_claim_id": (["event_id", "claim_id"], False)},
    ),
    "event_participant": (
        "CREATE TABLE _event_participant_old (event_id INTEGER NOT NULL, entity_id INTEGER NOT "
        "NULL, role VARCHAR(120) NOT NULL, position INTEGER NOT NULL, CONSTRAINT "
        "pk_event_participant PRIMARY KEY (event_id, entity_id, role), CONSTRAINT "
        "fk_event_participant_entity_id_entity FOREIGN KEY(entity_id) REFERENCES entity (id) "
        "ON DELETE CASCADE, CONSTRAINT fk_event_participant_event_id_event FOREIGN "
        "KEY(event_id) REFERENCES event (id) ON DELETE CASCADE)",
        "SELECT event_id, entity_id, role, position FROM event_participant",
        {"ix_event_participant_entity_id_event_id": (["entity_id", "event_id"], False)},
    ),
    "claim_status_change": (
        "CREATE TABLE _claim_status_change_old (id INTEGER NOT NULL, claim_key VARCHAR(400) "
        "NOT NULL, status VARCHAR(40) NOT NULL, rationale VARCHAR NOT NULL, recorded_at "
        "DATETIME NOT NULL, CONSTRAINT pk_claim_status_change PRIMARY KEY (id AUTOINCREMENT))",
        "SELECT NULL, claim_key, status, rationale, recorded_at FROM claim_status_change "
        "ORDER BY recorded_at, claim_key, seq",
        {"ix_claim_status_change_claim_key_id": (["claim_key", "id"], False)},
    ),
}


def _sqlite_downgrade() -> None:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    for column in ("created_at", "updated_at"):
        op.execute(f"ALTER TABLE claim ADD COLUMN {column} DATETIME NOT NULL DEFAULT '{now}'")
    for table in FINGERPRINTED:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN fingerprint_hex VARCHAR(64) NOT NULL DEFAULT ''"
        )
        op.execute(f"UPDATE {table} SET fingerprint_hex = printf('%016x', fingerprint)")
        op.execute(f"ALTER TABLE {table} DROP COLUMN fingerprint")
        op.execute(f"ALTER TABLE {table} RENAME COLUMN fingerprint_hex TO fingerprint")
    for name, (create, select, indexes) in OLD_SQLITE.items():
        op.execute(create)
        op.execute(f"INSERT INTO _{name}_old {select}")
        op.execute(f"DROP TABLE {name}")
        op.execute(f"ALTER TABLE _{name}_old RENAME TO {name}")
        for index, (indexed, unique) in indexes.items():
            op.create_index(index, name, indexed, unique=unique)


def _postgresql_downgrade() -> None:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    for column in ("created_at", "updated_at"):
        op.add_column(
            "claim",
            sa.Column(column, sa.DateTime(), nullable=False, server_default=sa.text(f"'{now}'")),
        )
        op.alter_column("claim", column, server_default=None)
    op.execute("ALTER TABLE claim_status_change DROP CONSTRAINT pk_claim_status_change")
    op.add_column("claim_status_change", sa.Column("id", sa.Integer(), sa.Identity()))
    op.create_primary_key("pk_claim_status_change", "claim_status_change", ["id"])
    op.drop_column("claim_status_change", "seq")
    op.create_index(
        "ix_claim_status_change_claim_key_id", "claim_status_change", ["claim_key", "id"]
    )
    op.drop_index("ix_mention_entity_id_article_id_start_end", table_name="mention")
    op.execute("ALTER TABLE mention DROP CONSTRAINT pk_mention")
    op.add_column("mention", sa.Column("id", sa.Integer(), sa.Identity()))
    op.create_primary_key("pk_mention", "mention", ["id"])
    op.create_index("ix_mention_article_id_start", "mention", ["article_id", "start"])
    op.create_index(
        "ix_mention_entity_id_article_id_start_end",
        "mention",
        ["entity_id", "article_id", "start", "end"],
        unique=True,
    )
    for table in ("article_entity", *FINGERPRINTED):
        op.execute(
            f"ALTER TABLE {table} ALTER COLUMN fingerprint TYPE VARCHAR(64) "
            "USING lpad(to_hex(fingerprint), 16, '0')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_downgrade()
    else:
        _postgresql_downgrade()
