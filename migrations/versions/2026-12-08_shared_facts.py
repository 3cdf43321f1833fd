"""shared facts: entity lookup, external ids, reports of one fact, unnamed sources, quantities,
provenance

Revision ID: 2d3e4f5a6b7c
Revises: 1c2d3e4f5a6b
Create Date: 2026-12-08 09:00:00.000000

- ``entity_name``: each entity's name and aliases folded for as-you-type lookup (see
  ``app.names``), filled from the stored names and aliases.
- ``entity_external_id``: each entity's external ids by scheme and value, filled from
  ``entity.external_ids``, so an entity is found by its Wikidata id.
- ``event.same_as_key`` and ``claim.same_as_key``: the public id of the first report of the
  same event or claim in another article.
- ``claim.claimant_id`` may be NULL: the claimant is then an unnamed source, described by
  ``claim.claimant_unnamed`` and anchored by ``claim.claimant_anchor``. SQLite changes a
  column's NOT NULL only by rebuilding the table (foreign keys are off during migrations).
- ``claim.quantities`` and ``claim_quantity``: the quantities a claim states.
- ``provenance`` and a ``provenance_id`` on entities, relations, events and claims (NULL: a
  person's fact file, reviewed).

Downgrading removes all of this; claims whose claimant is an unnamed source cannot be
stored without one and are removed too (their status history stays, keyed by their id).
"""

import re
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

from app.names import entity_rows

revision: str = "2d3e4f5a6b7c"
down_revision: str | None = "1c2d3e4f5a6b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOLDED = sa.String().with_variant(sa.String(collation="C"), "postgresql")
PROVENANCED = ("entity", "relation", "event", "claim")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"
    )


