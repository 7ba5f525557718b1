"""Database engine, sessions and schema migrations (Alembic is the source of the schema)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Each connection's private page cache (SQLite's default is 2 MB). The API keeps 40 connections, so the
# default let the caches - 40 copies of the same hot pages the OS page cache already holds once - grow with
# the data towards 80 MB: the soak's API memory crept up for minutes. 128 KiB each bounds them to ~5 MB (and
# with job workers writing all the time, WAL readers drop their caches often anyway).
SQLITE_CACHE_KIB = 128


DEFAULT_POOL_SIZE = 5
DEFAULT_MAX_OVERFLOW = 10


def make_engine(url: str, *, pool_size: int | None = None, pool_timeout_s: float = 30.0) -> Engine:
    """An engine for ``url``; SQLite gets WAL mode, foreign keys and a busy timeout on every connection.

    ``pool_size`` fixes the pool at exactly that many connections (no overflow): the API's engine
    is sized this way so that ``DatabaseGate`` can hand out one slot per connection. Without it,
    a small pool with overflow (workers, CLI, tests).
    """
    sizing: dict[str, Any] = (
        {"pool_size": pool_size, "max_overflow": 0} if pool_size is not None
        else {"pool_size": DEFAULT_POOL_SIZE, "max_overflow": DEFAULT_MAX_OVERFLOW})
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_timeout=pool_timeout_s, **sizing)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_timeout=pool_timeout_s, **sizing)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while worker processes write; busy_timeout waits out short write locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def open_sqlite_pool(engine: Engine, size: int) -> None:
    """Open all ``size`` connections of a SQLite engine's pool now (a file handle and some memory each),
    so the API reaches its working footprint at start and not during its first load peaks."""
    if engine.dialect.name != "sqlite":
        return
    connections = [engine.connect() for _ in range(size)]
    for connection in connections:
        connection.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the schema to the newest migration (idempotent; safe from several processes on PostgreSQL)."""
    from alembic import command

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")
    log.info("database schema at head")


def ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
