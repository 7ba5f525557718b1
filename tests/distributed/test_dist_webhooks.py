"""Webhook signing and delivery against a real receiver on 127.0.0.1 (allow-listed name)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from netguard_fixture import LocalHTTPServer, fake_resolver, respond
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import Document, Job, Tenant, WebhookDelivery
from service.db import make_engine, upgrade
from service.settings import load_settings
from service.webhooks import (
    SIGNATURE_HEADER,
    AttemptOutcome,
    DeliveryPolicy,
    deliver,
    notify,
    sign,
    verify_signature,
)

SECRET = "whsec-test-0123456789"
FAST = DeliveryPolicy(max_attempts=4, backoff_base_s=0.2, backoff_max_s=0.5, timeout_s=5,
                      allow_hosts=frozenset({"hooks.test"}))


def test_signature_round_trip_and_rejections() -> None:
    body = b'{"event":"job.succeeded"}'
    header = sign(SECRET, body, timestamp=1_700_000_000)
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify_signature(SECRET, body, header, now=1_700_000_100)
    assert not verify_signature(SECRET, body + b" ", header, now=1_700_000_100)  # tampered body
    assert not verify_signature("other-secret", body, header, now=1_700_000_100)
    assert not verify_signature(SECRET, body, header, now=1_700_000_000 + 301)  # replay past tolerance
    assert not verify_signature(SECRET, body, header, now=1_700_000_000 - 301)
    assert not verify_signature(SECRET, body, None)
    assert not verify_signature(SECRET, body, "v1=" + header.split("v1=")[1])  # no timestamp
    rotated = f"{header},v1={'0' * 64}"
    assert verify_signature(SECRET, body, rotated, now=1_700_000_000)


def _scripted_receiver(server: LocalHTTPServer, statuses: list[int]) -> None:
    answers = iter(statuses)

    def receive(h: BaseHTTPRequestHandler) -> None:
        respond(h, next(answers, 200), b"ok")

    server.routes[("POST", "/hook")] = receive


def test_signed_delivery_verifies_at_the_receiver(http_server: LocalHTTPServer) -> None:
    _scripted_receiver(http_server, [200])
    payload = {"event": "job.succeeded", "job_id": "j1", "document_id": "d1", "state": "succeeded",
               "error": None, "summary": {"records": 3, "名称": "一般公共预算"}}
    outcomes = asyncio.run(deliver(http_server.url("/hook", host="hooks.test"), payload, secret=SECRET,
                                   policy=FAST, resolver=fake_resolver))
    assert [o.status_code for o in outcomes] == [200] and outcomes[0].delivered
    request = http_server.log[0]
    assert verify_signature(SECRET, request["body"], request["headers"][SIGNATURE_HEADER])
    assert json.loads(request["body"]) == payload
    assert request["headers"]["X-FiscalOCR-Event"] == "job.succeeded"


def test_500_twice_then_200_is_three_attempts_with_bounded_backoff(http_server: LocalHTTPServer) -> None:
    _scripted_receiver(http_server, [500, 500, 200])
    recorded: list[AttemptOutcome] = []
    outcomes = asyncio.run(deliver(http_server.url("/hook", host="hooks.test"), {"event": "job.failed"},
                                   secret=SECRET, policy=FAST, resolver=fake_resolver,
                                   record=lambda url, o: recorded.append(o)))
    assert [(o.attempt, o.status_code, o.delivered) for o in outcomes] == [
        (1, 500, False), (2, 500, False), (3, 200, True)]
    assert recorded == outcomes
    times = [entry["time"] for entry in http_server.log]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert 0.18 <= gaps[0] < 1.0 and 0.36 <= gaps[1] < 1.5, gaps  # 0.2 s then 0.4 s, +-10 % jitter


def test_attempts_are_bounded_and_client_errors_are_final(http_server: LocalHTTPServer) -> None:
    _scripted_receiver(http_server, [503] * 10)
    outcomes = asyncio.run(deliver(http_server.url("/hook", host="hooks.test"), {"event": "job.failed"},
                                   secret=SECRET, policy=FAST, resolver=fake_resolver))
    assert len(outcomes) == FAST.max_attempts and not outcomes[-1].delivered
    http_server.log.clear()
    _scripted_receiver(http_server, [410, 200])
    outcomes = asyncio.run(deliver(http_server.url("/hook", host="hooks.test"), {"event": "job.failed"},
                                   secret=SECRET, policy=FAST, resolver=fake_resolver))
    assert [o.status_code for o in outcomes] == [410] and not outcomes[0].retryable


def test_backoff_is_capped() -> None:
    policy = DeliveryPolicy(max_attempts=20, backoff_base_s=2, backoff_max_s=60)
    delays = [policy.delay_after(n) for n in range(1, 20)]
    assert 1.8 <= delays[0] <= 2.2 and max(delays) <= 66


@pytest.mark.parametrize("url", ["http://internal.example/hook", "http://169.254.169.254/hook",
                                 "http://metadata.example/hook", "http://127.0.0.1:9/hook"])
def test_forbidden_callback_is_refused_without_retry(url: str) -> None:
    outcomes = asyncio.run(deliver(url, {"event": "job.failed"}, secret=SECRET, policy=FAST,
                                   resolver=fake_resolver))
    assert len(outcomes) == 1 and outcomes[0].error is not None
    assert outcomes[0].error.startswith("fetch_refused_address") and not outcomes[0].retryable


# --- notify(): the job-end hook, with the real schema on SQLite --------------------------------

@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'hooks.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _finished_job(engine: Engine, callback_url: str | None, state: str = "succeeded") -> str:
    with Session(engine, expire_on_commit=False) as session:
        tenant = Tenant(name=f"t-{time.monotonic_ns()}")
        session.add(tenant)
        session.flush()
        assert tenant.id is not None
        document = Document(tenant_id=tenant.id, filename="a.pdf", sha256="0" * 64, size=1,
                            content_type="application/pdf", storage_key="x/a.pdf", pages=2)
        session.add(document)
        session.flush()
        job = Job(document_id=document.id, tenant_id=tenant.id, state=state, pages_total=2, pages_done=2,
                  callback_url=callback_url, error_code=None if state == "succeeded" else "pdf_corrupt",
                  error_message=None if state == "succeeded" else "broken xref")
        session.add(job)
        session.commit()
        return str(job.id)


def test_notify_logs_every_attempt(http_server: LocalHTTPServer, engine: Engine) -> None:
    _scripted_receiver(http_server, [500, 500, 200])
    job_id = _finished_job(engine, http_server.url("/hook", host="hooks.test"), state="failed")
    settings = load_settings(webhook_secret=SECRET)
    notify(job_id, engine=engine, settings=settings, resolver=fake_resolver, policy=FAST, wait=True)
    with Session(engine) as session:
        rows = session.exec(select(WebhookDelivery).where(WebhookDelivery.job_id == job_id)
                            .order_by(WebhookDelivery.attempt)).all()
    assert [(r.attempt, r.status_code) for r in rows] == [(1, 500), (2, 500), (3, 200)]
    assert rows[-1].error is None and rows[0].error == "HTTP 500"
    body = json.loads(http_server.log[-1]["body"])
    assert body["event"] == "job.failed" and body["job_id"] == job_id
    assert body["error"] == {"code": "pdf_corrupt", "message": "broken xref"}
    assert set(body) == {"event", "job_id", "document_id", "state", "error", "summary"}
    last = http_server.log[-1]
    assert verify_signature(SECRET, last["body"], last["headers"][SIGNATURE_HEADER])


def test_notify_refused_callback_is_logged_not_sent(http_server: LocalHTTPServer, engine: Engine) -> None:
    job_id = _finished_job(engine, "http://internal.example/hook")
    notify(job_id, engine=engine, settings=load_settings(webhook_secret=SECRET), resolver=fake_resolver,
           policy=FAST, wait=True)
    with Session(engine) as session:
        rows = session.exec(select(WebhookDelivery).where(WebhookDelivery.job_id == job_id)).all()
    assert len(rows) == 1 and rows[0].status_code is None
    assert rows[0].error is not None and "fetch_refused_address" in rows[0].error


def test_notify_without_callback_does_nothing(engine: Engine) -> None:
    job_id = _finished_job(engine, None)
    notify(job_id, engine=engine, settings=load_settings(), resolver=fake_resolver, policy=FAST, wait=True)
    with Session(engine) as session:
        assert session.exec(select(WebhookDelivery)).all() == []


def test_without_a_secret_nothing_is_sent(http_server: LocalHTTPServer) -> None:
    _scripted_receiver(http_server, [200])
    outcomes = asyncio.run(deliver(http_server.url("/hook", host="hooks.test"), {"event": "job.failed"},
                                   secret=None, policy=FAST, resolver=fake_resolver))
    assert len(outcomes) == 1 and not outcomes[0].retryable
    assert outcomes[0].error is not None and outcomes[0].error.startswith("webhook_secret_missing")
    assert http_server.log == []