def _create_tables() -> None:
    op.create_table(
        "provenance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.BigInteger(), nullable=False),
        sa.Column("extractor", sa.String(length=200), nullable=False),
        sa.Column("extractor_version", sa.String(length=200), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("model_version", sa.String(length=200), nullable=True),
        sa.Column("reviewed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_provenance"),
        sa.UniqueConstraint("fingerprint", name="uq_provenance_fingerprint"),
    )
    op.create_table(
        "claim_quantity",
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("claim_id", "position", name="pk_claim_quantity"),
        _fk("claim_quantity", "claim_id", "claim"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_claim_quantity_unit_value", "claim_quantity", ["unit", "value"])
    op.create_index("ix_claim_quantity_value", "claim_quantity", ["value"])
    op.create_table(
        "entity_name",
        sa.Column("tier", sa.SmallInteger(), nullable=False, autoincrement=False),
        sa.Column("folded", FOLDED, nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("tier", "folded", "entity_id", "label", name="pk_entity_name"),
        _fk("entity_name", "entity_id", "entity"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_entity_name_entity_id", "entity_name", ["entity_id"])
    op.create_table(
        "entity_external_id",
        sa.Column("scheme", sa.String(length=120), nullable=False),
        sa.Column("value", sa.String(length=400), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scheme", "value", "entity_id", name="pk_entity_external_id"),
        _fk("entity_external_id", "entity_id", "entity"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_entity_external_id_entity_id", "entity_external_id", ["entity_id"])


def _add_columns() -> None:
    for table in PROVENANCED:
        op.add_column(table, sa.Column("provenance_id", sa.Integer(), nullable=True))
    for table in ("event", "claim"):
        op.add_column(table, sa.Column("same_as_key", sa.String(length=400), nullable=True))
        op.create_index(f"ix_{table}_same_as_key", table, ["same_as_key"])
    op.add_column("claim", sa.Column("claimant_unnamed", sa.String(), nullable=True))
    op.add_column("claim", sa.Column("claimant_anchor", sa.JSON(none_as_null=True)))
    op.add_column("claim", sa.Column("quantities", sa.JSON(none_as_null=True)))


def _fill() -> None:
    """Lookup rows and external ids of the entities already stored."""
    conn = op.get_bind()
    aliases: dict[int, set[str]] = {}
    for entity_id, name in conn.execute(
        sa.text("SELECT DISTINCT entity_id, name FROM entity_alias")
    ):
        aliases.setdefault(entity_id, set()).add(name)
    names: list[dict[str, Any]] = []
    external: list[dict[str, Any]] = []
    for entity_id, name, ids in conn.execute(
        sa.text("SELECT id, name, external_ids FROM entity ORDER BY id")
    ):
        for tier, folded, _, label in entity_rows(entity_id, name, aliases.get(entity_id, ())):
            names.append({"t": tier, "f": folded, "e": entity_id, "l": label})
        if isinstance(ids, str):
            ids = orjson.loads(ids)
        for scheme, value in (ids or {}).items():
            external.append({"s": scheme, "v": value, "e": entity_id})
    if names:
        conn.execute(
            sa.text(
                "INSERT INTO entity_name (tier, folded, entity_id, label) VALUES (:t, :f, :e, :l)"
            ),
            names,
        )
    if external:
        conn.execute(
            sa.text(
                "INSERT INTO entity_external_id (scheme, value, entity_id) VALUES (:s, :v, :e)"
            ),
            external,
        )


def _sqlite_rebuild_claim(old: str, new: str) -> None:
    """SQLite: rebuild ``claim`` with ``old`` replaced by ``new`` in its definition, keeping
    its rows, keys, key sequence, indexes and search triggers (the documented procedure for
    schema changes ALTER TABLE cannot make; foreign keys are off during migrations)."""
    conn = op.get_bind()

    def one(sql: str) -> Any:
        return conn.exec_driver_sql(sql).scalar()

    ddl = one("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'claim'")
    assert isinstance(ddl, str) and old in ddl, ddl
    others = [
        sql
        for (sql,) in conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'claim' AND type IN "
            "('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"
        )
    ]
    sequence = one("SELECT seq FROM sqlite_sequence WHERE name = 'claim'")
    rebuilt = re.sub(
        r'^CREATE TABLE "?claim"?', "CREATE TABLE _claim_new", ddl.replace(old, new, 1)
    )
    op.execute(rebuilt)
    op.execute("INSERT INTO _claim_new SELECT * FROM claim")
    op.execute("DROP TABLE claim")
    op.execute("ALTER TABLE _claim_new RENAME TO claim")
    for sql in others:
        op.execute(sql)
    if sequence is not None:
        op.execute(
            f"UPDATE sqlite_sequence SET seq = max(seq, {int(sequence)}) WHERE name = 'claim'"
        )


NOT_NULL = "claimant_id INTEGER NOT NULL"
NULLABLE = "claimant_id INTEGER"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _create_tables()
    _add_columns()
    if sqlite:
        _sqlite_rebuild_claim(NOT_NULL, NULLABLE)
    else:
        op.alter_column("claim", "claimant_id", nullable=True)
    _fill()


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # What the older schema cannot hold is lost; the articles it came from are marked
    # changed (and their facts), so that ingesting them again after an upgrade restores it.
    for table, lost in (
        ("event", "same_as_key IS NOT NULL OR provenance_id IS NOT NULL"),
        ("claim", "same_as_key IS NOT NULL OR provenance_id IS NOT NULL OR quantities IS NOT NULL"),
        ("relation", "provenance_id IS NOT NULL"),
    ):
        op.execute(
            f"UPDATE article SET source_sha256 = '' WHERE id IN "
            f"(SELECT article_id FROM {table} WHERE {lost})"
        )
        if table != "relation":
            op.execute(f"UPDATE {table} SET fingerprint = 0 WHERE {lost}")
    op.execute(
        "UPDATE article SET source_sha256 = '' WHERE id IN (SELECT article_id FROM claim "
        "WHERE claimant_id IS NULL) OR id IN (SELECT article_id FROM article_entity WHERE "
        "entity_id IN (SELECT id FROM entity WHERE provenance_id IS NOT NULL))"
    )
    # Foreign keys are off during migrations on SQLite: the rows that refer to these claims
    # go first, by hand.
    unnamed = "SELECT id FROM claim WHERE claimant_id IS NULL"
    for table in ("claim_subject", "claim_event", "evidence", "claim_quantity"):
        op.execute(f"DELETE FROM {table} WHERE claim_id IN ({unnamed})")
    op.execute("DELETE FROM claim WHERE claimant_id IS NULL")
    if sqlite:
        # The column after the rebuild reads "claimant_id INTEGER," (then the next column).
        _sqlite_rebuild_claim(NULLABLE + ",", NOT_NULL + ",")
    else:
        op.alter_column("claim", "claimant_id", nullable=False)
    for column in ("quantities", "claimant_anchor", "claimant_unnamed"):
        op.drop_column("claim", column)
    for table in ("event", "claim"):
        op.drop_index(f"ix_{table}_same_as_key", table_name=table)
        op.drop_column(table, "same_as_key")
    for table in PROVENANCED:
        op.drop_column(table, "provenance_id")
    op.drop_index("ix_entity_external_id_entity_id", table_name="entity_external_id")
    op.drop_table("entity_external_id")
    op.drop_index("ix_entity_name_entity_id", table_name="entity_name")
    op.drop_table("entity_name")
    op.drop_index("ix_claim_quantity_value", table_name="claim_quantity")
    op.drop_index("ix_claim_quantity_unit_value", table_name="claim_quantity")
    op.drop_table("claim_quantity")
    op.drop_table("provenance")
