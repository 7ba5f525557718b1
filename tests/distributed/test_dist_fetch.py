"""Document download against a real HTTP server on 127.0.0.1, reached through allow-listed names."""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from netguard_fixture import EgressGuard, LocalHTTPServer, fake_resolver, respond
from PIL import Image

from service.fetch import FetchLimits, FetchResult, fetch_document
from service.netguard import FetchError


def _pdf_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (400, 300), 255).save(buffer, format="PDF", resolution=72)
    return buffer.getvalue()


def _fetch(url: str, dest: Path, **limit_kwargs: Any) -> FetchResult:
    limits = FetchLimits(allow_hosts=frozenset({"portal.test"}), **limit_kwargs)
    return asyncio.run(fetch_document(url, dest, limits=limits, resolver=fake_resolver))


def _fetch_error(url: str, dest: Path, **limit_kwargs: Any) -> FetchError:
    with pytest.raises(FetchError) as info:
        _fetch(url, dest, **limit_kwargs)
    assert not dest.exists() and not dest.with_name(dest.name + ".part").exists()
    return info.value


def _redirect(to: str) -> object:
    def handler(h: BaseHTTPRequestHandler) -> None:
        respond(h, 302, headers={"Location": to})
    return handler


def test_download_through_allow_listed_name(http_server: LocalHTTPServer, tmp_path: Path) -> None:
    pdf = _pdf_bytes()
    http_server.routes[("GET", "/doc.pdf")] = lambda h: respond(h, 200, pdf, {"Content-Type": "text/html"})
    result = _fetch(http_server.url("/doc.pdf?token=abc", host="portal.test"), tmp_path / "doc.pdf")
    assert result.path.read_bytes() == pdf
    assert result.size == len(pdf) and result.sha256 == hashlib.sha256(pdf).hexdigest()
    assert result.content_type == "text/html"  # reported, not trusted: the caller sniffs bytes
    seen = http_server.log[-1]
    assert seen["headers"]["Host"] == f"portal.test:{http_server.port}"
    assert seen["path"] == "/doc.pdf?token=abc"


def test_redirect_within_allow_list_is_followed(http_server: LocalHTTPServer, tmp_path: Path) -> None:
    pdf = _pdf_bytes()
    http_server.routes[("GET", "/doc.pdf")] = lambda h: respond(h, 200, pdf)
    http_server.routes[("GET", "/old")] = _redirect("/doc.pdf")  # type: ignore[assignment]
    result = _fetch(http_server.url("/old", host="portal.test"), tmp_path / "d.pdf")
    assert result.redirects == 1 and result.path.read_bytes() == pdf


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{port}/doc.pdf",  # loopback literal, not allow-listed
    "http://evil.example:{port}/doc.pdf",  # name resolving to loopback
    "http://10.0.0.5/doc.pdf",
    "http://internal.example/x",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.example/latest/meta-data/",
    "http://2130706433:{port}/doc.pdf",
    "http://0x7f.1:{port}/doc.pdf",
])
def test_refused_before_connecting(http_server: LocalHTTPServer, tmp_path: Path, url: str,
                                   egress_guard: EgressGuard) -> None:
    http_server.routes[("GET", "/doc.pdf")] = lambda h: respond(h, 200, b"%PDF-1.4")
    error = _fetch_error(url.format(port=http_server.port), tmp_path / "x.pdf")
    assert error.code == "fetch_refused_address"
    assert http_server.log == []  # nothing reached even the local server
    assert egress_guard.violations == []


@pytest.mark.parametrize("target", [
    "http://internal.example/x", "http://169.254.169.254/latest/meta-data/", "http://metadata.example/",
    "http://127.0.0.1:{port}/doc.pdf", "http://[::ffff:10.0.0.1]/", "http://0xa9fea9fe/",
])
def test_redirect_to_forbidden_address_is_refused(http_server: LocalHTTPServer, tmp_path: Path,
                                                  target: str) -> None:
    http_server.routes[("GET", "/doc.pdf")] = lambda h: respond(h, 200, b"%PDF-1.4")
    http_server.routes[("GET", "/go")] = _redirect(target.format(port=http_server.port))  # type: ignore[assignment]
    error = _fetch_error(http_server.url("/go", host="portal.test"), tmp_path / "x.pdf")
    assert error.code == "fetch_refused_address"
    assert [entry["path"] for entry in http_server.log] == ["/go"]


def test_redirect_loop_is_bounded(http_server: LocalHTTPServer, tmp_path: Path) -> None:
    http_server.routes[("GET", "/loop")] = _redirect("/loop")  # type: ignore[assignment]
    error = _fetch_error(http_server.url("/loop", host="portal.test"), tmp_path / "x.pdf", max_redirects=3)
    assert error.code == "fetch_too_many_redirects"
    assert len(http_server.log) == 4  # the first request + 3 redirects followed


def test_size_cap_on_declared_length(http_server: LocalHTTPServer, tmp_path: Path) -> None:
    http_server.routes[("GET", "/big")] = lambda h: respond(h, 200, b"%PDF" + b"0" * 300_000)
    error = _fetch_error(http_server.url("/big", host="portal.test"), tmp_path / "x.pdf", max_bytes=100_000)
    assert error.code == "fetch_too_large" and error.detail["declared"] == 300_004


def test_size_cap_aborts_a_chunked_stream_early(http_server: LocalHTTPServer, tmp_path: Path) -> None:
    total_offered = 200 * 1024 * 1024
    sent = {"bytes": 0}

    def endless(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        chunk = b"x" * 65536
        try:
            while sent["bytes"] < total_offered:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent["bytes"] += len(chunk)
            h.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    http_server.routes[("GET", "/stream")] = endless
    started = time.monotonic()
    url = http_server.url("/stream", host="portal.test")
    error = _fetch_error(url, tmp_path / "x.pdf", max_bytes=1_000_000)
    assert error.code == "fetch_too_large"
    assert time.monotonic() - started < 5
    time.sleep(0.2)  # let the server thread notice the closed socket
    assert sent["bytes"] < 32 * 1024 * 1024, "the client kept reading long past the cap"


def test_slow_server_times_out(http_server: LocalHTTPServer, tmp_path: Path) -> None:
    def slow(h: BaseHTTPRequestHandler) -> None:
        time.sleep(3)
        respond(h, 200, b"%PDF-1.4")

    http_server.routes[("GET", "/slow")] = slow
    started = time.monotonic()
    error = _fetch_error(http_server.url("/slow", host="portal.test"), tmp_path / "x.pdf", timeout_s=0.5)
    assert error.code == "fetch_timeout"
    assert time.monotonic() - started < 2.5


def test_http_error_status_is_fetch_failed(http_server: LocalHTTPServer, tmp_path: Path) -> None:
    error = _fetch_error(http_server.url("/missing", host="portal.test"), tmp_path / "x.pdf")
    assert error.code == "fetch_failed" and error.detail["status"] == 404


def test_closed_port_is_fetch_failed(tmp_path: Path) -> None:
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    error = _fetch_error(f"http://portal.test:{port}/x", tmp_path / "x.pdf")
    assert error.code == "fetch_failed"
