"""Alembic environment: target metadata is the SQLModel tables in ``models``."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from service.db import make_engine

# A fixed key: processes starting together (API + workers) take turns migrating PostgreSQL.
_PG_MIGRATION_LOCK = 7_300_451


def _url() -> str:
    url = context.config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from service.settings import Settings

    return Settings().db_url


def render_item(type_: str, obj: object, autogen_context: Any) -> str | Literal[False]:
    """Write SQLModel's AutoString as plain sa.String, so migrations depend on SQLAlchemy only."""
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=SQLModel.metadata, literal_binds=True,
                      render_as_batch=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        is_pg = connection.dialect.name == "postgresql"
        if is_pg:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            connection.commit()
        try:
            context.configure(connection=connection, target_metadata=SQLModel.metadata,
                              render_as_batch=True, compare_type=True,
                              render_item=render_item)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if is_pg:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                connection.commit()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
