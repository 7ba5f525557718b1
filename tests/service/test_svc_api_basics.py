"""HTTP behaviour that does not depend on OCR output: auth, tenancy, upload limits and sniffing,
dedupe, error shape, probes, and the committed OpenAPI document."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest
from svc_harness import MAX_UPLOAD_BYTES, Api, Server, new_tenant_api


def _error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "detail"}, body
    assert body["code"] == code, body
    return dict(body)


def test_requests_without_or_with_unknown_key_are_401(server: Server) -> None:
    for headers in ({}, {"Authorization": "Bearer fk_not-a-real-key"}, {"Authorization": "Basic abc"}):
        response = httpx.get(f"{server.url}/v1/documents", headers=headers)
        _error(response, 401, "unauthenticated")
    response = httpx.post(f"{server.url}/v1/documents", files={"file": ("a.pdf", b"%PDF-1.4")})
    _error(response, 401, "unauthenticated")


def test_request_id_is_echoed_or_generated(api: Api) -> None:
    response = api.client.get("/v1/documents", headers={"X-Request-ID": "req-123.abc"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-123.abc"
    generated = api.client.get("/v1/documents", headers={"X-Request-ID": "bad id\twith spaces"})
    assert generated.headers["x-request-id"] not in ("", "bad id\twith spaces")


def test_bad_parameters_get_the_error_shape(api: Api) -> None:
    body = _error(api.client.get("/v1/documents", params={"limit": 0}), 422, "validation_error")
    assert isinstance(body["detail"], list) and body["detail"]
    _error(api.client.get("/v1/no-such-route"), 404, "not_found")
    _error(api.client.get("/v1/jobs/doesnotexist"), 404, "not_found")
    json_headers = {"Content-Type": "application/json"}
    response = api.client.post("/v1/validate", content=b"{not json", headers=json_headers)
    _error(response, 422, "validation_error")


def test_non_document_upload_is_415(api: Api, tmp_path: Path) -> None:
    text = tmp_path / "notes.pdf"  # the name lies; the bytes decide
    text.write_bytes(b"just some text, not a scan\n" * 10)
    _error(api.upload(text), 415, "unsupported_format")
    response = api.client.post("/v1/documents", json={"file": "x"})
    _error(response, 415, "unsupported_media_type")
    _error(api.client.post("/v1/documents", files={"other": ("a.pdf", b"%PDF-1.4")}), 422, "validation_error")
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    _error(api.upload(empty), 422, "document_empty")


def test_declared_oversize_upload_is_refused_before_the_body(server: Server) -> None:
    """Content-Length says 100 MB: the answer comes without the client sending a single body byte."""
    key = server.new_key("declared")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall((f"POST /v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
                      "Content-Type: multipart/form-data; boundary=xyz\r\n"
                      f"Content-Length: {50 * MAX_UPLOAD_BYTES}\r\n\r\n").encode())
        response = b""
        while b"}" not in response:
            data = sock.recv(65536)
            if not data:
                break
            response += data
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert b'"code":"payload_too_large"' in response


def test_streamed_oversize_upload_is_cut_off_early(server: Server) -> None:
    """Chunked upload with no length: the server answers 413 once the limit is passed, while the
    client has sent only a little more than the limit of a body that would be 20x larger."""
    key = server.new_key("streamer")
    boundary = "bnd123"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n%PDF-1.7\n").encode()
    chunk = b"0" * (256 * 1024)
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall((f"POST /v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
                      f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n").encode())
        sock.sendall(b"%x\r\n%s\r\n" % (len(head), head))
        sock.settimeout(0.05)
        response = b""
        for _ in range(20 * MAX_UPLOAD_BYTES // len(chunk)):
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
                response += sock.recv(65536)
            except (TimeoutError, BlockingIOError):
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            if b"\r\n\r\n" in response:
                break
        sock.settimeout(10)
        while b"payload_too_large" not in response:
            data = sock.recv(65536)
            if not data:
                break
            response += data
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert b"payload_too_large" in response
    assert sent < 2 * MAX_UPLOAD_BYTES, f"server read {sent} bytes before refusing"


def test_tenant_isolation(server: Server, scan_dir: Path) -> None:
    from svc_scans import write_pdf

    alice, bob = new_tenant_api(server, "alice"), new_tenant_api(server, "bob")
    path = write_pdf(scan_dir / "isolation.pdf", pages=1, first_variant=7)
    created = alice.upload(path).json()
    doc, job = created["document_id"], created["job_id"]
    assert alice.client.get(f"/v1/documents/{doc}").status_code == 200
    for method, url, kwargs in [
        ("GET", f"/v1/documents/{doc}", {}), ("GET", f"/v1/jobs/{job}", {}),
        ("POST", f"/v1/jobs/{job}/cancel", {}), ("GET", f"/v1/documents/{doc}/tables", {}),
        ("GET", f"/v1/documents/{doc}/records", {}), ("GET", f"/v1/documents/{doc}/findings", {}),
        ("GET", f"/v1/documents/{doc}/pages/1.png", {}),
        ("PATCH", f"/v1/documents/{doc}/cells/1", {"json": {"text": "0"}}),
        ("DELETE", f"/v1/documents/{doc}", {}),
    ]:
        _error(bob.client.request(method, url, **kwargs), 404, "not_found")
    assert doc not in [d["document_id"] for d in bob.client.get("/v1/documents").json()["items"]]
    assert doc in [d["document_id"] for d in alice.client.get("/v1/documents").json()["items"]]
    # Bob uploading the same file gets his own document, not a "duplicate" of Alice's.
    mine = bob.upload(path).json()
    assert mine["document_id"] != doc and mine["duplicate"] is False
    assert alice.client.get(f"/v1/documents/{doc}").status_code == 200


def test_same_file_twice_is_deduplicated(api: Api, scan_dir: Path) -> None:
    from svc_scans import write_pdf

    path = write_pdf(scan_dir / "dedupe.pdf", pages=1, first_variant=3)
    first = api.upload(path)
    assert first.status_code == 202, first.text
    second = api.upload(path)
    assert second.status_code == 202
    assert first.json()["duplicate"] is False
    assert second.json() == {**first.json(), "duplicate": True}
    listing = api.client.get("/v1/documents").json()
    assert listing["total"] == 1
    detail = api.client.get(f"/v1/documents/{first.json()['document_id']}").json()
    assert detail["filename"] == "dedupe.pdf" and detail["content_type"] == "application/pdf"
    assert detail["size"] == path.stat().st_size


def test_delete_document(api: Api, scan_dir: Path) -> None:
    from svc_scans import write_pdf

    created = api.upload(write_pdf(scan_dir / "delete-me.pdf", pages=1, first_variant=11)).json()
    doc = created["document_id"]
    response = api.client.delete(f"/v1/documents/{doc}")
    assert response.status_code == 204
    _error(api.client.get(f"/v1/documents/{doc}"), 404, "not_found")
    _error(api.client.get(f"/v1/jobs/{created['job_id']}"), 404, "not_found")
    assert not list((api.server.data_dir / "files").glob(f"*/{doc}"))


def test_health_ready_and_metrics(server: Server) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/readyz")
    assert ready.status_code == 200, ready.text
    assert {name: check["ok"] for name, check in ready.json()["checks"].items()} == {
        "database": True, "storage": True, "queue": True, "ocr": True}
    metrics = httpx.get(f"{server.url}/metrics")
    assert metrics.status_code == 200
    assert "text/plain" in metrics.headers["content-type"]
    for name in ('fiscalocr_jobs{state="queued"}', "fiscalocr_pages_processed_total",
                 "fiscalocr_job_duration_seconds_bucket", "fiscalocr_page_ocr_seconds_count"):
        assert name in metrics.text, name


def test_readyz_reports_the_failing_dependency(tmp_path: Path) -> None:
    import shutil

    srv = Server(tmp_path).start()
    try:
        assert httpx.get(f"{srv.url}/readyz").status_code == 200
        shutil.rmtree(tmp_path / "files")  # storage gone (as if the volume were unmounted)
        response = httpx.get(f"{srv.url}/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["checks"]["storage"]["ok"] is False
        assert body["checks"]["database"]["ok"] is True
        assert body["code"] == "service_unavailable" and "storage" in body["message"]
    finally:
        srv.stop()


def test_committed_openapi_matches_the_app() -> None:
    from service import openapi

    committed = openapi.COMMITTED.read_text(encoding="utf-8")
    assert committed == openapi.render(), "openapi/openapi.json is stale: run `fiscalocr openapi`"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migrations_match_the_models(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """`alembic upgrade head` produces exactly the schema the models declare (no autogenerate diff)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    from service.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else request.getfixturevalue("pg_database")
    upgrade(url)
    upgrade(url)  # idempotent
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                    SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == []




