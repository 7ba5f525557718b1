"""POST /v1/batches (several files, or URLs) -> one batch id with per-document progress and results;
items that cannot be taken are listed with their error code, the rest are processed."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from netguard_fixture import LocalHTTPServer, respond
from review_scan import write_misprinted_pdf
from svc_harness import Api, Server, new_tenant_api
from svc_scans import write_pdf


def _wait_batch(api: Api, batch_id: str, timeout: float = 240.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        batch = api.client.get(f"/v1/batches/{batch_id}").json()
        if batch["finished"] or time.monotonic() > deadline:
            return dict(batch)
        time.sleep(0.5)


def test_batch_of_files_reports_progress_and_results(server: Server, tmp_path: Path) -> None:
    api = new_tenant_api(server, "batch")
    misprint = write_misprinted_pdf(tmp_path / "m.pdf").read_bytes()
    clean = write_pdf(tmp_path / "c.pdf", first_variant=21).read_bytes()
    files = [("file", ("misprint.pdf", misprint, "application/pdf")),
             ("file", ("clean.pdf", clean, "application/pdf")),
             ("file", ("notes.txt", b"not a report", "text/plain"))]
    response = api.client.post("/v1/batches", files=files)
    assert response.status_code == 202, response.text
    created = response.json()
    assert [i["source"] for i in created["items"]][:2] == ["misprint.pdf", "clean.pdf"]
    refused = created["items"][2]
    assert refused["state"] == "refused" and refused["error"]["code"] == "unsupported_format"
    assert refused["document_id"] is None
    batch = _wait_batch(api, created["batch_id"])
    assert batch["finished"] and batch["states"] == {"succeeded": 2, "refused": 1}
    assert batch["pages_done"] == batch["pages_total"] == 2
    misprint, clean = batch["items"][:2]
    assert misprint["findings_by_severity"].get("error", 0) == 2
    assert clean["findings_by_severity"].get("error", 0) == 0
    assert api.client.get("/v1/documents").json()["total"] == 2  # the refused file stored nothing
    stranger = new_tenant_api(server, "stranger")
    assert stranger.client.get(f"/v1/batches/{created['batch_id']}").status_code == 404


def test_batch_of_urls_fetches_each_and_lists_refusals(server: Server, http_server: LocalHTTPServer,
                                                       tmp_path: Path) -> None:
    api = new_tenant_api(server, "batchurl")
    pdf = write_pdf(tmp_path / "u.pdf", first_variant=31).read_bytes()
    http_server.routes[("GET", "/report.pdf")] = lambda h: respond(h, 200, pdf,
                                                                   {"Content-Type": "application/pdf"})
    urls = [http_server.url("/report.pdf"), "http://169.254.169.254/latest/report.pdf",
            http_server.url("/missing.pdf")]
    created = api.client.post("/v1/batches", json={"urls": urls}).json()
    states = [(i["state"], (i["error"] or {}).get("code")) for i in created["items"]]
    assert states[1:] == [("refused", "fetch_refused_address"), ("refused", "fetch_failed")]
    assert [entry["path"] for entry in http_server.log] == ["/report.pdf", "/missing.pdf"]
    batch = _wait_batch(api, created["batch_id"])
    assert batch["items"][0]["state"] == "succeeded" and batch["items"][0]["source"] == urls[0]


def test_batch_input_errors_are_typed(server: Server) -> None:
    api = new_tenant_api(server, "batchbad")
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"json": {"urls": []}}, 422, "batch_empty"),
        ({"json": {"urls": [f"http://127.0.0.1:9/{i}" for i in range(51)]}}, 413, "batch_too_large"),
        ({"files": [("other", ("x.txt", b"x", "text/plain"))]}, 422, "batch_empty"),
        ({"content": b"urls", "headers": {"Content-Type": "text/plain"}}, 415, "unsupported_media_type"),
    ]
    for kwargs, status, code in cases:
        response = api.client.post("/v1/batches", **kwargs)
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert api.client.get(f"/v1/batches/{uuid.uuid4().hex}").status_code == 404
