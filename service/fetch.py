"""Download a document from a caller-supplied URL, safely.

Every hop is vetted by ``netguard.check_url`` before anything is sent, and the request goes to
the pinned address the guard returned (the URL's host travels in the Host header and, for https,
as the TLS server name, so certificates are still checked against the name). Redirects are
followed by hand so each target is vetted too. The body streams to disk under a byte cap and the
download stops as soon as the cap is passed. Content-Type is recorded but not trusted: the
caller sniffs the bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

from service.netguard import FetchError, RefusedAddressError, ResolvedTarget, Resolver, check_url

log = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024

__all__ = [
    "FetchError",
    "FetchLimits",
    "FetchResult",
    "FetchTimeoutError",
    "RefusedAddressError",
    "TooLargeError",
    "TooManyRedirectsError",
    "fetch_document",
    "pinned_request",
]


class TooLargeError(FetchError):
    code = "fetch_too_large"


class FetchTimeoutError(FetchError):
    code = "fetch_timeout"


class TooManyRedirectsError(FetchError):
    code = "fetch_too_many_redirects"


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int = 100 * 1024 * 1024
    timeout_s: float = 60.0  # whole download, all hops
    connect_timeout_s: float = 10.0
    max_redirects: int = 5
    allow_hosts: frozenset[str] = field(default_factory=frozenset)
    user_agent: str = "fiscalocr-fetch/1"

    @classmethod
    def from_settings(cls, settings: object) -> FetchLimits:
        """Read limits from the service settings where it defines them (names ``fetch_*``)."""
        defaults = cls()
        hosts: Any = getattr(settings, "fetch_allow_hosts", None) or ()
        if isinstance(hosts, str):
            hosts = [h.strip() for h in hosts.split(",") if h.strip()]
        return cls(
            max_bytes=int(getattr(settings, "fetch_max_bytes", None)
                          or getattr(settings, "max_upload_bytes", None) or defaults.max_bytes),
            timeout_s=float(getattr(settings, "fetch_timeout_s", None) or defaults.timeout_s),
            max_redirects=int(getattr(settings, "fetch_max_redirects", None) or defaults.max_redirects),
            allow_hosts=frozenset(str(h).lower() for h in hosts),
        )


@dataclass(frozen=True)
class FetchResult:
    path: Path
    size: int
    sha256: str
    final_url: str
    content_type: str | None  # as the server claimed it; informational only
    redirects: int


def pinned_request(client: httpx.AsyncClient, method: str, target: ResolvedTarget,
                   **kwargs: Any) -> httpx.Request:
    """A request addressed to the pinned IP that still names the original host (Host header, SNI)."""
    headers = dict(kwargs.pop("headers", None) or {})
    headers["Host"] = target.host_header
    url = httpx.URL(target.url).copy_with(host=target.ip, port=target.port)
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return client.build_request(method, url, headers=headers, extensions=extensions, **kwargs)


def new_client(limits: FetchLimits, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    # trust_env=False: an HTTP(S)_PROXY in the environment must not reroute vetted requests.
    timeout = httpx.Timeout(limits.timeout_s, connect=limits.connect_timeout_s)
    return httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=timeout, transport=transport)


async def fetch_document(url: str, dest_path: Path, *, limits: FetchLimits | None = None,
                         resolver: Resolver | None = None,
                         transport: httpx.AsyncBaseTransport | None = None) -> FetchResult:
    """Download ``url`` to ``dest_path`` (written atomically); raise a FetchError subclass on failure."""
    limits = limits or FetchLimits()
    dest_path = Path(dest_path)
    partial = dest_path.with_name(dest_path.name + ".part")
    started = time.monotonic()
    try:
        async with asyncio.timeout(limits.timeout_s), new_client(limits, transport) as client:
            result = await _follow(client, url, partial, limits, resolver)
    except TimeoutError as exc:
        partial.unlink(missing_ok=True)
        raise FetchTimeoutError(f"download did not finish within {limits.timeout_s:g}s",
                                detail={"timeout_s": limits.timeout_s}) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(dest_path)
    log.info("fetched %s -> %s (%d bytes, %d redirects, %.2fs)", result.final_url.split("?", 1)[0],
             dest_path, result.size, result.redirects, time.monotonic() - started)
    return FetchResult(dest_path, result.size, result.sha256, result.final_url, result.content_type,
                       result.redirects)


async def _follow(client: httpx.AsyncClient, url: str, partial: Path, limits: FetchLimits,
                  resolver: Resolver | None) -> FetchResult:
    current = url
    for hop in range(limits.max_redirects + 1):
        # Off the event loop: the system resolver blocks.
        target = await asyncio.to_thread(check_url, current, resolver=resolver,
                                         allow_hosts=limits.allow_hosts)
        request = pinned_request(client, "GET", target, headers={
            "User-Agent": limits.user_agent, "Accept": "*/*", "Accept-Encoding": "identity"})
        try:
            response = await client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise FetchTimeoutError(f"timed out contacting {target.host}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"could not fetch from {target.host}: {exc!r}",
                             detail={"host": target.host}) from exc
        try:
            if response.status_code in REDIRECT_STATUSES:
                location = response.headers.get("location")
                if not location:
                    raise FetchError(f"redirect {response.status_code} without Location")
                current = urljoin(current, location)
                log.info("fetch redirect %d -> %s", response.status_code, current.split("?", 1)[0])
                continue
            if response.status_code != 200:
                raise FetchError(f"{target.host} answered HTTP {response.status_code}",
                                 detail={"status": response.status_code})
            size, digest = await _stream_to_file(response, partial, limits.max_bytes)
            return FetchResult(partial, size, digest, current, response.headers.get("content-type"), hop)
        finally:
            await response.aclose()
    raise TooManyRedirectsError(f"more than {limits.max_redirects} redirects",
                                detail={"max_redirects": limits.max_redirects})


async def _stream_to_file(response: httpx.Response, partial: Path, max_bytes: int) -> tuple[int, str]:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise TooLargeError(f"document is {int(declared)} bytes; the limit is {max_bytes}",
                            detail={"limit": max_bytes, "declared": int(declared)})
    digest = hashlib.sha256()
    size = 0
    partial.parent.mkdir(parents=True, exist_ok=True)
    with partial.open("wb") as out:
        try:
            async for chunk in response.aiter_bytes(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLargeError(f"document exceeds the limit of {max_bytes} bytes",
                                        detail={"limit": max_bytes, "received": size})
                digest.update(chunk)
                out.write(chunk)
        except httpx.TimeoutException as exc:
            raise FetchTimeoutError(f"timed out while downloading: {exc}") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"download interrupted: {exc!r}") from exc
    return size, digest.hexdigest()


def fetch_document_sync(url: str, dest_path: Path, **kwargs: Any) -> FetchResult:
    """Blocking wrapper for worker code that is not async."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(fetch_document(url, dest_path, **kwargs))
    raise RuntimeError("fetch_document_sync called inside an event loop; await fetch_document")
