"""``fiscalocr`` command line: serve, worker, keys, settings, extract, validate, openapi.

Typed errors print ``error [code]: message`` on stderr and exit 2 (bad input) or 3 (environment:
missing engine, fiscal layer, database); never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ocr.errors import FiscalOCRError, InputError, InvalidPageRangeError
from service.errors import ErrorCode, ServiceError

log = logging.getLogger("fiscalocr.cli")

EXIT_INPUT = 2
EXIT_ENVIRONMENT = 3
_INPUT_SERVICE_CODES = {ErrorCode.validation_error, ErrorCode.bad_request, ErrorCode.unsupported_format,
                        ErrorCode.payload_too_large, ErrorCode.not_found}


def parse_pages(spec: str | None) -> tuple[int, ...] | None:
    """'1-5,7' -> (1, 2, 3, 4, 5, 7); None or '' -> all pages."""
    if not spec:
        return None
    pages: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.strip().partition("-")
        try:
            start, end = int(first), int(last or first)
        except ValueError as exc:
            raise InvalidPageRangeError(f"invalid page range {spec!r}: use e.g. 1-5,7") from exc
        if start < 1 or end < start or end - start > 100_000:
            raise InvalidPageRangeError(f"invalid page range {part.strip()!r} in {spec!r}")
        pages.update(range(start, end + 1))
    return tuple(sorted(pages))


def _settings(**overrides: Any) -> Any:
    from service.settings import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def _default(name: str) -> object:
    from service.settings import Settings

    return Settings.model_fields[name].default


def cmd_serve(args: argparse.Namespace) -> int:
    from service.app import create_app
    from service.server import serve

    settings = _settings(data_dir=args.data_dir, workers=args.workers)
    serve(create_app(settings), settings, args.host, args.port)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings.runner != "celery":
        raise ServiceError(ErrorCode.bad_request, "`fiscalocr worker` runs the Celery worker: set "
                           "FISCALOCR_RUNNER=celery (the embedded runner works inside `fiscalocr serve`)")
    from service.celery_app import run_worker

    run_worker(args.concurrency or settings.workers, loglevel=settings.log_level)
    return 0


def cmd_keys_create(args: argparse.Namespace) -> int:
    from service.auth import create_key
    from service.db import make_engine, session_scope, upgrade

    settings = _settings(data_dir=args.data_dir)
    upgrade(settings.db_url)
    engine = make_engine(settings.db_url)
    with session_scope(engine) as session:
        key, row = create_key(session, args.tenant, args.name)
    engine.dispose()
    print(f"tenant: {args.tenant}")
    print(f"key id: {row.id} (for `fiscalocr keys revoke`)")
    print(f"key name: {row.name}")
    print("the key is shown once; store it now:")
    print(key)
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    from service.auth import revoke_key
    from service.db import make_engine, session_scope, upgrade

    settings = _settings(data_dir=args.data_dir)
    upgrade(settings.db_url)
    engine = make_engine(settings.db_url)
    try:
        with session_scope(engine) as session:
            row, newly = revoke_key(session, args.key_id)
    finally:
        engine.dispose()
    if row is None:
        raise ServiceError(ErrorCode.not_found, f"no API key with id {args.key_id}")
    print(f"key {row.id} ({row.name}, {row.prefix}…) {'revoked' if newly else 'was already revoked'}")
    return 0


def cmd_settings(_: argparse.Namespace) -> int:
    from service.settings import Settings, describe

    for line in describe(Settings()):
        print(line)
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from fiscal.lexicon import fiscal_lexicon
    from ocr import pipeline
    from ocr.parallel import extract_with_workers

    defaults = pipeline.ExtractOptions()
    options = pipeline.ExtractOptions(engine=args.engine or defaults.engine, dpi=args.dpi or defaults.dpi,
                                      pages=parse_pages(args.pages), debug_dir=args.debug_dir,
                                      lexicon=None if args.no_lexicon else fiscal_lexicon(),
                                      ocr=args.ocr, trust_invisible_text=args.trust_invisible_text)

    previous = _previous_report(args.previous, options) if args.previous else None

    workers = args.workers or os.cpu_count() or 1

    def extract_one(path: Path, progress: Callable[[int, int], None]) -> dict[str, Any]:
        extraction = extract_with_workers(path, options, workers, progress)
        if not args.no_validate:
            from service import fiscal_bridge

            extraction = fiscal_bridge.enrich(extraction)
            if previous is not None:
                extraction = _with_year_over_year(extraction, previous)
        return extraction.model_dump(mode="json")

    if len(args.file) == 1 and not Path(args.file[0]).is_dir():
        path = Path(args.file[0])
        if not path.is_file():
            raise InputError(f"no such file: {path}")
        started = time.monotonic()
        bar = _page_bar(path)
        result = extract_one(path, bar)
        _write_json(args.out, result)
        _summary(path.name, result, time.monotonic() - started)
        return 0
    return _extract_many(args.file, Path(args.out), extract_one)


def _page_bar(path: Path) -> Callable[[int, int], None]:
    """Pages done: a bar redrawn in place on a terminal, a log line per page otherwise."""
    from service.cli_batch import ProgressBar

    bar = ProgressBar(1)

    def progress(done: int, total: int) -> None:
        if bar.live:
            bar.page(path.name, done, total)
        else:
            log.info("page %d/%d", done, total)

    return progress


def _summary(name: str, result: dict[str, Any], seconds: float) -> None:
    """One line on stderr: what was found and how long it took."""
    severities = Counter(finding["severity"] for finding in result.get("findings", []))
    counts = ", ".join(f"{severities[s]} {s}" for s in ("error", "warning", "info"))
    end = "\r" if sys.stderr.isatty() else ""
    print(f"{end}{name}: {len(result.get('pages', []))} pages, {len(result.get('tables', []))} tables, "
          f"{len(result.get('records', []))} records, findings: {counts}; {seconds:.1f} s", file=sys.stderr)


def _previous_report(path_text: str, options: Any) -> Any:
    """The same department's report of the previous year, read with the same options."""
    from ocr import pipeline

    path = Path(path_text)
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    return pipeline.extract(path, options)


