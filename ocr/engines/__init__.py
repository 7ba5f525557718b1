"""OCR engines behind one interface (``OcrEngine``), the orientation classifier (``Orientation``) and
``probe_engine`` for readiness checks. The only place an engine is chosen by name: callers resolve it
once (``get_engine``) and hand the object to the pipeline; one cached instance per name per process.
"""

from __future__ import annotations

from functools import cache

from ocr.engines.base import CellCrop, OcrEngine, Orientation, Recognition
from ocr.errors import EngineUnavailableError

ENGINE_NAMES = ("rapidocr", "tesseract")

__all__ = ["ENGINE_NAMES", "CellCrop", "OcrEngine", "Orientation", "Recognition", "get_engine",
           "get_orientation", "probe_engine"]


def _unknown(name: str) -> EngineUnavailableError:
    return EngineUnavailableError(f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")


@cache
def get_engine(name: str) -> OcrEngine:
    """The process-wide engine called ``name`` (models load on first use)."""
    if name == "rapidocr":
        from ocr.engines.rapid import RapidEngine

        return RapidEngine()
    if name == "tesseract":
        from ocr.engines.tesseract import TesseractEngine

        return TesseractEngine()
    raise _unknown(name)


@cache
def get_orientation() -> Orientation:
    """The orientation classifier pages are turned upright with (whatever engine reads them)."""
    from ocr.engines.rapid import RapidOrientation

    return RapidOrientation()


def probe_engine(name: str) -> None:
    """Raise ``EngineUnavailableError`` unless engine ``name`` and the orientation classifier could be
    made here; cheap (no model is loaded), for readiness checks."""
    from ocr.engines import rapid, tesseract

    if name not in ENGINE_NAMES:
        raise _unknown(name)
    rapid.probe()  # the orientation classifier is RapidOCR's, whichever engine reads the cells
    if name == "tesseract":
        tesseract.probe()
