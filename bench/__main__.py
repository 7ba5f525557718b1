"""CLI: ``python -m bench generate --out DIR`` and ``python -m bench run --corpus DIR``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def _generate(args: argparse.Namespace) -> int:
    from bench.corpus import corpus_specs, generate

    manifest = generate(corpus_specs(args.size), Path(args.out), args.seed)
    print(f"wrote {manifest}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from bench.run import RunConfig, format_report, run_benchmark

    config = RunConfig(
        corpus=Path(args.corpus),
        engines=tuple(e for e in args.engines.split(",") if e),
        dpis=tuple(int(d) for d in args.dpi.split(",") if d),
        peers=tuple(p for p in args.peer.split(",") if p),
        limit=args.limit,
        ctdar=not args.no_ctdar,
        realscans=not args.no_realscans,
        overlays=Path(args.overlays) if args.overlays else None,
        lexicon=not args.no_lexicon,
        misses=Path(args.misses) if args.misses else None,
    )
    report = run_benchmark(config)
    print(format_report(report))
    if args.json:
        import json

        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


def _report(args: argparse.Namespace) -> int:
    """Merge the configurations of several ``run --json`` reports (same corpus) into one table."""
    import json

    from bench.run import format_report

    reports = [json.loads(Path(p).read_text(encoding="utf-8")) for p in args.reports]
    merged = dict(reports[0])
    merged["configurations"] = [row for report in reports for row in report["configurations"]]
    print(format_report(merged))
    if args.json:
        Path(args.json).write_text(json.dumps(merged, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


def _digital(args: argparse.Namespace) -> int:
    from bench.digital import run

    pdfs = [Path(p) for p in args.pdfs]
    pdfs = [q for p in pdfs for q in (sorted(p.glob("*.pdf")) if p.is_dir() else [p])]
    print(run(pdfs, with_ocr=args.ocr_path))
    if args.service:
        from bench.digital import service_seconds

        print("\n| report | CLI s (extract + validate) | service s (upload -> job succeeded) |")
        print("|---|---|---|")
        for name, cli, service in service_seconds(pdfs):
            print(f"| {name} | {cli:.2f} | {service:.2f} |")
    return 0


def _mutate(args: argparse.Namespace) -> int:
    from bench.mutate import run

    pdfs = [Path(p) for p in args.pdfs]
    pdfs = [q for p in pdfs for q in (sorted(p.glob("*.pdf")) if p.is_dir() else [p])]
    print(run(pdfs, progress=lambda name: print(f"done: {name}", file=sys.stderr)))
    return 0


def _verdicts(args: argparse.Namespace) -> int:
    from bench.verdicts import run

    pdfs = [Path(p) for p in args.pdfs]
    pdfs = [q for p in pdfs for q in (sorted(p.glob("*.pdf")) if p.is_dir() else [p])]
    misses = Path(args.misses) if args.misses else None
    if misses is not None:
        misses.write_text("", encoding="utf-8")
    print(run(pdfs, args.dpi, args.workers, on_row=lambda row: print(row, file=sys.stderr, flush=True),
              misses=misses))
    return 0


def _recognisers(args: argparse.Namespace) -> int:
    from bench.recognisers import build, report, score

    if args.build:
        pdfs = [Path(p) for p in args.build]
        pdfs = [q for p in pdfs for q in (sorted(p.glob("*.pdf")) if p.is_dir() else [p])]
        print(f"{build(pdfs, args.dpi, Path(args.dataset))} cells", file=sys.stderr)
    scores = [score(Path(args.dataset), None)] + [score(Path(args.dataset), Path(m)) for m in args.model]
    print(report(scores))
    for result in scores:
        print(f"\n{result.model}: first misses (truth -> read): "
              + "; ".join(f"{a} -> {b}" for a, b in result.misses[:25]))
    return 0


def _speed(args: argparse.Namespace) -> int:
    import multiprocessing
    import tempfile
    from concurrent.futures import ProcessPoolExecutor

    from bench.speed import make_scan, run

    first, last = (int(n) for n in args.pages.split("-"))
    with tempfile.TemporaryDirectory() as tmp:
        # The scan is made in a fresh process: a child's peak RSS counts its parent's at the fork,
        # so this process must stay small while it times the others.
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            made = pool.submit(make_scan, Path(args.report), first, last, args.dpi, Path(tmp) / "scan.pdf")
            scan = made.result()
        report = run(scan, last - first + 1, args.dpi, args.workers, args.rounds)
    print(report.format(args.workers, args.dpi))
    return 0


def _add_speed(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    speed = sub.add_parser("speed", help="fiscalocr extract on a scan, as a ratio to pdftoppm in one run")
    speed.add_argument("report", help="a digital report; a page range of it is scanned first")
    speed.add_argument("--pages", default="5-12", help="first-last page of the report (default 5-12)")
    speed.add_argument("--dpi", type=int, default=300)
    speed.add_argument("--workers", type=int, default=2)
    speed.add_argument("--rounds", type=int, default=3, help="turns of pdftoppm then extract (medians)")
    speed.set_defaults(handler=_speed)


def _add_verdicts(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verdicts = sub.add_parser("verdicts", help="findings on a scan of each report against its text layer")
    verdicts.add_argument("pdfs", nargs="+", help="digital PDF files or folders of them")
    verdicts.add_argument("--dpi", type=int, default=200)
    verdicts.add_argument("--workers", type=int, default=1, help="page processes for reading each scan")
    verdicts.add_argument("--misses", default=None,
                          help="write each cell read differently and each table of another shape here (TSV)")
    verdicts.set_defaults(handler=_verdicts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="render a scan corpus with ground truth")
    gen.add_argument("--out", required=True)
    gen.add_argument("--size", choices=("small", "medium", "large", "tuning", "test"), default="small",
                     help="tuning = medium (what the reader was tuned on); test = the held-out split")
    gen.add_argument("--seed", type=int, default=20240)
    gen.set_defaults(handler=_generate)
    run = sub.add_parser("run", help="benchmark engines (and peers) on a corpus")
    run.add_argument("--corpus", required=True)
    run.add_argument("--engines", default="rapidocr,tesseract")
    run.add_argument("--dpi", default="200,300")
    run.add_argument("--peer", default="img2table", help="comma list of peers; empty string for none")
    run.add_argument("--limit", type=int, default=None, help="first N documents of the corpus (and of cTDaR)")
    run.add_argument("--json", default=None, help="write the machine-readable report here")
    run.add_argument("--no-ctdar", action="store_true", help="skip the cTDaR structure pages")
    run.add_argument("--no-realscans", action="store_true", help="skip the hand-annotated real scans")
    run.add_argument("--no-lexicon", action="store_true",
                     help="score labels as read (no correction against the fiscal vocabulary)")
    run.add_argument(
        "--overlays", default=None, help="write truth/prediction overlay PNGs for failing tables here"
    )
    run.add_argument("--misses", default=None,
                     help="append a TSV line per truth cell read differently (configuration, document, "
                          "page, table, row, col, truth, read) to this file")
    run.set_defaults(handler=_run)
    digital = sub.add_parser("digital", help="digital PDFs: text-layer path vs pdftoppm (and the OCR path)")
    digital.add_argument("pdfs", nargs="+", help="PDF files or folders of them")
    digital.add_argument("--ocr-path", action="store_true",
                         help="also run every page through OCR and compare")
    digital.add_argument("--service", action="store_true",
                         help="also time each report through `fiscalocr serve` on 127.0.0.1 "
                              "(embedded defaults)")
    digital.set_defaults(handler=_digital)
    mutate = sub.add_parser("mutate", help="plant report errors in real digital reports; count the catches")
    mutate.add_argument("pdfs", nargs="+", help="PDF files or folders of them")
    mutate.set_defaults(handler=_mutate)
    _add_verdicts(sub)
    rec = sub.add_parser("recognisers", help="recognition models on the same cell crops of report scans")
    rec.add_argument("dataset", help="folder of crops (written by --build)")
    rec.add_argument("--build", nargs="*", default=[], help="report PDFs (or folders) to cut the crops from")
    rec.add_argument("--dpi", type=int, default=200)
    rec.add_argument("--model", action="append", default=[], help="another PP-OCR recognition ONNX file")
    rec.set_defaults(handler=_recognisers)

    _add_speed(sub)
    merge = sub.add_parser("report", help="merge run --json reports into one table")
    merge.add_argument("reports", nargs="+")
    merge.add_argument("--json", default=None)
    merge.set_defaults(handler=_report)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    handler = args.handler
    return int(handler(args))


if __name__ == "__main__":
    sys.exit(main())
