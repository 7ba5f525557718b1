"""Test harness: `fiscalocr serve` in a subprocess on a free loopback port (SQLite in a temp dir or a
PostgreSQL database), and an httpx client per tenant."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import svc_scans as scans

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
JOB_TIMEOUT_S = 300.0
TERMINAL = {"succeeded", "failed", "cancelled"}
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
WEBHOOK_SECRET = "service-test-webhook-secret"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A `fiscalocr serve` subprocess; ``restart`` keeps its data dir and database."""

    data_dir: Path
    database_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'fiscalocr.db').resolve()}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FISCALOCR_")}
        env.update({
            "FISCALOCR_DATA_DIR": str(self.data_dir), "FISCALOCR_WORKERS": "1",
            "FISCALOCR_DPI": str(scans.DPI), "FISCALOCR_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
            "FISCALOCR_MAX_JSON_BYTES": str(MAX_UPLOAD_BYTES),
            "PYTHONPATH": str(ROOT), "NO_PROXY": "*",
        })
        if self.database_url:
            env["FISCALOCR_DATABASE_URL"] = self.database_url
        env.update(self.extra_env)
        return env

    def start(self) -> Server:
        self.port = free_port()
        log = (self.data_dir / "server.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from service.cli import main; main()", "serve", "--host", "127.0.0.1",
             "--port", str(self.port)], env=self.env(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server did not become healthy: {self.log_tail()}")

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # The whole process group: page workers are the server's children.
        os.killpg(self.process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        path = self.data_dir / "server.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def new_key(self, tenant: str, name: str | None = None) -> str:
        from service.auth import create_key
        from service.db import make_engine, session_scope

        engine = make_engine(self.db_url)
        try:
            with session_scope(engine) as session:
                key, _ = create_key(session, tenant, name)
        finally:
            engine.dispose()
        return key


class Api:
    """An httpx client for one tenant of a server."""

    def __init__(self, server: Server, key: str | None) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.server = server
        self.client = httpx.Client(base_url=server.url, headers=headers, timeout=60, trust_env=False)

    def upload(self, path: Path, **form: str) -> httpx.Response:
        with path.open("rb") as handle:
            return self.client.post("/v1/documents", files={"file": (path.name, handle, "application/pdf")},
                                    data=form)

    def wait_job(self, job_id: str, timeout: float = JOB_TIMEOUT_S,
                 until: Any = lambda job: job["state"] in TERMINAL) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.client.get(f"/v1/jobs/{job_id}").json()
            if until(job):
                return dict(job)
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still {job} after {timeout}s\n{self.server.log_tail()}")
            time.sleep(0.3)


def new_tenant_api(server: Server, prefix: str = "tenant") -> Api:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return Api(server, server.new_key(name, f"{name}-reviewer"))
