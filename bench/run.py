"""Benchmark: every configuration (system x engine x dpi) on the same inputs, each in its own process.

Inputs are the generated corpus (tables, cells and texts scored), the hand-annotated real scans
(scored the same way) and the cTDaR pages (structure only: cell adjacency F1).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench import degrade
from bench.corpus import ROOT, SHARED
from bench.ctdar import CtdarPage, load_dataset
from bench.metrics import (
    AdjacencyScore,
    TableScore,
    adjacency_score,
    match_cells,
    match_tables,
    normalise,
    same_structure,
    score_page,
)
from bench.overlay import write_overlay
from bench.pdftruth import rasterise_page
from ocr.contract import Extraction, PageInfo, Table

log = logging.getLogger(__name__)

REALSCANS = ROOT / "tests" / "fixtures" / "realscans"
CTDAR = SHARED / "realdata" / "ctdar-zh"
PUTUO_PREFIX = "putuo-"  # corpus documents rendered from the real Putuo final-account PDFs


@dataclass(frozen=True)
class RunConfig:
    corpus: Path
    engines: tuple[str, ...] = ("rapidocr", "tesseract")
    dpis: tuple[int, ...] = (200, 300)
    peers: tuple[str, ...] = ("img2table",)
    limit: int | None = None
    ctdar: bool = True
    realscans: bool = True
    overlays: Path | None = None
    timeout_s: float = 3600.0
    lexicon: bool = True  # the product's default: labels corrected against the fiscal vocabulary
    misses: Path | None = None  # a TSV of every truth cell read differently (or not found)


@dataclass(frozen=True)
class Inputs:
    corpus: dict[str, Extraction]  # name -> truth
    corpus_paths: dict[str, Path]
    real: dict[str, Extraction]
    real_paths: dict[str, Path]
    ctdar: dict[str, CtdarPage]


def load_inputs(config: RunConfig) -> Inputs:
    manifest = json.loads((config.corpus / "manifest.json").read_text(encoding="utf-8"))
    documents = manifest["documents"][: config.limit] if config.limit else manifest["documents"]
    corpus = {
        d["name"]: Extraction.model_validate_json((config.corpus / d["truth"]).read_text(encoding="utf-8"))
        for d in documents
    }
    paths = {d["name"]: config.corpus / d["pdf"] for d in documents}
    real: dict[str, Extraction] = {}
    real_paths: dict[str, Path] = {}
    if config.realscans:
        for truth_file in sorted(REALSCANS.glob("*.truth.json")):
            truth = Extraction.model_validate_json(truth_file.read_text(encoding="utf-8"))
            real[truth_file.name] = truth
            real_paths[truth_file.name] = SHARED / truth.source.filename
    ctdar: dict[str, CtdarPage] = {}
    if config.ctdar:
        pages = load_dataset(CTDAR)
        ctdar = {p.image.name: p for p in (pages[: config.limit] if config.limit else pages)}
    return Inputs(corpus, paths, real, real_paths, ctdar)


def configurations(config: RunConfig) -> list[tuple[str, str, int]]:
    ours = [("fiscalocr", engine, dpi) for engine in config.engines for dpi in config.dpis]
    peers = [(peer, "tesseract", dpi) for peer in config.peers for dpi in config.dpis]
    return ours + peers


def run_worker(
    system: str, engine: str, dpi: int, items: list[dict[str, str]], timeout_s: float, *, lexicon: bool = True
) -> dict[str, Any]:
    """One configuration in a child process; its own peak RSS comes from wait4 on exactly that child."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        inputs, out = Path(tmp) / "inputs.json", Path(tmp) / "out.json"
        inputs.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "bench.worker",
            "--system",
            system,
            "--engine",
            engine,
            "--dpi",
            str(dpi),
            "--inputs",
            str(inputs),
            "--out",
            str(out),
            *([] if lexicon else ["--no-lexicon"]),
        ]
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = started + timeout_s
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                child.kill()
                pid, status, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.2)
        child.returncode = os.waitstatus_to_exitcode(status)
        stderr = child.stderr.read().decode(errors="replace") if child.stderr else ""
        if child.returncode != 0 or not out.exists():
            return {
                "results": {},
                "failed": f"worker exit {child.returncode}: {stderr[-800:]}",
                "wall_s": time.perf_counter() - started,
                "peak_rss_mb": usage.ru_maxrss / 1024,
            }
        report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        report["peak_rss_mb"] = max(usage.ru_maxrss, report.get("peak_rss_children_kb", 0)) / 1024
        return report


