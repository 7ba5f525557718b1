#!/usr/bin/env python3
"""Soak: N concurrent clients for a while against `fiscalocr serve` on embedded defaults (SQLite, local
files, in-process workers), mixing uploads, job polling and exports; then every accepted job is waited
for. Prints errors, lost jobs and the server's memory curve (API process and its page workers).

    .venv/bin/python scripts/soak.py --clients 200 --duration 300 --out soak.json

The script starts the server itself on 127.0.0.1 with a fresh data directory, creates the tenants'
keys with `fiscalocr keys create`, and stops the server at the end. Nothing leaves this machine; every
loop is bounded by the duration.

By default the 25 distinct documents arrive in the first 25 s (each a new job); after that uploads send
bytes the tenant sent before (answered by the dedupe), so the load is steady once their results are in.
Memory is judged from then on: while documents still arrive, more of them are finished and exported,
and the API's memory follows that working set (``--new-upload-every 10`` trickles them in over the
run; the curve then rises to the same level, more slowly).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "service"))
import svc_scans  # noqa: E402  (the service tests' scan generator: small ruled 公开05表 pages)

TERMINAL = {"succeeded", "failed", "cancelled"}
MAX_CLIENTS = 1000
MAX_DURATION_S = 3600.0


@dataclass
class Soak:
    client: httpx.AsyncClient
    keys: list[str]
    documents: list[Path]
    new_upload_every_s: float
    deadline: float
    errors: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    jobs: dict[str, tuple[str, str]] = field(default_factory=dict)  # job id -> (key, document id)
    finished: dict[str, tuple[str, str]] = field(default_factory=dict)  # document id -> (key, job id)
    uploaded: dict[str, list[Path]] = field(default_factory=dict)  # key -> documents it sent
    next_new_upload: float = 0.0
    next_document: int = 0
    last_new_result: float = 0.0  # when the latest document's job was first seen succeeded

    async def call(self, route: str, method: str, url: str, key: str, **kwargs: Any) -> httpx.Response | None:
        self.requests[route] += 1
        try:
            response = await self.client.request(method, url, headers={"Authorization": f"Bearer {key}"},
                                                 **kwargs)
        except httpx.HTTPError as exc:
            self.errors[f"{route}: {type(exc).__name__}"] += 1
            return None
        if response.status_code >= 400:
            self.errors[f"{route}: HTTP {response.status_code} {response.text[:80]}"] += 1
        return response

    async def upload(self, key: str) -> None:
        """A new document at most every NEW_UPLOAD_EVERY seconds (each one a new job); otherwise the same
        bytes this tenant sent before, which the dedupe answers without a new job."""
        now = time.monotonic()
        mine = self.uploaded.setdefault(key, [])
        if now >= self.next_new_upload and self.next_document < len(self.documents):
            self.next_new_upload = now + self.new_upload_every_s
            path = self.documents[self.next_document]
            self.next_document += 1
            mine.append(path)
        elif mine:
            path = random.choice(mine)
        else:
            await self.poll(key)
            return
        response = await self.call("upload", "POST", "/v1/documents", key,
                                   files={"file": (path.name, path.read_bytes(), "application/pdf")})
        if response is not None and response.status_code == 202:
            accepted = response.json()
            self.jobs.setdefault(accepted["job_id"], (key, accepted["document_id"]))

    async def poll(self, key: str) -> None:
        mine = [job for job, (owner, _) in self.jobs.items() if owner == key]
        if not mine:
            await self.call("healthz", "GET", "/healthz", key)
            return
        job_id = random.choice(mine)
        response = await self.call("poll", "GET", f"/v1/jobs/{job_id}", key)
        if response is not None and response.status_code == 200 and response.json()["state"] == "succeeded":
            document = self.jobs[job_id][1]
            if document not in self.finished:
                self.last_new_result = time.monotonic()
            self.finished[document] = (key, job_id)

    async def export(self, key: str) -> None:
        mine = [doc for doc, (owner, _) in self.finished.items() if owner == key]
        if not mine:
            await self.poll(key)
            return
        document = random.choice(mine)
        kind = random.choice(["records?format=json", "records?format=csv", "records?format=xlsx", "findings",
                              "tables"])
        response = await self.call(f"export {kind.split('?')[0]}", "GET", f"/v1/documents/{document}/{kind}",
                                   key)
        if response is not None:
            await response.aread()

    async def client_loop(self, number: int) -> None:
        key = self.keys[number % len(self.keys)]
        rng = random.Random(number)
        while time.monotonic() < self.deadline:
            action = rng.random()
            if action < 0.05:
                await self.upload(key)
            elif action < 0.55:
                await self.poll(key)
            else:
                await self.export(key)
            await asyncio.sleep(rng.uniform(0.05, 0.3))


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


_THREAD_STACK_KB = (8192, 8196)  # glibc's default thread stack mapping (with or without its guard page)
_ARENA_KB = 65536  # a glibc malloc arena is reserved as one 64 MiB mapping (less once trimmed)


def resident_by_kind(pid: int) -> dict[str, float]:
    """The process's resident memory (MB) by the kind of mapping it sits in: the main heap, thread
    stacks, malloc arenas, other anonymous memory (large blocks, Python's arenas) and files."""
    parts = dict.fromkeys(("heap", "thread_stacks", "arenas", "anon", "files"), 0.0)
    kind, size_kb = "files", 0
    try:
        lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
    except OSError:
        return parts
    for line in lines:
        fields = line.split()
        if "-" in fields[0] and not fields[0].endswith(":"):
            start, end = (int(x, 16) for x in fields[0].split("-"))
            size_kb, name = (end - start) // 1024, fields[5] if len(fields) > 5 else ""
            kind = ("heap" if name == "[heap]" else "files" if name.startswith("/") or name.startswith("[")
                    else "thread_stacks" if size_kb in _THREAD_STACK_KB
                    else "arenas" if size_kb <= _ARENA_KB and (start % (_ARENA_KB * 1024)) == 0 else "anon")
        elif fields[0] == "Rss:":
            parts[kind] += int(fields[1]) / 1024
    return {key: round(value, 1) for key, value in parts.items()}


async def sample_memory(pid: int, start: float, curve: list[dict[str, Any]], stop: asyncio.Event) -> None:
    threads = 0
    while not stop.is_set():
        workers = sum(rss_mb(child) for child in children(pid))
        with contextlib.suppress(OSError):
            threads = sum(1 for _ in Path(f"/proc/{pid}/task").iterdir())
        curve.append({"t_s": round(time.monotonic() - start, 1), "api_mb": round(rss_mb(pid), 1),
                      "workers_mb": round(workers, 1), "api_threads": threads,
                      "api_parts": resident_by_kind(pid)})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 5.0)


