"""OCR engines behind one interface (``OcrEngine``); one cached instance per name per process."""

from __future__ import annotations

from functools import cache

from ocr.engines.base import CellCrop, OcrEngine, Recognition
from ocr.errors import EngineUnavailableError

ENGINE_NAMES = ("rapidocr", "tesseract")

__all__ = ["ENGINE_NAMES", "CellCrop", "OcrEngine", "Recognition", "get_engine"]


@cache
def get_engine(name: str) -> OcrEngine:
    """The process-wide engine called ``name`` (models load on first use)."""
    if name == "rapidocr":
        from ocr.engines.rapid import RapidEngine

        return RapidEngine()
    if name == "tesseract":
        from ocr.engines.tesseract import TesseractEngine

        return TesseractEngine()
    raise EngineUnavailableError(f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")