def test_validate_refuses_absurd_grids_quickly(api: Api) -> None:
    table = {"id": "t0", "page": 1, "n_rows": 3, "n_cols": 2_000_000_000,
             "cells": [{"row": 0, "col": 0, "text": "1"}]}
    started = time.monotonic()
    body = _error(api.client.post("/v1/validate", json={"tables": [table]}), 422, "validation_error")
    assert time.monotonic() - started < 5
    assert body["detail"][0]["loc"][:3] == ["body", "tables", "0"]
    outside = {**table, "n_cols": 2, "cells": [{"row": 5, "col": 0}]}
    _error(api.client.post("/v1/validate", json={"tables": [outside]}), 422, "validation_error")


def test_callback_url_is_vetted_at_submission(api: Api, scanned_pdf: Path) -> None:
    """Refused before anything is stored (address literals only: this server uses the system resolver)."""
    for url in ("http://10.0.0.5/hook", "http://169.254.169.254/latest/", "http://[::ffff:10.0.0.1]/x",
                "http://192.168.1.10:8080/hook"):
        _error(api.upload(scanned_pdf, callback_url=url), 403, "fetch_refused_address")
    _error(api.upload(scanned_pdf, callback_url="ftp://hooks/x"), 422, "validation_error")
    assert api.client.get("/v1/documents").json()["total"] == 0


def test_readyz_reports_an_ocr_engine_that_is_not_installed(tmp_path: Path) -> None:
    """The engine's probe (no model loaded) runs in /readyz: tesseract without its language data."""
    srv = Server(tmp_path, extra_env={"FISCALOCR_ENGINE": "tesseract",
                                      "FISCALOCR_TESSDATA": str(tmp_path / "no-tessdata")}).start()
    try:
        response = httpx.get(f"{srv.url}/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["checks"]["ocr"]["ok"] is False
        assert "language data" in body["checks"]["ocr"]["error"]
        assert body["checks"]["database"]["ok"] is True and "ocr" in body["message"]
    finally:
        srv.stop()
