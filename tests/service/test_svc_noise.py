"""What a new user sees: `fiscalocr settings` is an env file to paste, the extract options say what they
do and their defaults, and the server stops without multiprocessing's "leaked semaphore" warning."""

from __future__ import annotations

import os
import shlex
import signal
import time
import tomllib
from pathlib import Path

from svc_harness import ROOT, Server, new_tenant_api
from test_svc_cli import fiscalocr

from service.settings import Settings


def _env_file(text: str) -> dict[str, str]:
    pairs = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = " ".join(shlex.split(value)) if value else value
    return pairs


def test_settings_output_is_a_pasteable_env_file(tmp_path: Path) -> None:
    env = {"FISCALOCR_DATA_DIR": str(tmp_path / "my data"), "FISCALOCR_WEBHOOK_SECRET": "s3cret",
           "FISCALOCR_FETCH_ALLOW_HOSTS": "a.example,b.example"}
    result = fiscalocr("settings", env=env)
    assert result.returncode == 0, result.stderr
    assert "PosixPath(" not in result.stdout and "None" not in result.stdout and "s3cret" not in result.stdout
    pasted = _env_file(result.stdout)
    assert set(pasted) <= {f"FISCALOCR_{name.upper()}" for name in Settings.model_fields}
    again = Settings(_env_file=None, **{k.removeprefix("FISCALOCR_").lower(): v for k, v in pasted.items()})
    original = Settings(_env_file=None, **{k.removeprefix("FISCALOCR_").lower(): v for k, v in env.items()})
    for name in Settings.model_fields:
        if not name.endswith("secret"):
            assert getattr(again, name) == getattr(original, name), name


def test_extract_options_explain_themselves() -> None:
    result = fiscalocr("extract", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "OCR engine (default: FISCALOCR_ENGINE, else rapidocr" in text
    assert "(default: FISCALOCR_DPI, else 300)" in text


def test_license_is_an_spdx_expression() -> None:
    """setuptools warned three times per install about a license table."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert isinstance(project["license"], str)


def test_server_stops_without_leaked_semaphores(tmp_path: Path) -> None:
    """SIGTERM to the server process alone, as a service manager sends it: multiprocessing's resource
    tracker (a separate process) must find nothing left to clean up."""
    server = Server(tmp_path).start()
    assert server.process is not None
    try:
        api = new_tenant_api(server)
        accepted = api.upload(ROOT / "tests" / "fixtures" / "scans" / "rot90-expenditure.pdf")
        assert api.wait_job(accepted.json()["job_id"])["state"] == "succeeded"  # the page pool was used
        os.kill(server.process.pid, signal.SIGTERM)
        server.process.wait(timeout=60)
        time.sleep(3)  # the tracker reports once the last process holding its pipe is gone
    finally:
        server.stop()
    log = server.log_tail(10000)
    assert "embedded runner stopped" in log
    assert "leaked semaphore" not in log and "Traceback" not in log, log
