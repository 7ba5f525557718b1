"""The same service on PostgreSQL (a fresh database for the session): migrations at start,
upload -> results equal to the library, tenant isolation, corrections under row locks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from svc_expect import dump
from svc_harness import Server, new_tenant_api

pytestmark = pytest.mark.postgres


def test_pipeline_on_postgres(pg_server: Server, scanned_pdf: Path, library_result: Any) -> None:
    owner, other = new_tenant_api(pg_server, "pg-owner"), new_tenant_api(pg_server, "pg-other")
    created = owner.upload(scanned_pdf).json()
    assert owner.upload(scanned_pdf).json() == {**created, "duplicate": True}
    job = owner.wait_job(created["job_id"])
    assert job["state"] == "succeeded", job
    doc = created["document_id"]
    records = owner.client.get(f"/v1/documents/{doc}/records").json()["records"]
    assert records == dump(library_result.records)
    findings = owner.client.get(f"/v1/documents/{doc}/findings").json()["findings"]
    assert findings == dump(library_result.findings)

    assert other.client.get(f"/v1/documents/{doc}").status_code == 404
    assert other.client.get("/v1/documents").json()["total"] == 0

    table = owner.client.get(f"/v1/documents/{doc}/tables/t0").json()
    cell = next(c for c in table["cells"] if (c["row"], c["col"]) == (1, 2))
    cell_url = f"/v1/documents/{doc}/cells/{cell['cell_id']}"
    assert other.client.patch(cell_url, json={"text": "1"}).status_code == 404
    patched = owner.client.patch(cell_url, json={"text": "1.00"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["correction"]["old"] == cell["text"]
    after = owner.client.get(f"/v1/documents/{doc}/records").json()["records"]
    assert after != records

    ready = owner.client.get("/readyz").json()
    assert ready["checks"]["database"]["ok"] is True
    # Other tests share this server (the review flow on PostgreSQL): at least this job has succeeded.
    succeeded = re.search(r'fiscalocr_jobs\{state="succeeded"\} (\d+)\.0', owner.client.get("/metrics").text)
    assert succeeded is not None and int(succeeded.group(1)) >= 1
