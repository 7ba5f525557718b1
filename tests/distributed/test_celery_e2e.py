"""The distributed runner end to end: real PostgreSQL, Redis, Celery worker processes and the API server.

Upload a scanned report -> the API (FISCALOCR_RUNNER=celery) enqueues -> workers read pages and
finalize -> the records served equal what the library extracts from the same file. Then the failure
cases: a worker killed with SIGKILL in the middle of a job, and the API killed while uploads arrive.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cluster import BIN, Cluster, Proc, fresh_database, redis_namespace
from scan_fixture import make_report
from sqlalchemy import create_engine, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import Job, PageResult, Table
from service.db import upgrade

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

JOB_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("cluster")
    with fresh_database() as db_url, redis_namespace() as prefix:
        cluster = Cluster(root=root, db_url=db_url, prefix=prefix)
        cluster.configure()
        upgrade(db_url)
        cluster.key = _create_key(cluster)
        try:
            yield cluster
        finally:
            cluster.stop_all()


@pytest.fixture(scope="module")
def engine(cluster: Cluster) -> Iterator[Engine]:
    engine = create_engine(cluster.db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def api(cluster: Cluster) -> Proc:
    proc = cluster.api().start()
    cluster.wait_api_ready(proc)
    return proc


@pytest.fixture(scope="module")
def worker(cluster: Cluster) -> Proc:
    proc = cluster.celery_worker("w1").start()
    cluster.wait_worker_ready(proc)
    return proc


@pytest.fixture(scope="module")
def expected(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the library itself extracts from the fixture (the CLI, same settings as the service)."""
    root = tmp_path_factory.mktemp("expected")
    pdf = make_report(root / "report.pdf", pages=3, variant="library")
    out = root / "extraction.json"
    result = subprocess.run([str(BIN / "fiscalocr"), "extract", str(pdf), "--out", str(out)],
                            env=cluster.env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    extraction: dict[str, Any] = json.loads(out.read_text())
    assert extraction["tables"], "the library found no table in the fixture"
    return extraction


def _create_key(cluster: Cluster) -> str:
    result = subprocess.run([str(BIN / "fiscalocr"), "keys", "create", "--tenant", "distributed-tests"],
                            env=cluster.env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1].strip()


def _upload(client: httpx.Client, pdf: Path) -> dict[str, Any]:
    with pdf.open("rb") as handle:
        response = client.post("/v1/documents", files={"file": (pdf.name, handle, "application/pdf")})
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


def _wait_job(client: httpx.Client, job_id: str, timeout_s: float = JOB_TIMEOUT_S) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.25)
    raise AssertionError(f"job {job_id} not finished after {timeout_s}s: {job}")


