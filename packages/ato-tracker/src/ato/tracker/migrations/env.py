"""Alembic environment of the tracker schema: runs on the connection that
``ato.tracker.migrate`` passes in ``config.attributes["connection"]`` (there is no alembic.ini;
use ``ato db upgrade``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from ato.tracker.errors import SchemaError
from ato.tracker.storage.models import Base
from ato.tracker.storage.schema import VERSION_TABLE

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise SchemaError(
        "the tracker's migrations run on a connection given by ato.tracker.migrate "
        "(use `ato db upgrade --db URL`), not from an alembic.ini"
    )
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,  # SQLite changes columns by copying the table
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
