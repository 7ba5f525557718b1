"""Pages read in worker processes give exactly the sequential result, in page order."""

from __future__ import annotations

from pathlib import Path

from ocr_pages import DPI

from ocr.parallel import extract_with_workers
from ocr.pipeline import ExtractOptions, extract


def test_two_workers_give_the_sequential_extraction(multipage_pdf: Path) -> None:
    options = ExtractOptions(dpi=DPI)
    done: list[tuple[int, int]] = []
    parallel = extract_with_workers(multipage_pdf, options, 2, lambda d, t: done.append((d, t)))
    sequential = extract(multipage_pdf, options)
    assert parallel.model_dump() == sequential.model_dump()
    assert [p.number for p in parallel.pages] == [1, 2, 3]
    assert done == [(1, 3), (2, 3), (3, 3)]


def test_one_worker_or_one_page_runs_in_this_process(multipage_pdf: Path) -> None:
    options = ExtractOptions(dpi=DPI, pages=(2,))
    alone = extract_with_workers(multipage_pdf, options, 4)
    assert alone.model_dump() == extract(multipage_pdf, options).model_dump()
