"""writes: API tokens, who recorded each status change, reviews in effect, the change feed

Revision ID: 2a3b4c5d6e7f
Revises: 2d3e4f5a6b7c
Create Date: 2026-12-08 09:00:00.000000

- ``api_token``: the bearer tokens of the write API (only a hash of each secret).
- ``claim_status_change`` gains ``actor`` (``ingest`` for every change recorded so far, all
  of which came from fact files) and ``evidence`` (what a reviewer gave with a change).
- ``claim_review``: the reviewer decisions in effect, and what the fact file said then.
- ``data_change``: what each data revision changed. It starts with what the database holds:
  every article as added and every status change of the history after a claim's first
  status, in the order they were recorded, all at the revision the upgrade finds.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "2a3b4c5d6e7f"
down_revision: str | None = "2d3e4f5a6b7c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("secret_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("key", name=op.f("uq_api_token_key")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_name"), ["name"], unique=False)

    op.create_table(
        "claim_review",
        sa.Column("claim_key", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("file_status", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.PrimaryKeyConstraint("claim_key", name=op.f("pk_claim_review")),
        sqlite_with_rowid=False,
    )

    op.create_table(
        "data_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("article", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("claim", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("from_status", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("to_status", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("rationale", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_change")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("data_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_change_article"), ["article"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_data_change_claim_revision"), ["claim", "revision"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_data_change_revision_id"), ["revision", "id"], unique=False
        )

    # Added in place (no copy of the table): every change so far came from a fact file.
    op.add_column(
        "claim_status_change",
        sa.Column("actor", sa.String(length=200), nullable=False, server_default="ingest"),
    )
    op.add_column(
        "claim_status_change", sa.Column("evidence", sa.JSON(none_as_null=True), nullable=True)
    )

    sqlite = op.get_bind().dialect.name == "sqlite"
    article_of = (
        "substr(h.claim_key, 1, instr(h.claim_key, '.') - 1)"
        if sqlite
        else "split_part(h.claim_key, '.', 1)"
    )
    revision_now = "(SELECT coalesce(max(revision), 0) FROM data_revision)"
    op.execute(
        "INSERT INTO data_change (revision, kind, article, actor, recorded_at) "
        f"SELECT {revision_now}, 'article_added', key, 'ingest', created_at "
        "FROM article ORDER BY id"
    )
    op.execute(
        "INSERT INTO data_change "
        "(revision, kind, article, claim, from_status, to_status, rationale, actor, "
        "recorded_at) "
        f"SELECT {revision_now}, 'status_changed', {article_of}, h.claim_key, p.status, "
        "h.status, h.rationale, h.actor, h.recorded_at "
        "FROM claim_status_change h JOIN claim_status_change p "
        "ON p.claim_key = h.claim_key AND p.seq = h.seq - 1 "
        "ORDER BY h.recorded_at, h.claim_key, h.seq"
    )


def downgrade() -> None:
    op.drop_column("claim_status_change", "evidence")
    op.drop_column("claim_status_change", "actor")
    with op.batch_alter_table("data_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_change_revision_id"))
        batch_op.drop_index(batch_op.f("ix_data_change_claim_revision"))
        batch_op.drop_index(batch_op.f("ix_data_change_article"))
    op.drop_table("data_change")
    op.drop_table("claim_review")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_name"))
    op.drop_table("api_token")