def _with_year_over_year(extraction: Any, previous: Any) -> Any:
    """Findings where this year's stated changes do not lead to last year's printed figures."""
    from fiscal.yoy import compare_years

    findings, checks = compare_years(extraction, previous)
    log.info("year over year: %d comparisons, %d disagree", len(checks), len(findings))
    return extraction.model_copy(update={"findings": [*extraction.findings, *findings]})


def _extract_many(arguments: list[str], out_dir: Path,
                  extract_one: Callable[[Path, Callable[[int, int], None]], dict[str, Any]]) -> int:
    """Several files or a folder: --out is a folder, one JSON per document, a progress bar."""
    from service.cli_batch import ProgressBar, collect_inputs, extract_many

    documents, skipped = collect_inputs(arguments)
    for path in skipped:
        print(f"skipped (not a PDF/PNG/JPEG/TIFF): {path}", file=sys.stderr)
    if not documents:
        raise InputError("no PDF or image among the given files and folders")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out must be a folder when extracting several documents: {out_dir}")
    failures = extract_many(documents, out_dir, extract_one, ProgressBar(len(documents)))
    print(f"extracted {len(documents) - len(failures)}/{len(documents)} documents into {out_dir}",
          file=sys.stderr)
    return EXIT_INPUT if failures else 0


def cmd_validate(args: argparse.Namespace) -> int:
    from ocr.contract import Extraction, Source
    from service import fiscal_bridge
    from service.limits import check_tables
    from service.schemas import TablesOnly

    path = Path(args.tables)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    if isinstance(data, dict) and "source" not in data:
        tables = TablesOnly.model_validate(data).tables
        extraction = Extraction(source=Source(filename=path.name, sha256="", pages=0), tables=tables)
    else:
        extraction = Extraction.model_validate(data)
    check_tables(extraction.tables)
    _write_json(args.out, fiscal_bridge.enrich(extraction).model_dump(mode="json"))
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from service import openapi

    if args.check:
        current = openapi.COMMITTED.read_text(encoding="utf-8") if openapi.COMMITTED.is_file() else ""
        if current != openapi.render():
            print(f"{openapi.COMMITTED} is out of date: run `fiscalocr openapi`", file=sys.stderr)
            return 1
        return 0
    if args.out == "-":
        sys.stdout.write(openapi.render())
    else:
        print(openapi.write(Path(args.out) if args.out else openapi.COMMITTED))
    return 0


