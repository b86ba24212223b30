"""Alembic environment: runs on the connection dpo-bot hands it, or on DPO_BOT_DATABASE_URL."""

from alembic import context
from sqlalchemy import Connection

from workflows.database import make_engine
from workflows.tables import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    with make_engine().begin() as connection:
        _migrate(connection)


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run()
