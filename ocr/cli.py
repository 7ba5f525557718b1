"""Command line of the extraction core: ``python -m ocr extract|schema``.

Reusable pieces for other CLIs (the umbrella ``fiscalocr`` command):

    add_extract_arguments(parser: argparse.ArgumentParser) -> None
        Adds FILE, --out, --engine, --dpi, --pages, --debug-dir to ``parser``.
    run_extract(args: argparse.Namespace) -> int
        Runs the extraction those arguments describe, writes the contract JSON
        (to --out, or stdout), reports typed errors on stderr as
        ``error [<code>]: <message>`` and returns the exit status:
        0 ok, 2 input error (InputError codes), 3 any other failure. Never raises.
    parse_page_spec(spec: str) -> tuple[int, ...]
        "1-5,7" -> (1, 2, 3, 4, 5, 7); raises InvalidPageRangeError.
    ocr.contract_schema() -> dict[str, object]
        JSON Schema of the Extraction contract (also ``python -m ocr schema``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from ocr import contract_schema
from ocr.engines import ENGINE_NAMES
from ocr.errors import FiscalOCRError, InputError, InvalidPageRangeError
from ocr.pipeline import ExtractOptions, extract
from ocr.source import OCR_MODES

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INPUT_ERROR = 2
EXIT_FAILURE = 3
_MAX_PAGE_NUMBER = 100_000


def parse_page_spec(spec: str) -> tuple[int, ...]:
    """Parse "1-5,7" into sorted unique 1-based page numbers."""
    pages: set[int] = set()
    for raw in spec.split(","):
        part = raw.strip()
        if not part:
            continue
        first, sep, last = part.partition("-")
        try:
            start = int(first)
            end = int(last) if sep else start
        except ValueError as exc:
            raise InvalidPageRangeError(f"bad page range {part!r} in {spec!r}") from exc
        if start < 1 or end < start or end > _MAX_PAGE_NUMBER:
            raise InvalidPageRangeError(f"bad page range {part!r} in {spec!r}")
        pages.update(range(start, end + 1))
    if not pages:
        raise InvalidPageRangeError(f"no pages in {spec!r}")
    return tuple(sorted(pages))


def add_extract_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = ExtractOptions()
    parser.add_argument("file", type=Path, help="PDF, PNG, JPEG or TIFF (detected by content)")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here (default: stdout)")
    parser.add_argument("--engine", choices=ENGINE_NAMES, default=defaults.engine)
    parser.add_argument("--dpi", type=int, default=defaults.dpi,
                        help=f"PDF raster resolution (default {defaults.dpi})")
    parser.add_argument("--pages", default=None, help="pages to read, e.g. 1-5,7 (default: all)")
    parser.add_argument("--debug-dir", type=Path, default=None, help="write grid/text overlay PNGs here")
    parser.add_argument("--ocr", choices=OCR_MODES, default=defaults.ocr,
                        help="auto: each PDF page's text layer where trustworthy, OCR elsewhere; "
                             "always: OCR every page; never: text layers only (default auto)")
    parser.add_argument("--trust-invisible-text", action="store_true",
                        help="read an invisible text layer over a scan instead of OCR'ing the image")


def run_extract(args: argparse.Namespace) -> int:
    try:
        pages = parse_page_spec(args.pages) if args.pages else None
        if not 50 <= args.dpi <= 1200:
            raise InputError(f"--dpi {args.dpi} is outside 50-1200")
        options = ExtractOptions(engine=args.engine, dpi=args.dpi, pages=pages, debug_dir=args.debug_dir,
                                 ocr=args.ocr, trust_invisible_text=args.trust_invisible_text)
        result = extract(args.file, options)
        payload = result.model_dump_json(indent=2)
        if args.out is None:
            sys.stdout.write(payload + "\n")
        else:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(payload + "\n", encoding="utf-8")
    except FiscalOCRError as exc:
        sys.stderr.write(f"error [{exc.code}]: {exc.message}\n")
        return EXIT_INPUT_ERROR if isinstance(exc, InputError) else EXIT_FAILURE
    except OSError as exc:
        sys.stderr.write(f"error [io_error]: {exc}\n")
        return EXIT_FAILURE
    except Exception as exc:  # the CLI promises a code, never a traceback
        log.debug("unexpected failure", exc_info=True)
        sys.stderr.write(f"error [internal_error]: {type(exc).__name__}: {exc}\n")
        return EXIT_FAILURE
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ocr", description="Scanned tables -> extraction JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True)
    add_extract_arguments(commands.add_parser("extract", help="read the tables of a PDF or image"))
    commands.add_parser("schema", help="print the JSON Schema of the extraction contract")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse reports usage errors itself
        return EXIT_INPUT_ERROR if exc.code else EXIT_OK
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(message)s")
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged files are reported by our own error
    if args.command == "schema":
        sys.stdout.write(json.dumps(contract_schema(), indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    return run_extract(args)
