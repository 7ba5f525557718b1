"""The `fiscalocr` command line: keys, extract, validate, and typed errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from svc_expect import dump
from svc_harness import ROOT, Server


def fiscalocr(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FISCALOCR_")}
    return subprocess.run([sys.executable, "-c", "from service.cli import main; main()", *args],
                          check=False, capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**base, "PYTHONPATH": str(ROOT), **(env or {})})


def test_keys_create_prints_a_working_key_last(server: Server) -> None:
    result = fiscalocr("keys", "create", "--tenant", "cli-tenant", "--name", "cli-bot",
                       env={"FISCALOCR_DATA_DIR": str(server.data_dir)})
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("fk_") and " " not in key
    response = httpx.get(f"{server.url}/v1/documents", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


def test_extract_and_validate_match_the_library(scanned_pdf: Path, library_result: Any,
                                                tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = fiscalocr("extract", str(scanned_pdf), "--out", str(out), "--dpi", "200", "--pages", "1")
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["records"] == dump(library_result.records)
    assert data["tables"] == dump(library_result.tables)

    bare = tmp_path / "tables.json"
    bare.write_text(json.dumps({**data, "records": [], "findings": []}), encoding="utf-8")
    validated = tmp_path / "validated.json"
    result = fiscalocr("validate", str(bare), "--out", str(validated))
    assert result.returncode == 0, result.stderr
    assert json.loads(validated.read_text(encoding="utf-8"))["records"] == dump(library_result.records)


def test_bad_input_gives_a_code_and_exit_status_not_a_traceback(tmp_path: Path, corrupt_pdf: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    cases = [
        (("extract", str(tmp_path / "missing.pdf"), "--out", str(tmp_path / "o.json")), "invalid_input"),
        (("extract", str(corrupt_pdf), "--out", str(tmp_path / "o.json")), "pdf_corrupt"),
        (("extract", str(corrupt_pdf), "--out", str(tmp_path / "o.json"), "--pages", "3-1"),
         "invalid_page_range"),
        (("validate", str(broken)), "invalid_input"),
    ]
    for args, code in cases:
        result = fiscalocr(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert f"[{code}]" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_keys_revoke_makes_the_key_401(server: Server) -> None:
    env = {"FISCALOCR_DATA_DIR": str(server.data_dir)}
    created = fiscalocr("keys", "create", "--tenant", "revoker", env=env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    key_id = next(line.split()[2] for line in created.stdout.splitlines() if line.startswith("key id:"))
    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{server.url}/v1/documents", headers=headers).status_code == 200
    revoked = fiscalocr("keys", "revoke", key_id, env=env)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout, revoked.stderr
    assert httpx.get(f"{server.url}/v1/documents", headers=headers).status_code == 401
    again = fiscalocr("keys", "revoke", key_id, env=env)
    assert again.returncode == 0 and "already revoked" in again.stdout
    missing = fiscalocr("keys", "revoke", "999999", env=env)
    assert missing.returncode == 2 and "[not_found]" in missing.stderr and "Traceback" not in missing.stderr
