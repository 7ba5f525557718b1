"""POST /v1/documents/fetch on an in-process app whose resolver is injected (names -> addresses from
a fixed table), against a real HTTP server on 127.0.0.1. The egress guard (autouse) fails any test
that would open a non-loopback connection or ask the system resolver."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from netguard_fixture import EgressGuard, LocalHTTPServer, fake_resolver, respond
from svc_harness import JOB_TIMEOUT_S, TERMINAL
from svc_scans import DPI

from service.app import create_app
from service.auth import create_key
from service.db import session_scope
from service.settings import Settings


@pytest.fixture(scope="module")
def fetch_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, TestClient]]:
    """No webhook secret on purpose; portal.test may resolve to loopback (allow-listed)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("fetch-app"), workers=1, dpi=DPI,
                        fetch_allow_hosts=["portal.test"], fetch_timeout_s=10, max_upload_bytes=2_000_000,
                        log_json=False)
    app = create_app(settings, configure_logs=False)
    app.state.fetch_resolver = fake_resolver
    with TestClient(app) as client:
        with session_scope(app.state.engine) as session:
            key, _ = create_key(session, "fetcher")
        client.headers["Authorization"] = f"Bearer {key}"
        yield app, client


def _fetch(client: TestClient, url: str, **extra: Any) -> httpx.Response:
    return client.post("/v1/documents/fetch", json={"url": url, **extra})


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "fetch_refused_address"


def _redirect(to: str) -> Any:
    def handler(h: BaseHTTPRequestHandler) -> None:
        respond(h, 302, headers={"Location": to})
    return handler


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{port}/doc.pdf",  # loopback, not allow-listed
    "http://[::1]:{port}/doc.pdf",
    "http://10.0.0.5/doc.pdf",
    "http://10.200.3.4:{port}/doc.pdf",
    "http://169.254.169.254/latest/meta-data/",
    "http://evil.example:{port}/doc.pdf",  # names resolving to loopback, 10/8, link-local metadata
    "http://internal.example/doc.pdf",
    "http://metadata.example/latest/meta-data/",
    "http://mixed.example/doc.pdf",  # one public and one private address
])
def test_refused_addresses_are_403_before_connecting(fetch_app: tuple[FastAPI, TestClient],
                                                     http_server: LocalHTTPServer, egress_guard: EgressGuard,
                                                     url: str) -> None:
    _, client = fetch_app
    http_server.routes[("GET", "/doc.pdf")] = lambda h: respond(h, 200, b"%PDF-1.4")
    _refused(_fetch(client, url.format(port=http_server.port)))
    assert http_server.log == [] and egress_guard.violations == []


@pytest.mark.parametrize("target", [
    "http://127.0.0.1:{port}/doc.pdf", "http://10.0.0.5/doc.pdf", "http://169.254.169.254/latest/",
    "http://internal.example/doc.pdf", "http://metadata.example/", "http://evil.example:{port}/doc.pdf",
])
def test_redirect_to_a_refused_address_is_403(fetch_app: tuple[FastAPI, TestClient],
                                              http_server: LocalHTTPServer, target: str) -> None:
    _, client = fetch_app
    http_server.routes[("GET", "/doc.pdf")] = lambda h: respond(h, 200, b"%PDF-1.4")
    http_server.routes[("GET", "/go")] = _redirect(target.format(port=http_server.port))
    _refused(_fetch(client, http_server.url("/go", host="portal.test")))
    assert [entry["path"] for entry in http_server.log] == ["/go"]  # the target was never contacted


def test_fetch_errors_map_to_their_statuses(fetch_app: tuple[FastAPI, TestClient],
                                            http_server: LocalHTTPServer) -> None:
    _, client = fetch_app
    http_server.routes[("GET", "/big")] = lambda h: respond(h, 200, b"%PDF" + b"0" * 2_100_000)
    http_server.routes[("GET", "/text")] = lambda h: respond(h, 200, b"<html>not a scan</html>")
    http_server.routes[("GET", "/loop")] = _redirect("/loop")
    cases = [("/big", 413, "fetch_too_large"), ("/text", 415, "unsupported_format"),
             ("/missing", 502, "fetch_failed"), ("/loop", 502, "fetch_too_many_redirects")]
    for path, status, code in cases:
        response = _fetch(client, http_server.url(path, host="portal.test"))
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert _fetch(client, "ftp://portal.test/x.pdf").json()["code"] == "fetch_refused_address"
    assert client.post("/v1/documents/fetch", json={"uri": "x"}).status_code == 422


def test_callback_without_webhook_secret_is_422(fetch_app: tuple[FastAPI, TestClient],
                                                http_server: LocalHTTPServer, scanned_pdf: Path) -> None:
    _, client = fetch_app
    response = _fetch(client, http_server.url("/doc.pdf", host="portal.test"),
                      callback_url="http://portal.test/hook")
    assert response.status_code == 422 and response.json()["code"] == "webhook_secret_missing"
    assert http_server.log == []  # refused before downloading anything
    with scanned_pdf.open("rb") as handle:
        upload = client.post("/v1/documents", files={"file": ("a.pdf", handle, "application/pdf")},
                             data={"callback_url": "http://portal.test/hook"})
    assert upload.status_code == 422 and upload.json()["code"] == "webhook_secret_missing"


def test_allow_listed_name_is_fetched_and_processed(fetch_app: tuple[FastAPI, TestClient],
                                                    http_server: LocalHTTPServer, scanned_pdf: Path) -> None:
    import time

    _, client = fetch_app
    pdf = scanned_pdf.read_bytes()
    http_server.routes[("GET", "/reports/2024%20budget.pdf")] = lambda h: respond(
        h, 200, pdf, {"Content-Type": "application/octet-stream"})
    url = http_server.url("/reports/2024%20budget.pdf?token=t", host="portal.test")
    accepted = _fetch(client, url)
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert body["duplicate"] is False
    assert http_server.log[0]["headers"]["Host"] == f"portal.test:{http_server.port}"
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while (job := client.get(f"/v1/jobs/{body['job_id']}").json())["state"] not in TERMINAL:
        assert time.monotonic() < deadline, job
        time.sleep(0.3)
    assert job["state"] == "succeeded", job
    document = client.get(f"/v1/documents/{body['document_id']}").json()
    assert document["filename"] == "2024 budget.pdf" and document["content_type"] == "application/pdf"
    assert document["size"] == len(pdf) and document["summary"]["tables"] >= 1
    assert _fetch(client, url).json() == {**body, "duplicate": True}  # same bytes: deduplicated
