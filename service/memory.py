"""Giving memory back: glibc's allocator keeps what a burst of large requests used (the API process grew
from 155 to 557 MB over a hostile-client probe and kept it), and under steady load its heap fragments:
in a 10-minute soak the API's heap in use stayed at ~44 MB while its free-but-kept part grew from 4 to 11 MB
(resident memory +1.8 MB a minute). Large blocks are therefore always mapped on their own (given back
when freed, instead of glibc's adaptive threshold moving them into the heap after the first big free), and
free heap pages are handed back every TRIM_INTERVAL_S."""

from __future__ import annotations

import logging
import threading
import time

from ocr.allocator import MMAP_THRESHOLD_BYTES, limit_malloc_arenas, release_free_memory

__all__ = ["MMAP_THRESHOLD_BYTES", "TRIM_INTERVAL_S", "limit_malloc_arenas", "release_free_memory",
           "start_periodic_trim"]

log = logging.getLogger(__name__)

TRIM_INTERVAL_S = 30.0


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
