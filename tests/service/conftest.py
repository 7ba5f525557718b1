"""Fixtures for the service tests: real servers (SQLite in a temp dir; a fresh PostgreSQL database
per session, dropped after), generated scans, and the library's own answer to compare with."""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _use_project_packages() -> None:
    """tests/ocr, tests/fiscal and tests/service sit on sys.path (pytest's prepend import mode) and
    would be imported as empty namespace packages in place of the project's packages (whose
    ``__init__`` then never runs). Put the project root first and re-import any such impostor.
    Harmless once pytest is configured with ``pythonpath = ["."]``."""
    if str(ROOT) not in sys.path[:1]:
        sys.path.insert(0, str(ROOT))
    for name in ("ocr", "fiscal", "service", "models"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__file__", None) is None:
            del sys.modules[name]
            importlib.import_module(name)


_use_project_packages()

import svc_scans as scans  # noqa: E402
from svc_harness import PG_ADMIN_DSN, Api, Server, new_tenant_api  # noqa: E402

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
    """The shared SQLite server (tests use their own tenants, so they do not see each other)."""
    srv = Server(tmp_path_factory.mktemp("srv-sqlite")).start()
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
