"""One benchmark configuration in its own process: read every input, write predictions and timings.

Run as ``python -m bench.worker --system fiscalocr|img2table --engine E --dpi D --inputs IN --out OUT``.
A fresh process per configuration keeps model caches, memory peaks and warm-ups of one
configuration from leaking into another; the parent reads the peak RSS of exactly this child.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import resource
import sys
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def _run_fiscalocr(path: Path, engine: str, dpi: int, lexicon: bool) -> tuple[dict[str, Any], list[float]]:
    from fiscal.lexicon import fiscal_lexicon
    from ocr.pipeline import ExtractOptions, extract

    stamps = [time.perf_counter()]
    extraction = extract(
        path,
        ExtractOptions(engine=engine, dpi=dpi, lexicon=fiscal_lexicon() if lexicon else None),
        progress=lambda done, total: stamps.append(time.perf_counter()),
    )
    return extraction.model_dump(mode="json"), [b - a for a, b in itertools.pairwise(stamps)]


def _run_one(system: str, path: Path, engine: str, dpi: int,
             lexicon: bool) -> tuple[dict[str, Any], list[float]]:
    if system == "fiscalocr":
        return _run_fiscalocr(path, engine, dpi, lexicon)
    if system == "img2table":
        from bench.peer import run_img2table

        return run_img2table(path, dpi)
    raise ValueError(f"unknown system {system!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("--system", required=True)
    parser.add_argument("--engine", default="")
    parser.add_argument("--dpi", type=int, required=True)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--no-lexicon", action="store_true", help="labels as read, no vocabulary correction")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    inputs = json.loads(Path(args.inputs).read_text(encoding="utf-8"))
    results: dict[str, Any] = {}
    started = time.perf_counter()
    for item in inputs:
        begin = time.perf_counter()
        try:
            extraction, page_seconds = _run_one(args.system, Path(item["path"]), args.engine, args.dpi,
                                                    not args.no_lexicon)
            results[item["key"]] = {"extraction": extraction, "page_seconds": page_seconds, "error": None}
        except Exception as error:  # a failing document is a result, not the end of the benchmark
            code = getattr(error, "code", type(error).__name__)
            log.warning("%s failed on %s: %s", args.system, item["key"], error)
            results[item["key"]] = {
                "extraction": None,
                "page_seconds": [time.perf_counter() - begin],
                "error": f"{code}: {str(error)[:200]}",
            }
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    Path(args.out).write_text(
        json.dumps(
            {
                "results": results,
                "wall_s": time.perf_counter() - started,
                "peak_rss_self_kb": peak_self,
                "peak_rss_children_kb": peak_children,
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
