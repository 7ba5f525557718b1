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
from dist_cluster import BIN, WEBHOOK_SECRET, Cluster, Proc, fresh_database, redis_namespace
from dist_scan import make_report
from netguard_fixture import LocalHTTPServer, respond
from sqlalchemy import create_engine, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import Job, PageResultRow, TableRow, WebhookDelivery
from service.db import upgrade
from service.webhooks import SIGNATURE_HEADER, verify_signature

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


class LibraryRun:
    """The library's own extraction of the fixture (the CLI, same settings as the service), started in
    the background so it overlaps with the cluster starting up."""

    def __init__(self, cluster: Cluster, root: Path) -> None:
        self.pdf = make_report(root / "report.pdf", pages=3, variant="library")
        self.out = root / "extraction.json"
        self.log = root / "extract.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen([str(BIN / "fiscalocr"), "extract", str(self.pdf), "--out",
                                             str(self.out)], env=cluster.env, stdout=log, stderr=log)
        self._result: dict[str, Any] | None = None

    def result(self) -> dict[str, Any]:
        if self._result is None:
            self.process.wait(timeout=600)
            assert self.process.returncode == 0, self.log.read_text(errors="replace")[-3000:]
            self._result = json.loads(self.out.read_text())
            assert self._result["tables"], "the library found no table in the fixture"
        return self._result


@pytest.fixture(scope="module")
def library(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LibraryRun]:
    run = LibraryRun(cluster, tmp_path_factory.mktemp("expected"))
    yield run
    if run.process.poll() is None:
        run.process.kill()
        run.process.wait()


def _create_key(cluster: Cluster) -> str:
    result = subprocess.run([str(BIN / "fiscalocr"), "keys", "create", "--tenant", "distributed-tests"],
                            env=cluster.env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1].strip()


def _upload(client: httpx.Client, pdf: Path, callback_url: str | None = None) -> dict[str, Any]:
    data = {"callback_url": callback_url} if callback_url else None
    with pdf.open("rb") as handle:
        response = client.post("/v1/documents", files={"file": (pdf.name, handle, "application/pdf")},
                               data=data)
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
        pages = session.exec(select(PageResultRow.page_number).where(PageResultRow.job_id == job_id)).all()
        assert sorted(pages) == list(range(1, job.pages_total + 1))  # every page once
        tables = session.exec(select(TableRow).where(TableRow.document_id == document_id)).all()
        assert len(tables) == expected_tables
        assert {t.job_id for t in tables} == {job_id}  # one TableRow set, from this job
        assert len({t.ref for t in tables}) == len(tables)
        positions = sorted(t.position for t in tables)
        assert positions == list(range(len(tables)))


