"""Alembic environment: the models' metadata is the target; SQLite gets batch mode."""

from typing import Any

from alembic import context
from sqlalchemy import Connection

from app import models
from app.db import create_db_engine
from app.fts import include_name, include_object
from app.settings import get_settings

config = context.config
target_metadata = models.metadata


def _database_url() -> str:
    # Set by app.db.alembic_config(); the `alembic` command line uses the settings.
    url = config.attributes.get("database_url")
    return str(url) if url else get_settings().database_url


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=include_name,
        include_object=include_object,
    )
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A migration that rebuilds a table (SQLite's way to change a column) drops the old
        # one: with foreign keys on, that would delete every row referring to it. As SQLite
        # documents, they are off while the schema changes (the pragma only takes effect
        # outside a transaction) and checked before the transaction commits.
        _driver(connection).execute("PRAGMA foreign_keys=OFF")
    try:
        with context.begin_transaction():
            migrations = context.get_context()
            before = migrations.get_current_heads()
            context.run_migrations()
            # The check reads every row of the database (seconds at 100,000 articles): only
            # when a migration ran, not on every `serve` or `ingest` of a database at head.
            if sqlite and migrations.get_current_heads() != before:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                if broken is not None:
                    raise RuntimeError(f"a migration broke a foreign key: {tuple(broken)}")
    finally:
        if sqlite:
            _driver(connection).execute("PRAGMA foreign_keys=ON")


def _driver(connection: Connection) -> Any:
    """The driver's own connection (pragmas sent there run outside SQLAlchemy's transaction)."""
    return connection.connection.dbapi_connection


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = _database_url()
    # A writer engine: a second `migrate` (another container, another worker) waits for the
    # first to finish, then finds the schema at head.
    engine = create_db_engine(url, writer=True)
    try:
        with engine.connect() as conn:
            run_migrations(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
