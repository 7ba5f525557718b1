"""``fiscalocr extract`` on several files or a folder: one JSON per document in the output folder,
a progress bar on stderr, and a failed document reported without stopping the others."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TextIO

from ocr.errors import FiscalOCRError, InputError
from ocr.sniff import sniff_bytes
from service.errors import ServiceError

BAR_WIDTH = 28


def collect_inputs(arguments: list[str]) -> tuple[list[Path], list[Path]]:
    """(documents, skipped): folders are expanded to the PDF/image files directly inside them,
    recognised by content (never by extension); named files are always taken."""
    documents: list[Path] = []
    skipped: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            for child in sorted(p for p in path.iterdir() if p.is_file()):
                with child.open("rb") as handle:
                    (documents if sniff_bytes(handle.read(1024)) else skipped).append(child)
        elif path.is_file():
            documents.append(path)
        else:
            raise InputError(f"no such file or folder: {path}")
    return documents, skipped


def output_names(documents: list[Path]) -> list[str]:
    """``<stem>.json`` per document, numbered when two inputs share a stem."""
    seen: dict[str, int] = {}
    names = []
    for document in documents:
        count = seen.get(document.stem, 0)
        seen[document.stem] = count + 1
        names.append(f"{document.stem}.json" if count == 0 else f"{document.stem}-{count + 1}.json")
    return names


@dataclass
class ProgressBar:
    """``[#####-----] 2/5 files · page 3/7 · name.pdf`` redrawn in place on a terminal; one line per
    finished file otherwise (logs and CI output stay readable)."""

    total_files: int
    stream: TextIO = sys.stderr
    done_files: int = 0

    @property
    def live(self) -> bool:
        return self.stream.isatty()

    def page(self, name: str, pages_done: int, pages_total: int) -> None:
        if not self.live:
            return
        fraction = (self.done_files + pages_done / max(pages_total, 1)) / max(self.total_files, 1)
        filled = round(fraction * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\r[{bar}] {self.done_files}/{self.total_files} files · "
                          f"page {pages_done}/{pages_total} · {name[:40]:<40}")
        self.stream.flush()

    def finish_file(self, name: str, outcome: str) -> None:
        self.done_files += 1
        prefix = "\r" if self.live else ""
        self.stream.write(f"{prefix}[{self.done_files}/{self.total_files}] {name}: {outcome}"
                          f"{' ' * 40 if self.live else ''}\n")
        self.stream.flush()


def extract_many(documents: list[Path], out_dir: Path,
                 extract_one: Callable[[Path, Callable[[int, int], None]], dict[str, object]],
                 bar: ProgressBar) -> list[tuple[Path, str]]:
    """Extract each document into ``out_dir``; return the (document, "code: message") that failed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    failures: list[tuple[Path, str]] = []
    for document, name in zip(documents, output_names(documents), strict=True):
        try:
            data = extract_one(document, partial(bar.page, document.name))
        except (FiscalOCRError, ServiceError) as exc:
            failures.append((document, f"{exc.code}: {exc.message}"))
            bar.finish_file(document.name, f"error [{exc.code}] {exc.message}")
            continue
        (out_dir / name).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        bar.finish_file(document.name, f"-> {out_dir / name}")
    return failures
