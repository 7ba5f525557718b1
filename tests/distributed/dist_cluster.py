"""Real processes for the distributed tests: a Celery worker and the API server, on loopback only.

Every run gets its own PostgreSQL database, Redis key prefix and queue, so runs never see each
other's messages, and everything is removed afterwards.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis

BIN = Path(sys.executable).parent
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
WEBHOOK_SECRET = "distributed-test-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"fiscalocr_dist_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def redis_namespace() -> Iterator[str]:
    prefix = f"fiscalocr-test-{uuid.uuid4().hex[:10]}:"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    generation: int = 0

    def start(self) -> Proc:
        self.generation += 1
        log = self.log_path.with_suffix(f".{self.generation}.log")
        with log.open("wb") as out:
            # Own session: a kill -9 reaches the whole process group (worker parent + pool children).
            self.popen = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True, cwd=Path(__file__).resolve().parents[2])
        return self

    @property
    def current_log(self) -> Path:
        return self.log_path.with_suffix(f".{self.generation}.log")

    def log_text(self) -> str:
        return self.current_log.read_text(errors="replace") if self.current_log.exists() else ""

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill9(self) -> None:
        if self.popen is not None:
            with suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)

    def stop(self, grace_s: float = 15.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            self._reap_group()
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)
        except ProcessLookupError:
            pass
        self._reap_group()

    def _reap_group(self) -> None:
        """Pool children may outlive their parent for a moment; never leave them behind."""
        if self.popen is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)


@dataclass
class Cluster:
    root: Path
    db_url: str
    prefix: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    key: str = ""
    procs: list[Proc] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def configure(self) -> None:
        self.port = free_port()
        base = {k: v for k, v in os.environ.items()
                if not k.upper().endswith("_PROXY") and not k.startswith("FISCALOCR_")}
        self.env = {
            **base,
            "FISCALOCR_DATABASE_URL": self.db_url,
            "FISCALOCR_RUNNER": "celery",
            "FISCALOCR_REDIS_URL": REDIS_URL,
            "FISCALOCR_DATA_DIR": str(self.root / "data"),
            "FISCALOCR_WORKERS": "2",
            "FISCALOCR_LOG_JSON": "false",
            "FISCALOCR_CELERY_KEY_PREFIX": self.prefix,
            "FISCALOCR_CELERY_QUEUE": f"{self.prefix}jobs",
            # A killed worker's page leases lapse fast (default 30 s); its unacked messages come
            # back after the visibility timeout (default 15 min), which must exceed the slowest page.
            "FISCALOCR_CELERY_LEASE_S": "8",
            "FISCALOCR_CELERY_VISIBILITY_TIMEOUT_S": "180",
            "FISCALOCR_CELERY_RESTORE_INTERVAL_S": "5",
            "NO_PROXY": "*",
            # Webhooks go to a receiver in the test process on 127.0.0.1 (an IP literal: no DNS).
            "FISCALOCR_FETCH_ALLOW_HOSTS": "127.0.0.1",
            "FISCALOCR_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }

    def celery_worker(self, name: str = "w1") -> Proc:
        argv = [str(BIN / "celery"), "-A", "service.celery_app", "worker", "--pool=prefork", "-c", "2",
                "-Q", self.env["FISCALOCR_CELERY_QUEUE"], "-n", f"{name}@%h", "--without-gossip",
                "--without-mingle", "--loglevel=INFO"]
        return self._proc(name, argv)

    def cli_worker(self, name: str = "w2") -> Proc:
        return self._proc(name, [str(BIN / "fiscalocr"), "worker", "--concurrency", "2"])

    def api(self) -> Proc:
        return self._proc("api", [str(BIN / "fiscalocr"), "serve", "--host", "127.0.0.1",
                                  "--port", str(self.port)])

    def _proc(self, name: str, argv: list[str]) -> Proc:
        proc = Proc(name, argv, self.env, self.root / f"{name}")
        self.procs.append(proc)
        return proc

    def wait_worker_ready(self, proc: Proc, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if " ready." in proc.log_text():
                return
            if not proc.alive():
                raise AssertionError(f"worker exited early:\n{proc.log_text()[-4000:]}")
            time.sleep(0.2)
        raise AssertionError(f"worker not ready after {timeout_s}s:\n{proc.log_text()[-4000:]}")

    def wait_api_ready(self, proc: Proc, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not proc.alive():
                raise AssertionError(f"API exited early:\n{proc.log_text()[-4000:]}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2, trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"API not ready after {timeout_s}s:\n{proc.log_text()[-4000:]}")

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.key}"},
                            trust_env=False, timeout=kwargs.pop("timeout", 60), **kwargs)

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
