"""The API process gives freed memory back (service/memory.py): the soak's slow growth was glibc keeping
freed heap, not live objects."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# One big block freed makes glibc raise its mmap threshold to that size; the 1 MB blocks after it then
# come from the heap, pinned there by the small blocks that outlive them, and stay resident when freed.
PROBE = textwrap.dedent("""
    import sys
    from service.memory import limit_malloc_arenas

    def rss_mb():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

    if sys.argv[1] == "tuned":
        limit_malloc_arenas()
    big = bytearray(16 * 2**20)
    del big
    base = rss_mb()
    blocks, pins = [], []
    for _ in range(100):
        blocks.append(bytearray(2**20))
        pins.append(bytearray(600))
    del blocks
    print(rss_mb() - base)
""")


def _kept_mb(mode: str) -> float:
    result = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=ROOT, capture_output=True, text=True,
                            check=True, timeout=60)
    return float(result.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc allocator")
def test_freed_large_blocks_are_given_back_after_a_big_one() -> None:
    assert _kept_mb("plain") > 50  # the probe shows the fault: glibc's adaptive threshold keeps them
    assert _kept_mb("tuned") < 20


def test_periodic_trim_runs_in_a_daemon_thread() -> None:
    from service.memory import start_periodic_trim

    thread = start_periodic_trim(0.01)
    assert thread.daemon and thread.is_alive()


def test_sqlite_pool_opens_whole_with_bounded_page_caches(tmp_path: Path) -> None:
    """The soak's API memory crept up while the pool opened connection after connection under load, each
    with SQLite's default 2 MB page cache filling as the data grew (40 connections: up to 80 MB)."""
    from service import db

    engine = db.make_engine(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=4)
    db.open_sqlite_pool(engine, 4)
    assert engine.pool.checkedin() == 4  # type: ignore[attr-defined]
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -db.SQLITE_CACHE_KIB
    assert db.SQLITE_CACHE_KIB * 40 <= 8 * 1024  # the API's 40 connections stay within 8 MB
    engine.dispose()
