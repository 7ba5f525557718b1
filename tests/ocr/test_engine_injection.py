"""OCR engines are injected into the pipeline (chosen by name only where a caller does not give one),
and each can be probed without loading a model."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from ocr.engines import CellCrop, OcrEngine, Recognition, get_engine, get_orientation, probe_engine
from ocr.errors import EngineUnavailableError
from ocr.pipeline import ExtractOptions, PixelReaders, extract

ROOT = Path(__file__).resolve().parents[2]


class CountingEngine:
    """A real engine behind a counter: proves the injected object is the one that reads."""

    def __init__(self, inner: OcrEngine) -> None:
        self.inner, self.name, self.crops = inner, f"counted-{inner.name}", 0

    def recognize(self, crops: Sequence[CellCrop]) -> list[Recognition]:
        self.crops += len(crops)
        return self.inner.recognize(crops)


class CountingOrientation:
    def __init__(self) -> None:
        self.calls = 0

    def upside_down_share(self, lines: Sequence) -> float:
        self.calls += 1
        return get_orientation().upside_down_share(lines)


def test_the_injected_engine_and_orientation_read_the_page(budget_png: Path) -> None:
    engine, orientation = CountingEngine(get_engine("tesseract")), CountingOrientation()
    # the option names another engine: the injected object wins, nothing is chosen by name
    result = extract(budget_png, ExtractOptions(engine="rapidocr"),
                     readers=PixelReaders("rapidocr", engine, orientation))
    assert engine.crops > 0 and orientation.calls == 1
    assert result.tables and any(cell.text for cell in result.tables[0].cells)


def test_probe_loads_no_model_and_names_what_is_missing(tmp_path: Path) -> None:
    probe_engine("rapidocr")
    probe_engine("tesseract")
    with pytest.raises(EngineUnavailableError, match="unknown OCR engine"):
        probe_engine("abbyy")
    from ocr.engines import tesseract

    with pytest.raises(EngineUnavailableError, match="language data"):
        tesseract.probe(str(tmp_path))
    code = ("import sys; from ocr.engines import probe_engine; probe_engine('rapidocr'); "
            "probe_engine('tesseract'); "
            "print(sorted(m for m in ('onnxruntime', 'tesserocr', 'rapidocr') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
