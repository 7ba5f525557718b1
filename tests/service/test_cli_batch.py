"""`fiscalocr extract` on a folder / several files: one JSON per document, a progress bar on a
terminal, failed documents reported without stopping the others."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from review_scan import write_misprinted_pdf
from svc_harness import ROOT
from svc_scans import write_corrupt_pdf, write_pdf


def _run(*args: str, tty: bool = False) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FISCALOCR_")} | {"PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", "from service.cli import main; main()", *args]
    if not tty:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
                              check=False)
        return done.returncode, done.stderr
    master, slave = pty.openpty()  # stderr is a terminal: the bar is redrawn in place
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=slave, cwd=ROOT, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return process.wait(timeout=300), b"".join(chunks).decode("utf-8", "replace")


def test_extract_a_folder_with_a_bad_file(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    write_misprinted_pdf(folder / "a-misprint.pdf")
    write_corrupt_pdf(folder / "b-corrupt.pdf")
    (folder / "c-notes.txt").write_text("not a report", encoding="utf-8")
    out = tmp_path / "out"
    code, stderr = _run("extract", str(folder), "--out", str(out), "--dpi", "200")
    assert code == 2, stderr
    assert "skipped (not a PDF/PNG/JPEG/TIFF)" in stderr and "c-notes.txt" in stderr
    assert "[2/2] b-corrupt.pdf: error [pdf_corrupt]" in stderr
    assert "extracted 1/2 documents" in stderr
    data = json.loads((out / "a-misprint.json").read_text(encoding="utf-8"))
    assert len(data["findings"]) == 2 and sorted(p.name for p in out.iterdir()) == ["a-misprint.json"]


def test_extract_several_files_shows_a_progress_bar(tmp_path: Path) -> None:
    first = write_pdf(tmp_path / "one.pdf", pages=2, first_variant=41)
    (tmp_path / "sub").mkdir()
    second = write_pdf(tmp_path / "sub" / "one.pdf", first_variant=43)
    out = tmp_path / "out"
    code, terminal = _run("extract", str(first), str(second), "--out", str(out), "--dpi", "200", tty=True)
    assert code == 0, terminal
    assert "\r[" in terminal and "page 2/2" in terminal and "0/2 files" in terminal
    assert sorted(p.name for p in out.iterdir()) == ["one-2.json", "one.json"]  # same stem, both kept
    assert json.loads((out / "one.json").read_text(encoding="utf-8"))["source"]["pages"] == 2
