"""Alembic environment: the models' metadata is the target; SQLite gets batch mode."""

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
    with context.begin_transaction():
        context.run_migrations()


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
