"""Tesseract engine through tesserocr's in-process API (no subprocess per cell).

One API handle per language and engine instance: ``eng`` restricted to digits and
separators for numeric cells, ``chi_sim`` for text cells. PSM 7 (single line):
cells.py splits multi-line cells before they get here.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ocr.engines.base import CellCrop, GrayImage, Recognition
from ocr.errors import EngineUnavailableError

# Tesseract's OpenMP threads fight each other (and ONNX) for cores; must be set before libtesseract loads.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

TESSDATA = os.environ.get("FISCALOCR_TESSDATA", "/usr/share/tesseract-ocr/5/tessdata/")
NUMERIC_WHITELIST = "0123456789.,-"
_TARGET_HEIGHT = 40  # px of ink height; LSTM models are most accurate around this size
_PAD = 12


def probe(tessdata: str = TESSDATA) -> None:
    """tesserocr and the language data are installed (loads nothing)."""
    if importlib.util.find_spec("tesserocr") is None:
        raise EngineUnavailableError("tesserocr is not installed")
    for lang in ("eng", "chi_sim"):
        if not (Path(tessdata) / f"{lang}.traineddata").is_file():
            raise EngineUnavailableError(f"tesseract language data {lang} missing in {tessdata}")


class TesseractEngine:
    name = "tesseract"

    def __init__(self, tessdata: str = TESSDATA) -> None:
        try:
            import tesserocr
        except ImportError as exc:  # pragma: no cover - dependency is declared
            raise EngineUnavailableError("tesserocr is not installed") from exc
        for lang in ("eng", "chi_sim"):
            if not (Path(tessdata) / f"{lang}.traineddata").is_file():
                raise EngineUnavailableError(f"tesseract language data {lang} missing in {tessdata}")
        self._tesserocr: Any = tesserocr
        self._lock = threading.Lock()
        self._text = self._api(tessdata, "chi_sim")
        self._digits = self._api(tessdata, "eng")
        self._digits.SetVariable("tessedit_char_whitelist", NUMERIC_WHITELIST)

    def _api(self, tessdata: str, lang: str) -> Any:
        tess = self._tesserocr
        try:
            api = tess.PyTessBaseAPI(path=tessdata, lang=lang, psm=tess.PSM.SINGLE_LINE,
                                     oem=tess.OEM.LSTM_ONLY)
        except RuntimeError as exc:
            raise EngineUnavailableError(f"tesseract failed to initialise {lang}: {exc}") from exc
        # Chinese needs no inter-word spaces; keep tesseract from inventing them between CJK glyphs.
        api.SetVariable("preserve_interword_spaces", "1")
        return api

    def recognize(self, crops: Sequence[CellCrop]) -> list[Recognition]:
        with self._lock:
            return [self._read(crop) for crop in crops]

    def _read(self, crop: CellCrop) -> Recognition:
        from PIL import Image

        api = self._digits if crop.kind == "numeric" else self._text
        image = Image.fromarray(_prepare(crop.image))
        text, confidence = self._run(api, image, self._tesserocr.PSM.SINGLE_LINE)
        if not text:
            # PSM 7's layout pass sometimes discards a whole clean line; raw-line mode does not.
            text, confidence = self._run(api, image, self._tesserocr.PSM.RAW_LINE)
        return Recognition(text=text, confidence=confidence if text else 0.0)

    @staticmethod
    def _run(api: Any, image: Any, psm: int) -> tuple[str, float]:
        api.SetPageSegMode(psm)
        api.SetImage(image)
        api.SetSourceResolution(300)
        text = str(api.GetUTF8Text()).strip()
        return text, max(0.0, min(1.0, float(api.MeanTextConf()) / 100.0))

    def close(self) -> None:
        for api in (self._text, self._digits):
            api.End()


def _prepare(image: GrayImage) -> GrayImage:
    height = max(1, image.shape[0])
    scale = _TARGET_HEIGHT / height
    if abs(scale - 1.0) > 0.15:
        interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        image = np.asarray(cv2.resize(image, None, fx=scale, fy=scale, interpolation=interpolation), np.uint8)
    padded = cv2.copyMakeBorder(image, _PAD, _PAD, _PAD, _PAD, cv2.BORDER_CONSTANT, value=255)
    return np.ascontiguousarray(padded)
