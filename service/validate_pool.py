"""Large `/v1/validate` bodies are parsed and checked in a separate process.

Parsing 10 MB of JSON into 180 000 cell objects holds the GIL for about a second (json.loads, then the
garbage collector walking the new objects), whatever thread does it - and the event loop, `/healthz`
included, waits that long. In a child process it costs the loop nothing, and the memory the parse used
is the child's, not the API's. Small bodies stay in a thread (no hop, no child to start)."""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")

IN_PROCESS_MAX_BYTES = 1024 * 1024

class _Pool:
    """The one child process, started on first use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.executor: ProcessPoolExecutor | None = None

    def get(self) -> ProcessPoolExecutor:
        with self.lock:
            if self.executor is None:
                self.executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            return self.executor

    def close(self) -> None:
        with self.lock:
            executor, self.executor = self.executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
            del executor
            gc.collect()  # its queues' semaphores are released when collected, not at exit


_POOL = _Pool()


async def run_sized(work: Callable[[bytes], T], raw: bytes) -> T:
    """``work(raw)`` in a worker thread for small bodies, in the child process for large ones."""
    loop = asyncio.get_running_loop()
    if len(raw) <= IN_PROCESS_MAX_BYTES:
        return await loop.run_in_executor(None, work, raw)
    return await loop.run_in_executor(_POOL.get(), work, raw)


def shutdown() -> None:
    """Stop the child process, if one was started."""
    _POOL.close()
