"""A deliberately rude HTTP client for the hostile-client suite: raw sockets to a real server on
127.0.0.1, so lying lengths, chunked floods, slow headers and cut-off bodies reach the server as sent."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MB = 1024 * 1024


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float
    closed: bool = False  # the server closed the connection after answering

    def json(self) -> Any:
        return json.loads(self.body)


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def chunked(total: int, piece: int = MB) -> Iterator[bytes]:
    """A chunked transfer-encoded body of ``total`` bytes (no Content-Length: nothing to check up front)."""
    sent = 0
    block = b"[" * piece
    while sent < total:
        size = min(piece, total - sent)
        yield b"%x\r\n" % size + block[:size] + b"\r\n"
        sent += size
    yield b"0\r\n\r\n"


def exchange(port: int, head: bytes, body: Iterable[bytes] = (), *, timeout: float = 30.0,
             pause_after_head: float = 0.0) -> Answer:
    """Send ``head`` and then ``body`` pieces; read one answer. A reset while sending is not hidden:
    the suite asserts the answer arrives (the early-answer fault was exactly such a reset)."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        if pause_after_head:
            time.sleep(pause_after_head)
        for piece in body:
            sock.sendall(piece)
        return read_answer(sock, start)


def read_answer(sock: socket.socket, start: float) -> Answer:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            raise ConnectionError(f"connection closed without an answer after {data!r}")
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        rest += piece
    closed = headers.get("connection", "").lower() == "close"
    return Answer(int(status_line.split()[1]), headers, rest[:length], time.monotonic() - start, closed)


def multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = "hostileboundary",
              close: bool = True) -> bytes:
    """(name, filename, content) parts as a multipart body; ``close=False`` leaves out the closing
    boundary (a body cut off in transit)."""
    out = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += (f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + b"\r\n"
    if close:
        out += f"--{boundary}--\r\n".encode()
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class MemoryWatch:
    """Samples a process's resident memory in a thread; ``peak`` is the largest sample."""

    pid: int
    interval: float = 0.1
    samples: list[tuple[float, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            if not Path(f"/proc/{self.pid}").exists():
                return
            self.samples.append((time.monotonic() - start, rss_mb(self.pid)))
            time.sleep(self.interval)

    @property
    def peak(self) -> float:
        return max((mb for _, mb in self.samples), default=0.0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