def _page_scale(truth: PageInfo, predicted: list[PageInfo], number: int) -> float:
    page = next((p for p in predicted if p.number == number), None)
    if page is None or not page.width_px:
        return 1.0
    return max(truth.width_px, truth.height_px) / max(page.width_px, page.height_px)


def score_extraction(truth: Extraction, predicted: Extraction | None) -> tuple[TableScore, int]:
    """Sum of page scores, and the number of pages whose quarter-turn rotation was detected right."""
    total = TableScore()
    rotation_right = 0
    for page in truth.pages:
        truth_tables = [t for t in truth.tables if t.page == page.number]
        if predicted is None:
            total = total + score_page(truth_tables, [], 1.0)
            continue
        predicted_tables = [t for t in predicted.tables if t.page == page.number]
        total = total + score_page(
            truth_tables, predicted_tables, _page_scale(page, predicted.pages, page.number)
        )
        guess = next((p for p in predicted.pages if p.number == page.number), None)
        rotation_right += int(guess is not None and guess.rotation % 360 == page.rotation % 360)
    return total, rotation_right


def table_misses(truth: Table, predicted: Table | None) -> list[tuple[int, int, str, str]]:
    """(row, col, expected, read) of every truth cell whose reading differs; unmatched cells read ''."""
    pairs = dict(match_cells(truth, predicted)) if predicted is not None else {}
    out = []
    for index, cell in enumerate(truth.cells):
        guess = predicted.cells[pairs[index]].text if predicted is not None and index in pairs else ""
        if normalise(guess) != normalise(cell.text):
            out.append((cell.row, cell.col, cell.text, guess))
    return out


@dataclass(frozen=True)
class PagePair:
    """One corpus page: its truth tables, the tables read on it, which of those matched which."""

    name: str
    page: PageInfo
    truth: list[Table]
    guess: list[Table]
    pairs: dict[int, int]  # truth index -> guess index
    scale: float  # guess boxes x scale = truth frame


def page_pairs(inputs: Inputs, report: dict[str, Any]) -> Iterator[PagePair]:
    for name, truth in inputs.corpus.items():
        item = report.get("results", {}).get(f"corpus:{name}")
        guess = Extraction.model_validate(item["extraction"]) if item and item.get("extraction") else None
        for page in truth.pages:
            truth_tables = [t for t in truth.tables if t.page == page.number]
            guess_tables = [t for t in guess.tables if t.page == page.number] if guess else []
            scale = _page_scale(page, guess.pages, page.number) if guess else 1.0
            pairs = dict(match_tables(truth_tables, guess_tables, scale))
            yield PagePair(name, page, truth_tables, guess_tables, pairs, scale)


def write_misses(inputs: Inputs, report: dict[str, Any], label: str, path: Path) -> None:
    """Append one TSV line per cell read differently: configuration, document, page, table, cell."""
    lines = []
    for pair in page_pairs(inputs, report):
        for index, table in enumerate(pair.truth):
            matched = pair.guess[pair.pairs[index]] if index in pair.pairs else None
            for row, col, expected, read in table_misses(table, matched):
                place = [label, pair.name, str(pair.page.number), str(index), str(row), str(col)]
                lines.append("\t".join([*place, expected.replace("\n", " "), read.replace("\n", " ")]))
    with path.open("a", encoding="utf-8") as out:
        out.writelines(line + "\n" for line in lines)


def _ctdar_tables(predicted: Extraction | None) -> tuple[list[Table], float, int]:
    if predicted is None or not predicted.pages:
        return [], 1.0, 0
    return [t for t in predicted.tables if t.page == 1], 1.0, predicted.pages[0].width_px