def _write_json(out: str | None, data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if not out or out == "-":
        sys.stdout.write(text)
    else:
        Path(out).write_text(text, encoding="utf-8")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fiscalocr", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _add_service_commands(sub)
    _add_extract_command(sub)
    _add_tool_commands(sub)
    return parser


def _add_service_commands(sub: Any) -> None:
    """serve, worker, keys, settings: running and administering the service."""
    serve = sub.add_parser("serve", help="run the HTTP API (embedded worker pool by default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--data-dir", type=Path, help="overrides FISCALOCR_DATA_DIR")
    serve.add_argument("--workers", type=int, help="page worker processes (default: cores)")
    serve.set_defaults(handler=cmd_serve)

    worker = sub.add_parser("worker", help="run the Celery worker (FISCALOCR_RUNNER=celery)")
    worker.add_argument("--concurrency", type=int)
    worker.set_defaults(handler=cmd_worker)

    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="keys_command", required=True)
    create = keys.add_parser("create", help="create an API key (printed alone on the last line)")
    create.add_argument("--tenant", required=True)
    create.add_argument("--name", help="label of the key, recorded as the author of corrections")
    create.add_argument("--data-dir", type=Path, help="overrides FISCALOCR_DATA_DIR")
    create.set_defaults(handler=cmd_keys_create)
    revoke = keys.add_parser("revoke", help="revoke an API key: its requests get 401 from now on")
    revoke.add_argument("key_id", metavar="KEY_ID", type=int, help="the id printed by `keys create`")
    revoke.add_argument("--data-dir", type=Path, help="overrides FISCALOCR_DATA_DIR")
    revoke.set_defaults(handler=cmd_keys_revoke)

    settings = sub.add_parser("settings", help="list every FISCALOCR_* setting with its current value")
    settings.set_defaults(handler=cmd_settings)


def _add_extract_command(sub: Any) -> None:
    extract = sub.add_parser("extract", help="report file(s) -> Extraction JSON (with records and findings)")
    extract.add_argument("file", nargs="+", help="a file; or several files and/or folders (batch)")
    extract.add_argument("--out", "-o", required=True,
                         help="output JSON file ('-' for stdout); a folder for several files or a folder")
    extract.add_argument("--engine", choices=["rapidocr", "tesseract"],
                         help=f"OCR engine (default: FISCALOCR_ENGINE, else {_default('engine')}; "
                              "rapidocr reads Chinese cells better, tesseract is faster), for the pages "
                              "read by OCR")
    extract.add_argument("--dpi", type=int, metavar="N",
                         help=f"resolution pages are rasterised at (default: FISCALOCR_DPI, else "
                              f"{_default('dpi')})")
    extract.add_argument("--pages", help="e.g. 1-5,7 (default: all)")
    extract.add_argument("--workers", type=int, metavar="N",
                         help="pages read in N worker processes, each loading the OCR models once "
                              "(default: the machine's cores; 1: in this process)")
    extract.add_argument("--debug-dir", type=Path)
    extract.add_argument("--ocr", choices=["auto", "always", "never"], default="auto",
                         help="auto (default): read each PDF page's text layer where it is trustworthy and "
                              "OCR the rest; always: OCR every page; never: text layers only")
    extract.add_argument("--previous", metavar="PREV_FILE",
                         help="the same department's report of the previous year: check this year's "
                              "stated changes and carried-over balances against it (N.PRIOR)")
    extract.add_argument("--trust-invisible-text", action="store_true",
                         help="read an invisible text layer over a scan (another tool's OCR) instead of "
                              "OCR'ing the page image")
    extract.add_argument("--no-validate", action="store_true", help="skip the fiscal layer")
    extract.add_argument("--no-lexicon", action="store_true",
                         help="keep every label as read (no correction against the fiscal vocabulary)")
    extract.set_defaults(handler=cmd_extract)


def _add_tool_commands(sub: Any) -> None:
    """validate and openapi: the fiscal layer on given tables, the API's published description."""
    validate = sub.add_parser("validate", help="Extraction JSON (or {'tables': [...]}) -> records + findings")
    validate.add_argument("tables")
    validate.add_argument("--out", "-o", help="output JSON file (default stdout)")
    validate.set_defaults(handler=cmd_validate)

    spec = sub.add_parser("openapi", help="write openapi/openapi.json from the app")
    spec.add_argument("--out", help="path, or '-' for stdout (default: the committed file)")
    spec.add_argument("--check", action="store_true", help="exit 1 if the committed file is out of date")
    spec.set_defaults(handler=cmd_openapi)


def _exit_code(code: str, is_input: bool) -> int:
    return EXIT_INPUT if is_input or code in _INPUT_SERVICE_CODES else EXIT_ENVIRONMENT


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from service.logs import configure_logging

    serving = args.command in ("serve", "worker")
    configure_logging("INFO", json_logs=serving)
    if not serving:  # migration chatter is noise around a one-shot command's output
        logging.getLogger("alembic").setLevel(logging.WARNING)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except FiscalOCRError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return _exit_code(exc.code, isinstance(exc, InputError))
    except ServiceError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return _exit_code(exc.code, False)
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"error [validation_error]: {exc.error_count()} problem(s), first at "
              f"{'.'.join(map(str, first['loc']))}: {first['msg']}", file=sys.stderr)
        return EXIT_INPUT
    except (OSError, NotImplementedError) as exc:
        print(f"error [environment]: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except KeyboardInterrupt:
        return 130


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
