"""Fixtures for the service tests: real servers (SQLite in a temp dir; a fresh PostgreSQL database
per session, dropped after), generated scans, and the library's own answer to compare with."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import svc_scans as scans
from netguard_fixture import egress_guard, http_server
from svc_harness import PG_ADMIN_DSN, WEBHOOK_SECRET, Api, Server, new_tenant_api

__all__ = ["egress_guard", "http_server"]  # the shared network policy (tests/netguard_fixture.py)

# -- documents ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def scan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scans")


@pytest.fixture(scope="session")
def scanned_pdf(scan_dir: Path) -> Path:
    return scans.write_pdf(scan_dir / "report-05.pdf", pages=1)


@pytest.fixture(scope="session")
def corrupt_pdf(scan_dir: Path) -> Path:
    return scans.write_corrupt_pdf(scan_dir / "corrupt.pdf")


@pytest.fixture(scope="session")
def library_result(scanned_pdf: Path) -> Any:
    """The library's own answer for ``scanned_pdf`` (same engine and DPI as the servers)."""
    from ocr import pipeline
    from service import fiscal_bridge
    from service.settings import Settings

    options = pipeline.ExtractOptions(engine=Settings().engine, dpi=scans.DPI)
    return fiscal_bridge.enrich(pipeline.extract(scanned_pdf, options))


# -- servers ------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The shared SQLite server (tests use their own tenants, so they do not see each other).
    It signs webhooks and may call back to 127.0.0.1 (webhook receivers in the tests)."""
    srv = Server(tmp_path_factory.mktemp("srv-sqlite"), extra_env={
        "FISCALOCR_WEBHOOK_SECRET": WEBHOOK_SECRET, "FISCALOCR_FETCH_ALLOW_HOSTS": "127.0.0.1"}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    import psycopg

    name = f"fiscalocr_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory, pg_database: str) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("srv-pg"), database_url=pg_database).start()
    yield srv
    srv.stop()


@pytest.fixture
def api(server: Server) -> Iterator[Api]:
    client = new_tenant_api(server)
    yield client
    client.client.close()