def evaluate(inputs: Inputs, report: dict[str, Any]) -> dict[str, Any]:
    results: dict[str, Any] = report.get("results", {})

    def predicted(key: str) -> Extraction | None:
        item = results.get(key)
        return Extraction.model_validate(item["extraction"]) if item and item.get("extraction") else None

    corpus_total, rotation_right, per_document, seconds = TableScore(), 0, [], []
    putuo_total = TableScore()
    for name, truth in inputs.corpus.items():
        guess = predicted(f"corpus:{name}")
        score, right = score_extraction(truth, guess)
        corpus_total, rotation_right = corpus_total + score, rotation_right + right
        if name.startswith(PUTUO_PREFIX):
            putuo_total = putuo_total + score
        item = results.get(f"corpus:{name}", {})
        seconds.extend(item.get("page_seconds", []))
        per_document.append(
            {
                "name": name,
                "pages": len(truth.pages),
                "error": item.get("error", "not run"),
                **score.summary(),
            }
        )
    real_total = TableScore()
    for name, truth in inputs.real.items():
        real_total = real_total + score_extraction(truth, predicted(f"real:{name}"))[0]
    adjacency = _ctdar_adjacency(inputs, predicted)
    n_pages = sum(len(t.pages) for t in inputs.corpus.values())
    return {
        "corpus": {
            **corpus_total.summary(),
            "pages": n_pages,
            "rotation_right_pct": round(100.0 * rotation_right / n_pages, 1) if n_pages else None,
        },
        # The separate target: degraded renders of the real Putuo final-account PDFs.
        "putuo": putuo_total.summary() if putuo_total.tables_truth else None,
        "realscans": real_total.summary() if inputs.real else None,
        "ctdar": _adjacency_summary(len(inputs.ctdar), adjacency) if inputs.ctdar else None,
        "speed": {
            "pages": len(seconds),
            "median_s_per_page": round(statistics.median(seconds), 2) if seconds else None,
            "pages_per_s": round(len(seconds) / sum(seconds), 3) if seconds and sum(seconds) else None,
        },
        "errors": sorted({d["error"] for d in per_document if d["error"]}),
        "per_document": per_document,
    }


def _ctdar_adjacency(inputs: Inputs, predicted: Callable[[str], Extraction | None]) -> AdjacencyScore:
    adjacency = AdjacencyScore(0, 0, 0, 0)
    for name, page in inputs.ctdar.items():
        tables, _, width = _ctdar_tables(predicted(f"ctdar:{name}"))
        image_width = _image_width(page.image)
        adjacency = adjacency + adjacency_score(
            page.cells, page.relations, tables, image_width / width if width else 1.0
        )
    return adjacency


def _adjacency_summary(pages: int, adjacency: AdjacencyScore) -> dict[str, Any]:
    return {"pages": pages, "relations": adjacency.truth, "precision": round(adjacency.precision, 3),
            "recall": round(adjacency.recall, 3), "f1": round(adjacency.f1, 3)}


def _image_width(path: Path) -> int:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    return int(image.shape[1]) if image is not None else 0


