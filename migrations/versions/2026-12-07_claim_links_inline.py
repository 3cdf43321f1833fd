"""a claim row holds its subjects' ids and its events' ids

Revision ID: fa4b5c6d7e8f
Revises: e9f3a4b5c6d7
Create Date: 2026-12-07 07:10:00.000000

Every claim list reads each claim's subjects and related events. Kept on the claim row
as JSON arrays, in fact-file order (``subject_ids``: entity keys, integers; ``event_keys``:
public event ids; NULL when there are none), they are read with the claim instead of by
two more statements per page. ``claim_subject`` and ``claim_event`` stay: they answer
"which claims name this entity / this event" through their indexes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fa4b5c6d7e8f"
down_revision: str | None = "e9f3a4b5c6d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_FILL = """
UPDATE claim SET
  subject_ids = (
    SELECT json_group_array(entity_id) FROM (
      SELECT entity_id FROM claim_subject WHERE claim_id = claim.id ORDER BY position
    )
  ),
  event_keys = (
    SELECT json_group_array(key) FROM (
      SELECT event.key AS key FROM claim_event JOIN event ON event.id = claim_event.event_id
      WHERE claim_event.claim_id = claim.id ORDER BY claim_event.position
    )
  )
"""
POSTGRESQL_FILL = """
UPDATE claim SET
  subject_ids = (
    SELECT json_agg(entity_id ORDER BY position) FROM claim_subject
    WHERE claim_id = claim.id
  ),
  event_keys = (
    SELECT json_agg(event.key ORDER BY claim_event.position)
    FROM claim_event JOIN event ON event.id = claim_event.event_id
    WHERE claim_event.claim_id = claim.id
  )
"""
EMPTY = {
    "sqlite": "UPDATE claim SET {column} = NULL WHERE {column} = '[]'",
    "postgresql": "",  # json_agg over no rows is already NULL
}


COLUMNS = ("subject_ids", "event_keys")


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("claim", sa.Column(column, sa.JSON(none_as_null=True), nullable=True))
    dialect = op.get_bind().dialect.name
    op.execute(SQLITE_FILL if dialect == "sqlite" else POSTGRESQL_FILL)
    for column in COLUMNS:
        if EMPTY.get(dialect):
            op.execute(EMPTY[dialect].format(column=column))


def downgrade() -> None:
    for column in reversed(COLUMNS):
        if op.get_bind().dialect.name == "sqlite":
            # SQLite drops a column in place; a batch copy of the table would drop the table,
            # and with it (foreign keys being on) every claim's subjects and evidence.
            op.execute(f"ALTER TABLE claim DROP COLUMN {column}")
        else:
            op.drop_column("claim", column)
