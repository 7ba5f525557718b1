"""Giving memory back: glibc's allocator keeps what a burst of large requests used (the API process grew
from 155 to 557 MB over a hostile-client probe and kept it), and under steady load its heap fragments:
in a 10-minute soak the API's heap in use stayed at ~44 MB while its free-but-kept part grew from 4 to 11 MB
(resident memory +1.8 MB a minute). Large blocks are therefore always mapped on their own (given back
when freed, instead of glibc's adaptive threshold moving them into the heap after the first big free), and
free heap pages are handed back every TRIM_INTERVAL_S."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import threading
import time

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 256 * 1024  # glibc's initial value; fixing it stops the adaptive rise (up to 32 MB)
TRIM_INTERVAL_S = 30.0


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives each thread that allocates its own heap arena and rarely returns their memory: after
    a burst of large bodies the API process kept 400 MB it no longer used. Two arenas bound that. Blocks
    of MMAP_THRESHOLD_BYTES and more get their own mapping, returned to the system when freed."""
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        log.debug("mallopt not available; malloc arenas not limited")
        return
    libc.mallopt(_M_ARENA_MAX, arenas)
    libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def start_periodic_trim(interval_s: float = TRIM_INTERVAL_S) -> threading.Thread:
    """A daemon thread giving free heap pages back every ``interval_s`` (malloc_trim runs without the GIL;
    it takes a few milliseconds on the API's ~50 MB heap)."""
    def trim_forever() -> None:
        while True:
            time.sleep(interval_s)
            release_free_memory()

    thread = threading.Thread(target=trim_forever, name="malloc-trim", daemon=True)
    thread.start()
    return thread


def release_free_memory() -> None:
    """Hand freed heap pages back to the system (glibc keeps them otherwise)."""
    libc = _libc()
    if libc is not None:
        with contextlib.suppress(AttributeError):
            libc.malloc_trim(0)