def write_failure_overlays(inputs: Inputs, report: dict[str, Any], label: str, out_dir: Path) -> None:
    """Truth (green) and prediction (red) grids on the de-rotated scan, for tables whose structure differs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for pair in page_pairs(inputs, report):
        pairs = pair.pairs
        if all(i in pairs and same_structure(t, pair.guess[pairs[i]]) for i, t in enumerate(pair.truth)):
            continue
        page = pair.page
        image = rasterise_page(inputs.corpus_paths[pair.name], page.number, page.dpi)
        image = degrade.rotate(degrade.quarter_turn(image, -page.rotation // 90), -page.skew_deg)
        write_overlay(out_dir / f"{label}-{pair.name}-p{page.number}.png", np.asarray(image, np.uint8),
                      pair.truth, pair.guess, scale=pair.scale)


def run_benchmark(config: RunConfig) -> dict[str, Any]:
    inputs = load_inputs(config)
    items = (
        [{"key": f"corpus:{n}", "path": str(p)} for n, p in inputs.corpus_paths.items()]
        + [{"key": f"real:{n}", "path": str(p)} for n, p in inputs.real_paths.items()]
        + [{"key": f"ctdar:{n}", "path": str(p.image)} for n, p in inputs.ctdar.items()]
    )
    rows = []
    for system, engine, dpi in configurations(config):
        label = f"{system}/{engine}@{dpi}"
        log.info("running %s on %d inputs", label, len(items))
        report = run_worker(system, engine, dpi, items, config.timeout_s, lexicon=config.lexicon)
        result = {
            "label": label,
            "system": system,
            "engine": engine,
            "dpi": dpi,
            "wall_s": round(report.get("wall_s", 0.0), 1),
            "load_avg_1m_after": round(os.getloadavg()[0], 2),  # other work on the machine skews speed
            "peak_rss_mb": round(report["peak_rss_mb"], 1),
            "worker_failed": report.get("failed"),
            **evaluate(inputs, report),
        }
        if config.misses:
            write_misses(inputs, report, label, config.misses)
        if config.overlays:
            write_failure_overlays(inputs, report, label.replace("/", "-").replace("@", "-"), config.overlays)
        rows.append(result)
    return {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "corpus": {
            "path": str(config.corpus),
            "documents": len(inputs.corpus),
            "pages": sum(len(t.pages) for t in inputs.corpus.values()),
            "tables": sum(len(t.tables) for t in inputs.corpus.values()),
            "cells": sum(len(c.cells) for t in inputs.corpus.values() for c in t.tables),
        },
        "realscans": sorted(inputs.real),
        "ctdar_pages": len(inputs.ctdar),
        "configurations": rows,
    }


_COLUMNS: list[tuple[str, Callable[[dict[str, Any]], object]]] = [
    ("config", lambda r: r["label"]),
    ("tables found%", lambda r: r["corpus"]["tables_found_pct"]),
    ("struct exact%", lambda r: r["corpus"]["structure_exact_pct"]),
    ("cells matched%", lambda r: r["corpus"]["cells_matched_pct"]),
    ("numeric exact%", lambda r: r["corpus"]["numeric_exact_pct"]),
    ("text exact%", lambda r: r["corpus"]["text_exact_pct"]),
    ("CER", lambda r: r["corpus"]["cer"]),
    ("blank filled", lambda r: f"{r['corpus']['blank_filled']}/{r['corpus']['blank_cells']}"),
    ("rot ok%", lambda r: r["corpus"]["rotation_right_pct"]),
    ("s/page", lambda r: r["speed"]["median_s_per_page"]),
    ("pages/s", lambda r: r["speed"]["pages_per_s"]),
    ("RSS MB", lambda r: r["peak_rss_mb"]),
    ("putuo numeric%", lambda r: (r.get("putuo") or {}).get("numeric_exact_pct")),
    ("real numeric%", lambda r: (r["realscans"] or {}).get("numeric_exact_pct")),
    ("real struct%", lambda r: (r["realscans"] or {}).get("structure_exact_pct")),
    ("cTDaR adjF1", lambda r: (r["ctdar"] or {}).get("f1")),
]


def format_report(report: dict[str, Any]) -> str:
    corpus = report["corpus"]
    lines = [
        f"corpus {corpus['path']}: {corpus['documents']} documents, {corpus['pages']} pages, "
        f"{corpus['tables']} tables, {corpus['cells']} cells; real scans {len(report['realscans'])}; "
        f"cTDaR pages {report['ctdar_pages']}; {report['machine']['cpus']} CPUs"
    ]
    header = [name for name, _ in _COLUMNS]
    body = [[_fmt(get(row)) for _, get in _COLUMNS] for row in report["configurations"]]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(header)]
    lines.append(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    lines.append("-+-".join("-" * w for w in widths))
    lines.extend(" | ".join(c.ljust(w) for c, w in zip(b, widths, strict=True)) for b in body)
    for row in report["configurations"]:
        if row["worker_failed"] or row["errors"]:
            lines.append(f"{row['label']}: worker={row['worker_failed']} errors={row['errors'][:5]}")
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