def _records(client: httpx.Client, document_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/documents/{document_id}/records")
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()["records"]
    return records


def test_upload_is_processed_by_celery_workers(
        cluster: Cluster, library: LibraryRun, api: Proc, worker: Proc, engine: Engine, tmp_path: Path,
        http_server: LocalHTTPServer) -> None:
    answers = iter([500])  # the first webhook attempt fails: the Celery task must retry
    http_server.routes[("POST", "/hook")] = lambda h: respond(h, next(answers, 204))
    pdf = make_report(tmp_path / "report.pdf", pages=3, variant="basic")
    with cluster.client() as client:
        accepted = _upload(client, pdf, callback_url=http_server.url("/hook"))
        job = _wait_job(client, accepted["job_id"])
        expected = library.result()
        assert job["state"] == "succeeded", job
        assert job["pages_done"] == job["pages_total"] == 3
        assert _records(client, accepted["document_id"]) == expected["records"]
        findings = client.get(f"/v1/documents/{accepted['document_id']}/findings").json()["findings"]
        assert findings == expected["findings"]
        tables = client.get(f"/v1/documents/{accepted['document_id']}/tables").json()["tables"]
        assert len(tables) == len(expected["tables"])
    _assert_one_result_set(engine, accepted["job_id"], accepted["document_id"], len(expected["tables"]))
    assert "fiscalocr.run_page" in worker.log_text()  # the pages really ran as Celery tasks
    _assert_webhook_delivered(engine, http_server, accepted, len(expected["records"]))


def _assert_webhook_delivered(engine: Engine, receiver: LocalHTTPServer, accepted: dict[str, Any],
                              n_records: int) -> None:
    deadline = time.monotonic() + 60
    while len(receiver.log) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(receiver.log) == 2, receiver.log
    for request in receiver.log:
        assert verify_signature(WEBHOOK_SECRET, request["body"], request["headers"][SIGNATURE_HEADER])
        body = json.loads(request["body"])
        assert (body["event"], body["state"]) == ("job.succeeded", "succeeded")
        assert body["job_id"] == accepted["job_id"]
        assert body["summary"]["records"] == n_records
    gap = receiver.log[1]["time"] - receiver.log[0]["time"]
    assert 1.5 < gap < 15, gap  # default backoff: ~2 s before the second attempt
    time.sleep(0.5)  # the worker records the attempt after the receiver answered
    with Session(engine) as session:
        rows = session.exec(select(WebhookDelivery).where(WebhookDelivery.job_id == accepted["job_id"])
                            .order_by(WebhookDelivery.attempt)).all()
    assert [(r.attempt, r.status_code) for r in rows] == [(1, 500), (2, 204)]


def test_worker_killed_mid_job_resumes_without_loss_or_duplicates(
        cluster: Cluster, library: LibraryRun, api: Proc, worker: Proc, engine: Engine,
        tmp_path: Path) -> None:
    expected = library.result()
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
    files = [make_report(tmp_path / f"r{i}.pdf", pages=1, variant=f"restart-{i}") for i in range(5)]
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
    while len(acknowledged) < 2 and time.monotonic() < deadline:
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
            count = session.exec(select(func.count()).select_from(TableRow)
                                 .where(TableRow.document_id == accepted["document_id"])).one()
            assert count >= 1


def test_cancel_stops_pages_not_yet_started(cluster: Cluster, api: Proc, engine: Engine,
                                            tmp_path: Path) -> None:
    live = [p for p in cluster.procs if p.name.startswith("w") and p.alive()]
    assert live, "a worker from the previous tests should still run"
    pdf = make_report(tmp_path / "report.pdf", pages=3, variant="cancel")
    with cluster.client() as client:
        accepted = _upload(client, pdf)
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while client.get(f"/v1/jobs/{accepted['job_id']}").json()["state"] == "queued":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        response = client.post(f"/v1/jobs/{accepted['job_id']}/cancel")
        assert response.status_code == 202, response.text
        assert response.json()["state"] == "cancelled"
        # Two pages may be mid-read on the two worker processes; page 3 must never be read.
        time.sleep(2)
        _wait_for_idle_pages(engine, accepted["job_id"])
        job = client.get(f"/v1/jobs/{accepted['job_id']}").json()
        assert job["state"] == "cancelled", job
    with Session(engine) as session:
        pages = session.exec(select(PageResultRow.page_number)
                             .where(PageResultRow.job_id == accepted["job_id"])).all()
        tables = session.exec(select(TableRow).where(TableRow.document_id == accepted["document_id"])).all()
    assert 3 not in pages and tables == []


def _wait_for_idle_pages(engine: Engine, job_id: str, quiet_s: float = 8.0) -> None:
    """Wait until no new page result has appeared for ``quiet_s`` (in-flight pages may still land)."""
    last, since = -1, time.monotonic()
    while time.monotonic() - since < quiet_s:
        with Session(engine) as session:
            count = session.exec(select(func.count()).select_from(PageResultRow)
                                 .where(PageResultRow.job_id == job_id)).one()
        if count != last:
            last, since = count, time.monotonic()
        time.sleep(0.5)
