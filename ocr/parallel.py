"""One document's pages read in worker processes, then assembled as ``ocr.pipeline.extract`` does.

Each worker is a fresh interpreter ("spawn": no inherited threads or open PDF handles) that loads
its OCR models once, on its first OCR'd page, and keeps them for the next pages. Pages finish in
any order; ``assemble`` puts them back in page order, so the result equals the sequential one.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from ocr.contract import Extraction
from ocr.pipeline import (
    ExtractOptions,
    PageResult,
    ProgressCallback,
    assemble,
    extract,
    extract_page,
    inspect_source,
    select_pages,
)


def one_thread_per_worker() -> None:
    """OpenCV's own thread pool off in a page worker: the workers already fill the cores, and each
    one's morphology threads only contend with the other workers for them."""
    import cv2

    cv2.setNumThreads(1)


def extract_with_workers(path: Path, options: ExtractOptions, workers: int,
                         progress: ProgressCallback | None = None) -> Extraction:
    """``extract`` with up to ``workers`` processes; one worker (or one page) runs in this process."""
    if workers <= 1:
        return extract(path, options, progress)
    source = inspect_source(path, options.max_pages)  # opened and hashed once, here
    numbers = select_pages(source.pages, options.pages)
    if len(numbers) == 1:
        result = extract_page(path, numbers[0], options)
        if progress is not None:
            progress(1, 1)
        return assemble(source, [result])
    results: list[PageResult] = []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(numbers)), mp_context=context,
                             initializer=one_thread_per_worker) as pool:
        pending = [pool.submit(extract_page, path, number, options) for number in numbers]
        try:
            for future in as_completed(pending):
                results.append(future.result())  # a page's typed error stops the document, as in extract
                if progress is not None:
                    progress(len(results), len(numbers))
        finally:
            for future in pending:
                future.cancel()
    return assemble(source, results)