async def wait_for_jobs(soak: Soak, timeout_s: float) -> dict[str, str]:
    states: dict[str, str] = {}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for job_id, (key, _) in soak.jobs.items():
            if states.get(job_id) in TERMINAL:
                continue
            response = await soak.client.get(f"/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {key}"})
            states[job_id] = response.json().get("state", f"HTTP {response.status_code}")
        if all(state in TERMINAL for state in states.values()) and len(states) == len(soak.jobs):
            break
        await asyncio.sleep(2)
    return states


def start_server(data_dir: Path, port: int, extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FISCALOCR_")}
    env |= {"FISCALOCR_DATA_DIR": str(data_dir), "FISCALOCR_DPI": str(svc_scans.DPI), "NO_PROXY": "*"}
    env |= extra or {}
    log = (data_dir / "server.log").open("ab")
    process = subprocess.Popen([sys.executable, "-c", "from service.cli import main; main()", "serve",
                                "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(180):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2, trust_env=False).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.5)
    raise SystemExit("soak: the server did not start")


def create_keys(data_dir: Path, tenants: int) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FISCALOCR_")}
    env["FISCALOCR_DATA_DIR"] = str(data_dir)
    keys = []
    for number in range(tenants):
        command = [sys.executable, "-c", "from service.cli import main; main()", "keys", "create",
                   "--tenant", f"soak-{number}"]
        result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True,
                                timeout=120)
        keys.append(result.stdout.strip().splitlines()[-1])
    return keys


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_env(pairs: list[str]) -> dict[str, str]:
    """``FISCALOCR_X=VALUE`` arguments; only the service's own settings may be set this way."""
    env = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
    if any(not key.startswith("FISCALOCR_") for key in env) or len(env) != len(pairs):
        raise SystemExit("--server-env takes FISCALOCR_NAME=VALUE")
    return env


async def run(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    documents = [svc_scans.write_pdf(data_dir / f"doc-{i}.pdf", first_variant=i)
                 for i in range(args.documents)]
    keys = create_keys(data_dir, args.tenants)
    port = free_port()
    server = start_server(data_dir, port, _server_env(args.server_env))
    curve: list[dict[str, Any]] = []
    stop = asyncio.Event()
    start = time.monotonic()
    limits = httpx.Limits(max_connections=args.clients + 20, max_keepalive_connections=args.clients + 20)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, trust_env=False,
                                     timeout=httpx.Timeout(120.0)) as client:
            soak = Soak(client, keys, documents, args.new_upload_every, start + args.duration)
            sampler = asyncio.create_task(sample_memory(server.pid, start, curve, stop))
            await asyncio.gather(*(soak.client_loop(n) for n in range(args.clients)))
            load_s = time.monotonic() - start
            states = await wait_for_jobs(soak, args.drain_timeout)
            stop.set()
            await sampler
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    log = (data_dir / "server.log").read_text(errors="replace")
    return {
        "clients": args.clients, "duration_s": round(load_s, 1), "requests": dict(soak.requests),
        "errors": dict(soak.errors), "jobs_accepted": len(soak.jobs),
        "job_states": dict(Counter(states.values())),
        "jobs_lost": sum(1 for job in soak.jobs if states.get(job) not in TERMINAL),
        "tracebacks_in_server_log": log.count("Traceback"), "memory_curve": curve,
        "data_complete_s": _data_complete_s(soak, start, load_s),
    }


def _data_complete_s(soak: Soak, start: float, load_s: float) -> float:
    """When the data stopped growing: every distinct document uploaded and its result seen. Until then the
    mix shifts (more finished documents, so more and larger exports) and memory follows the data's working
    set; after it, the load is steady. The end of the load if that never happened during it."""
    uploaded_all = soak.next_document == len(soak.documents)
    finished_all = len(soak.finished) == len({document for _, document in soak.jobs.values()})
    if uploaded_all and finished_all and soak.last_new_result:
        return round(min(soak.last_new_result - start, load_s), 1)
    return round(load_s, 1)


def slope_mb_per_min(curve: list[dict[str, Any]], series: str, start_s: float, end_s: float) -> float:
    """Least-squares slope of one memory series between ``start_s`` and ``end_s`` (MB per minute)."""
    points = [(float(p["t_s"]) / 60, float(p[series])) for p in curve if start_s <= p["t_s"] <= end_s]
    if len(points) < 3:
        return float("nan")
    mean_t = sum(t for t, _ in points) / len(points)
    mean_m = sum(m for _, m in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (m - mean_m) for t, m in points) / spread


def verdict(result: dict[str, Any], warmup_s: float, max_slope: float) -> tuple[bool, str]:
    """PASS needs no failed request, no lost job, no traceback, and the API process's memory flat after
    the warm-up: its least-squares slope over the rest of the load at most ``max_slope`` MB/min. The
    warm-up lasts ``warmup_s`` and at least until the data stopped growing; if less than half the load is
    left after it, the slope is not measured and the run fails."""
    warmup_s = max(warmup_s, float(result.get("data_complete_s", 0.0)))
    if result["duration_s"] - warmup_s < result["duration_s"] / 2:
        warmup_s = result["duration_s"]  # no steady half: a NaN slope, which fails
    slope = slope_mb_per_min(result["memory_curve"], "api_mb", warmup_s, result["duration_s"])
    workers = slope_mb_per_min(result["memory_curve"], "workers_mb", warmup_s, result["duration_s"])
    result["api_slope_mb_per_min"], result["workers_slope_mb_per_min"] = round(slope, 2), round(workers, 2)
    errors = sum(result["errors"].values())
    passed = (not errors and not result["jobs_lost"] and not result["tracebacks_in_server_log"]
              and slope <= max_slope)  # a NaN slope (run shorter than the warm-up) fails
    memory = (f"API memory {slope:+.2f} MB/min after a {warmup_s:g} s warm-up" if not math.isnan(slope) else
              f"API memory not measured: the data grew until {result.get('data_complete_s')} s of the load")
    line = (f"soak: {'PASS' if passed else 'FAIL'}: {errors} failed of {sum(result['requests'].values())} "
            f"requests, {result['jobs_lost']} lost of {result['jobs_accepted']} jobs, "
            f"{result['tracebacks_in_server_log']} tracebacks, {memory} (limit {max_slope:g}; "
            f"page workers {workers:+.2f} MB/min)")
    return passed, line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load")
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--documents", type=int, default=25, help="distinct documents (each one new job)")
    parser.add_argument("--new-upload-every", type=float, default=1.0,
                        help="seconds between new documents (then uploads repeat earlier ones)")
    parser.add_argument("--drain-timeout", type=float, default=900.0, help="wait for jobs after the load")
    parser.add_argument("--warmup", type=float, default=60.0,
                        help="seconds before memory must be flat (longer if the data is still growing then)")
    parser.add_argument("--max-slope", type=float, default=0.5,
                        help="largest API memory growth after the warm-up that counts as flat (MB/min)")
    parser.add_argument("--server-env", action="append", default=[], metavar="FISCALOCR_X=VALUE",
                        help="a setting for the server (repeatable), e.g. FISCALOCR_API_THREADS=16")
    parser.add_argument("--out", type=Path, help="write the full result (with the memory curve) as JSON")
    args = parser.parse_args(argv)
    if not (1 <= args.clients <= MAX_CLIENTS and 0 < args.duration <= MAX_DURATION_S):
        parser.error(f"--clients 1..{MAX_CLIENTS}, --duration up to {MAX_DURATION_S:.0f} s")
    with tempfile.TemporaryDirectory(prefix="fiscalocr-soak-") as tmp:
        result = asyncio.run(run(args, Path(tmp)))
    passed, line = verdict(result, args.warmup, args.max_slope)
    if args.out:
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    summary = {k: v for k, v in result.items() if k != "memory_curve"}
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    next_t = 0.0
    for point in result["memory_curve"]:  # one line every 30 s
        if point["t_s"] >= next_t:
            next_t += 30.0
            parts = " ".join(f"{k}={v:.1f}" for k, v in point["api_parts"].items())
            print(f"t={point['t_s']:6.1f}s api={point['api_mb']:7.1f} MB ({parts}) "
                  f"workers={point['workers_mb']:7.1f} MB api threads={point['api_threads']:3.0f}")
    print(line)
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
