#!/usr/bin/env python3
"""Read-path load test: N concurrent clients poll a job and fetch a finished document's results.

    .venv/bin/python scripts/loadtest.py --base-url http://127.0.0.1:8000 --key KEY \\
        --document DOC_ID --job JOB_ID [--clients 200] [--duration 60]
    .venv/bin/python scripts/loadtest.py --base-url http://127.0.0.1:8000 --key KEY --upload report.pdf

Each client loops over GET /v1/jobs/{job}, GET /v1/documents/{doc}/records and .../findings until
the duration ends or the request budget is spent, then the script prints requests, errors and
latency percentiles. It refuses any base URL that is not a loopback address (load runs stay on
this machine) and ignores proxy environment variables.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

MAX_CLIENTS = 2000
MAX_DURATION_S = 3600.0
WAIT_FOR_JOB_S = 600.0


@dataclass
class Stats:
    latencies_ms: list[float] = field(default_factory=list)
    by_route: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    seconds: float = 0.0  # the load phase only (not the optional upload)

    def percentile(self, fraction: float, route: str | None = None) -> float:
        values = self.latencies_ms if route is None else self.by_route.get(route, [])
        if not values:
            return float("nan")
        ordered = sorted(values)
        index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
        return ordered[index]


def loopback_base_url(raw: str) -> str:
    """The base URL if its host is a loopback literal (or 'localhost', pinned to 127.0.0.1); else exit."""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SystemExit(f"loadtest: --base-url must be http(s)://HOST:PORT, got {raw!r}")
    host = parts.hostname
    if host == "localhost":
        host = "127.0.0.1"  # never ask a resolver: it might answer with something else
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise SystemExit(f"loadtest: refusing {raw!r}: the host must be a loopback address literal") from None
    if not address.is_loopback:
        raise SystemExit(f"loadtest: refusing {raw!r}: {address} is not a loopback address")
    netloc = f"[{address}]" if address.version == 6 else str(address)
    if parts.port:
        netloc += f":{parts.port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


async def client_loop(client: httpx.AsyncClient, paths: list[tuple[str, str]], deadline: float,
                      budget: list[int], stats: Stats) -> None:
    index = 0
    while time.monotonic() < deadline and budget[0] > 0:
        budget[0] -= 1
        route, path = paths[index % len(paths)]
        index += 1
        started = time.perf_counter()
        try:
            response = await client.get(path)
            await response.aread()
            if response.status_code >= 400:
                stats.errors[f"HTTP {response.status_code}"] += 1
        except httpx.HTTPError as exc:
            stats.errors[type(exc).__name__] += 1
        elapsed_ms = (time.perf_counter() - started) * 1000
        stats.latencies_ms.append(elapsed_ms)
        stats.by_route.setdefault(route, []).append(elapsed_ms)
        stats.requests += 1


async def upload_and_wait(client: httpx.AsyncClient, path: Path) -> tuple[str, str]:
    with path.open("rb") as handle:
        response = await client.post("/v1/documents", files={"file": (path.name, handle, "application/pdf")})
    response.raise_for_status()
    accepted = response.json()
    deadline = time.monotonic() + WAIT_FOR_JOB_S
    while time.monotonic() < deadline:
        job = (await client.get(f"/v1/jobs/{accepted['job_id']}")).json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            if job["state"] != "succeeded":
                raise SystemExit(f"loadtest: the uploaded document's job ended {job['state']}: {job}")
            return str(accepted["document_id"]), str(accepted["job_id"])
        await asyncio.sleep(1)
    raise SystemExit("loadtest: the uploaded document did not finish in time")


async def run(args: argparse.Namespace) -> Stats:
    base = loopback_base_url(args.base_url)
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    headers = {"Authorization": f"Bearer {args.key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, trust_env=False,
                                 timeout=httpx.Timeout(args.timeout), follow_redirects=False) as client:
        if args.upload:
            document, job = await upload_and_wait(client, Path(args.upload))
        else:
            document, job = args.document, args.job
        paths = [("job", f"/v1/jobs/{job}"), ("records", f"/v1/documents/{document}/records"),
                 ("findings", f"/v1/documents/{document}/findings")]
        stats = Stats()
        budget = [args.max_requests]
        started = time.monotonic()
        deadline = started + args.duration
        await asyncio.gather(*(client_loop(client, paths[i % 3:] + paths[:i % 3], deadline, budget, stats)
                               for i in range(args.clients)))
        stats.seconds = time.monotonic() - started
        return stats


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", required=True, help="loopback only, e.g. http://127.0.0.1:8000")
    parser.add_argument("--key", required=True, help="API key (Bearer)")
    parser.add_argument("--document", help="id of a document whose job succeeded")
    parser.add_argument("--job", help="id of that document's job")
    parser.add_argument("--upload", help="upload this file first and use it once it has succeeded")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--max-requests", type=int, default=2_000_000, help="stop after this many requests")
    parser.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    if not args.upload and not (args.document and args.job):
        parser.error("give --document and --job, or --upload FILE")
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be 1..{MAX_CLIENTS}")
    if not 0 < args.duration <= MAX_DURATION_S:
        parser.error(f"--duration must be in (0, {MAX_DURATION_S:g}]")
    if args.max_requests < 1:
        parser.error("--max-requests must be positive")
    loopback_base_url(args.base_url)  # refuse before anything else happens
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stats = asyncio.run(run(args))
    elapsed = stats.seconds
    summary = {
        "clients": args.clients, "seconds": round(elapsed, 1), "requests": stats.requests,
        "errors": sum(stats.errors.values()), "error_kinds": dict(stats.errors),
        "rps": round(stats.requests / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(stats.percentile(0.50), 1), "p95_ms": round(stats.percentile(0.95), 1),
        "p99_ms": round(stats.percentile(0.99), 1), "max_ms": round(max(stats.latencies_ms, default=0.0), 1),
        "p50_p95_ms_by_route": {
            route: [round(stats.percentile(0.5, route), 1), round(stats.percentile(0.95, route), 1)]
            for route in sorted(stats.by_route)},
    }
    if args.json:
        print(json.dumps(summary))
    else:
        for name, value in summary.items():
            print(f"{name:>11}: {value}")
    return 1 if stats.requests == 0 or summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
