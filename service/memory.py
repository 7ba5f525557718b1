"""Giving memory back: glibc's allocator keeps what a burst of large requests used (the API process grew
from 155 to 557 MB over a hostile-client probe and kept it)."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

_M_ARENA_MAX = -8


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
    a burst of large bodies the API process kept 400 MB it no longer used. Two arenas bound that."""
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        log.debug("mallopt not available; malloc arenas not limited")
        return
    libc.mallopt(_M_ARENA_MAX, arenas)


def release_free_memory() -> None:
    """Hand freed heap pages back to the system (glibc keeps them otherwise)."""
    libc = _libc()
    if libc is not None:
        with contextlib.suppress(AttributeError):
            libc.malloc_trim(0)
