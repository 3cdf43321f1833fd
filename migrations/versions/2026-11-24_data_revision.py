"""data revision

Revision ID: c7d1e2f3a4b5
Revises: 5b1e0c7d2a94
Create Date: 2026-11-24 21:40:00.000000
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c7d1e2f3a4b5"
down_revision: str | None = "5b1e0c7d2a94"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "data_revision",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_data_revision_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_revision")),
    )
    # Revision 0: the data as it stands when the table is created.
    op.bulk_insert(table, [{"id": 1, "revision": 0, "changed_at": dt.datetime.now(dt.UTC)}])


def downgrade() -> None:
    op.drop_table("data_revision")
