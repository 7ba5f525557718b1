"""RapidOCR (PP-OCRv4, ONNX) engine: batched recognition of single-line crops.

The detector is not used for cells: a cell crop is already one text line. The
models load once per process (``shared_rapidocr``); the first call costs ~3 s.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from ocr.engines.base import CellCrop, GrayImage, Recognition
from ocr.errors import EngineUnavailableError

log = logging.getLogger(__name__)

# Crops are sorted by aspect ratio and batched with their neighbours. Measured on 144 cells of a
# real page (CPU s, one thread): batch 1 -> 2.25, 4 -> 2.77, 8 -> 3.22, 16 -> 5.32; with the
# ONNX CPU provider batching saves nothing and padding costs, so crops go one at a time.
_REC_BATCH = 1
_REC_HEIGHT = 48  # the PP-OCRv4 recogniser's input height
# Minimum padded width / height. 4.0 -> 1.94 s, 2.0 -> 1.24 s on the same 144 cells, identical
# texts; 2.0 still leaves 12 CTC time steps for the narrowest cell ("-", "7").
_MIN_RATIO = 2.0
_PAD_FRACTION = 0.25  # white margin around the ink, relative to crop height
# One ONNX thread per process by default: the service scales by worker processes, and
# per-page cost is then the single-core cost the benchmark budgets for.
_THREADS = int(os.environ.get("FISCALOCR_ONNX_THREADS", "1"))


@lru_cache(maxsize=1)
def shared_rapidocr() -> Any:
    """The process-wide RapidOCR instance (detector, orientation classifier, recogniser)."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # pragma: no cover - dependency is declared
        raise EngineUnavailableError("rapidocr-onnxruntime is not installed") from exc
    try:
        engine = RapidOCR(intra_op_num_threads=_THREADS, inter_op_num_threads=1)
    except Exception as exc:
        raise EngineUnavailableError(f"RapidOCR models failed to load: {exc}") from exc
    log.info("RapidOCR models loaded")
    return engine


def pad_to_bgr(image: GrayImage, pad_fraction: float = _PAD_FRACTION) -> GrayImage:
    """White margin around a tight crop, as a 3-channel image the ONNX models expect."""
    height = image.shape[0]
    pad = max(4, round(height * pad_fraction))
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    return np.ascontiguousarray(cv2.cvtColor(padded, cv2.COLOR_GRAY2BGR))


def classify_upside_down(lines: Sequence[GrayImage]) -> float:
    """Fraction of line crops (weighted by confidence) the classifier reads as rotated 180°."""
    if not lines:
        return 0.0
    engine = shared_rapidocr()
    _, results, _ = engine.text_cls([pad_to_bgr(line) for line in lines])
    flipped = total = 0.0
    for label, score in results:
        total += float(score)
        if str(label) == "180":
            flipped += float(score)
    return flipped / total if total else 0.0


class RapidOrientation:
    """PP-OCR's text-line direction classifier (shared with the recogniser's models)."""

    def upside_down_share(self, lines: Sequence[GrayImage]) -> float:
        return classify_upside_down(lines)


def probe() -> None:
    """The package and its bundled models are installed (loads nothing)."""
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or spec.origin is None or importlib.util.find_spec("onnxruntime") is None:
        raise EngineUnavailableError("rapidocr-onnxruntime or onnxruntime is not installed")
    models = list((Path(spec.origin).parent / "models").glob("*.onnx"))
    if len(models) < 3:
        raise EngineUnavailableError(f"RapidOCR models missing: {len(models)} of 3 .onnx files found")


class RapidEngine:
    name = "rapidocr"

    def __init__(self) -> None:
        self._ocr = shared_rapidocr()
        self._lock = threading.Lock()

    def recognize(self, crops: Sequence[CellCrop]) -> list[Recognition]:
        if not crops:
            return []
        images = [pad_to_bgr(crop.image) for crop in crops]
        with self._lock:
            return recognise_lines(self._ocr.text_rec, images)


def recognise_lines(recogniser: Any, images: Sequence[GrayImage]) -> list[Recognition]:
    """Run the PP-OCR recogniser on BGR line images, batching crops of similar width.

    RapidOCR's own call pads every crop to at least 320 px wide (6.7 x height); a
    table cell like ``2,940.05`` is ~3 x its height, so padding only to the widest
    crop of the batch (and at least ``_MIN_RATIO``) cuts the work on cells 2-4x.
    """
    ratios = np.array([img.shape[1] / max(1, img.shape[0]) for img in images])
    order = np.argsort(ratios)
    results = [Recognition("", 0.0)] * len(images)
    alphabet: list[str] = recogniser.postprocess_op.character
    for begin in range(0, len(images), _REC_BATCH):
        chosen = order[begin:begin + _REC_BATCH]
        max_ratio = max(_MIN_RATIO, float(ratios[chosen].max()))
        width = int(np.ceil(_REC_HEIGHT * max_ratio / 8.0) * 8)
        batch = np.stack([_normalise(images[i], width) for i in chosen])
        preds = recogniser.session(batch)[0]
        for index, pred in zip(chosen, preds, strict=True):
            results[int(index)] = _ctc_decode(pred, alphabet)
    return results


def _ctc_decode(pred: npt.NDArray[np.float32], alphabet: list[str]) -> Recognition:
    """Greedy CTC decoding (index 0 is the blank; a repeated index is one character), keeping each
    character's probability. The line's confidence is their mean, as PP-OCR reports it."""
    best = pred.argmax(axis=1)
    prob = pred.max(axis=1)
    keep = best != 0
    keep[1:] &= best[1:] != best[:-1]
    scores = tuple(float(_clamp(p)) for p in prob[keep])
    text = "".join(alphabet[i] for i in best[keep])
    confidence = _clamp(float(np.mean(scores))) if scores else 0.0
    return Recognition(text=text, confidence=confidence,
                       char_scores=scores if len(scores) == len(text) else ())


def _normalise(image: GrayImage, width: int) -> npt.NDArray[np.float32]:
    height, img_width = image.shape[:2]
    resized_w = min(width, int(np.ceil(_REC_HEIGHT * img_width / max(1, height))))
    resized = cv2.resize(image, (max(1, resized_w), _REC_HEIGHT)).astype(np.float32)
    chw = resized.transpose((2, 0, 1)) / 127.5 - 1.0
    padded = np.zeros((3, _REC_HEIGHT, width), dtype=np.float32)
    padded[:, :, :resized_w] = chw
    return padded


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))