def _assert_one_result_set(engine: Engine, job_id: str, document_id: str, expected_tables: int) -> None:
    with Session(engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        pages = session.exec(select(PageResult.page_number).where(PageResult.job_id == job_id)).all()
        assert sorted(pages) == list(range(1, job.pages_total + 1))  # every page once
        tables = session.exec(select(Table).where(Table.document_id == document_id)).all()
        assert len(tables) == expected_tables
        assert {t.job_id for t in tables} == {job_id}  # one Table set, from this job
        assert len({t.ref for t in tables}) == len(tables)
        positions = sorted(t.position for t in tables)
        assert positions == list(range(len(tables)))


def _records(client: httpx.Client, document_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/documents/{document_id}/records")
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()["records"]
    return records


def test_upload_is_processed_by_celery_workers(cluster: Cluster, api: Proc, worker: Proc, engine: Engine,
                                               expected: dict[str, Any], tmp_path: Path) -> None:
    pdf = make_report(tmp_path / "report.pdf", pages=3, variant="basic")
    with cluster.client() as client:
        accepted = _upload(client, pdf)
        job = _wait_job(client, accepted["job_id"])
        assert job["state"] == "succeeded", job
        assert job["pages_done"] == job["pages_total"] == 3
        assert _records(client, accepted["document_id"]) == expected["records"]
        findings = client.get(f"/v1/documents/{accepted['document_id']}/findings").json()["findings"]
        assert findings == expected["findings"]
        tables = client.get(f"/v1/documents/{accepted['document_id']}/tables").json()["tables"]
        assert len(tables) == len(expected["tables"])
    _assert_one_result_set(engine, accepted["job_id"], accepted["document_id"], len(expected["tables"]))
    assert "fiscalocr.run_page" in worker.log_text()  # the pages really ran as Celery tasks


def test_worker_killed_mid_job_resumes_without_loss_or_duplicates(
        cluster: Cluster, api: Proc, worker: Proc, engine: Engine, expected: dict[str, Any],
        tmp_path: Path) -> None:
    pdf = make_report(tmp_path / "report.pdf", pages=3, variant="kill-worker")
    with cluster.client() as client:
        accepted = _upload(client, pdf)
        state_at_kill = _kill_when_running(client, accepted["job_id"], worker)
        assert state_at_kill["state"] == "running", state_at_kill
        time.sleep(1.0)
        assert client.get(f"/v1/jobs/{accepted['job_id']}").json()["state"] == "running"  # nobody works on it

        restarted = cluster.cli_worker("w1-restarted").start()  # `fiscalocr worker` -> run_worker()
        cluster.wait_worker_ready(restarted)
        job = _wait_job(client, accepted["job_id"])
        assert job["state"] == "succeeded", job
        assert job["attempts"] >= 2, job  # prepared again after the restart
        assert _records(client, accepted["document_id"]) == expected["records"]
    _assert_one_result_set(engine, accepted["job_id"], accepted["document_id"], len(expected["tables"]))


def _kill_when_running(client: httpx.Client, job_id: str, worker: Proc) -> dict[str, Any]:
    """SIGKILL the worker's whole process group once the job runs (ideally with a page stored)."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    running_since: float | None = None
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        if job["state"] != "running" and job["state"] != "queued":
            pytest.fail(f"job finished before the worker could be killed: {job}")
        if job["state"] == "running":
            running_since = running_since or time.monotonic()
            if job["pages_done"] >= 1 or time.monotonic() - running_since > 15:
                worker.kill9()
                return job
        time.sleep(0.05)
    raise AssertionError("job never started running")


def test_api_killed_during_uploads_loses_no_acknowledged_job(
        cluster: Cluster, api: Proc, engine: Engine, tmp_path: Path) -> None:
    workers = [p for p in cluster.procs if p.name.startswith("w") and p.alive()]
    if not workers:
        workers = [cluster.celery_worker("w3").start()]
        cluster.wait_worker_ready(workers[0])
    files = [make_report(tmp_path / f"r{i}.pdf", pages=1, variant=f"restart-{i}") for i in range(8)]
    acknowledged: dict[str, dict[str, Any]] = {}
    refused: list[str] = []
    lock = threading.Lock()

    def upload_all() -> None:
        with cluster.client(timeout=30) as client:
            for pdf in files:
                for _ in range(120):  # retry while the API is down; the service dedupes by content
                    try:
                        accepted = _upload(client, pdf)
                    except httpx.HTTPError:
                        with lock:
                            refused.append(pdf.name)
                        time.sleep(0.25)
                        continue
                    with lock:
                        acknowledged[pdf.name] = accepted
                    break

    uploader = threading.Thread(target=upload_all)
    uploader.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    api.kill9()
    time.sleep(1.0)
    api.start()
    cluster.wait_api_ready(api)
    uploader.join(timeout=180)
    assert not uploader.is_alive()
    assert refused, "the API restart did not interrupt any upload (the test proved nothing)"
    assert len(acknowledged) == len(files)
    with cluster.client() as client:
        for name, accepted in acknowledged.items():
            job = _wait_job(client, accepted["job_id"])
            assert job["state"] == "succeeded", (name, job)
    with Session(engine) as session:
        for accepted in acknowledged.values():
            count = session.exec(select(func.count()).select_from(Table)
                                 .where(Table.document_id == accepted["document_id"])).one()
            assert count >= 1
