"""The API under more concurrent requests than it has threads and database connections.

Regression for a deadlock: handler threads all waited for pooled connections that were held by
requests waiting for a handler thread. Now requests queue for a database slot on the event loop,
so they finish (or get 503 ``service_busy``), and /healthz answers throughout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from svc_harness import Server, new_tenant_api

from service.app import create_app
from service.auth import create_key
from service.db import session_scope
from service.settings import Settings

CONCURRENT = 100


@pytest.fixture(scope="module")
def tiny_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """4 handler threads, 2 pooled connections: far fewer than the concurrent requests."""
    srv = Server(tmp_path_factory.mktemp("srv-tiny"), extra_env={
        "FISCALOCR_API_THREADS": "4", "FISCALOCR_DB_POOL_SIZE": "2", "FISCALOCR_DB_POOL_TIMEOUT_S": "30"})
    srv.start()
    yield srv
    srv.stop()


async def _burst(base_url: str, key: str, paths: list[str]) -> tuple[list[int], list[float]]:
    limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=CONCURRENT)
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {key}"},
                                 limits=limits, timeout=60, trust_env=False) as client:
        async def health_latencies() -> list[float]:
            latencies = []
            for _ in range(5):
                started = time.monotonic()
                response = await client.get("/healthz", headers={"Authorization": ""})
                assert response.status_code == 200
                latencies.append(time.monotonic() - started)
                await asyncio.sleep(0.05)
            return latencies

        health = asyncio.create_task(health_latencies())
        responses = await asyncio.gather(*(client.get(paths[i % len(paths)]) for i in range(CONCURRENT)))
        return [r.status_code for r in responses], await health


def test_many_concurrent_requests_with_a_tiny_pool_all_finish(tiny_server: Server) -> None:
    api = new_tenant_api(tiny_server)
    key = api.client.headers["Authorization"].removeprefix("Bearer ")
    paths = ["/v1/documents", "/v1/jobs/no-such-job", "/v1/documents?limit=5"]
    started = time.monotonic()
    statuses, health = asyncio.run(_burst(tiny_server.url, key, paths))
    elapsed = time.monotonic() - started
    assert sorted(set(statuses)) == [200, 404], statuses  # no 500, no 503: nobody waited 30 s
    expected = ["/v1/jobs/" in paths[i % len(paths)] for i in range(CONCURRENT)]
    assert [status == 404 for status in statuses] == expected
    assert elapsed < 25, f"{CONCURRENT} requests took {elapsed:.1f}s (pool timeout is 30 s)"
    assert max(health) < 5, health
    api.client.close()


def test_no_database_slot_is_503_service_busy_and_healthz_still_answers(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, workers=1, api_threads=2, db_pool_size=1, db_pool_timeout_s=0.3,
                        log_json=False)
    app = create_app(settings, configure_logs=False)
    with TestClient(app) as client:
        with session_scope(app.state.engine) as session:
            key, _ = create_key(session, "busy-tenant")
        headers = {"Authorization": f"Bearer {key}"}
        assert client.get("/v1/documents", headers=headers).status_code == 200
        # Hold the only slot, as a long request would; the next one must give up, not hang or 500.
        with client.portal.wrap_async_context_manager(app.state.db_gate.slot()):
            started = time.monotonic()
            busy = client.get("/v1/documents", headers=headers)
            assert busy.status_code == 503, busy.text
            assert busy.json()["code"] == "service_busy" and busy.headers["retry-after"] == "1"
            assert time.monotonic() - started < 5
            assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/v1/documents", headers=headers).status_code == 200
