"""PP-OCR models (rapidocr 3.x's wheel, ONNX) run with onnxruntime: batched recognition of single-line
crops and the 0/180 text-direction classifier.

The wheel ships PP-OCRv6 small recognition and PP-OCR's mobile direction classifier; this module loads
the two files itself (rapidocr's own pipeline, detector and config are not used: a cell crop is already
one text line). The models load once per process (``shared_models``); the first call costs ~1 s.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
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
_REC_HEIGHT = 48  # the PP-OCR recogniser's input height
# Minimum padded width / height. 4.0 -> 1.94 s, 2.0 -> 1.24 s on the same 144 cells, identical
# texts; 2.0 still leaves 12 CTC time steps for the narrowest cell ("-", "7").
_MIN_RATIO = 2.0
_PAD_FRACTION = 0.25  # white margin around the ink, relative to crop height
# One ONNX thread per process by default: the service scales by worker processes, and
# per-page cost is then the single-core cost the benchmark budgets for.
_THREADS = int(os.environ.get("FISCALOCR_ONNX_THREADS", "1"))
# The model files inside the rapidocr wheel (docs/design.md: PP-OCRv6 read 98.7 % of label crops
# against PP-OCRv4's 97.7 %, the same amounts).
_PACKAGE = "rapidocr"
_REC_MODEL = "PP-OCRv6_rec_small.onnx"
_CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
_CLS_SHAPE = (48, 192)  # the direction classifier's input height and width
_CLS_LABELS = ("0", "180")


def _model_dir() -> Path:
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or spec.origin is None or importlib.util.find_spec("onnxruntime") is None:
        raise EngineUnavailableError("rapidocr (3.x) or onnxruntime is not installed")
    return Path(spec.origin).parent / "models"


@lru_cache(maxsize=1)
def simplified_chinese() -> frozenset[str]:
    """The characters of a simplified-Chinese official document: GB 2312 (the national standard set of
    mainland simplified text) without its kana, the Chinese zero 〇 (dates), and printable ASCII.

    PP-OCRv6 reads many scripts; unconstrained it gives a Japanese or traditional form for a simplified
    character now and then (収 for 收, 決 for 决) and kana for look-alike strokes (ー for 一).
    """
    chars = {chr(code) for code in range(0x20, 0x7F)} | {"〇"}
    for row in (*range(0xA1, 0xA4), *range(0xA6, 0xAA), *range(0xB0, 0xF8)):  # rows 4-5 are kana
        for cell in range(0xA1, 0xFF):
            try:
                chars.add(bytes((row, cell)).decode("gb18030"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


class OnnxRecogniser:
    """A PP-OCR recognition model: its ONNX session and its alphabet (CTC blank first, space last).

    With ``charset``, characters outside it are never read: where the model preferred one, the best
    character inside the set is read, with the (lower) probability the model gave it, so the
    reading shows as unsure rather than as a foreign character.
    """

    def __init__(self, session: Any, charset: frozenset[str] | None = None) -> None:
        self._session = session
        self._input = session.get_inputs()[0].name
        characters = session.get_modelmeta().custom_metadata_map["character"].splitlines()
        self.alphabet: list[str] = ["blank", *characters, " "]
        self.allowed: npt.NDArray[np.bool_] | None = None
        if charset is not None:
            self.allowed = np.array([c in charset for c in self.alphabet])
            self.allowed[0] = self.allowed[-1] = True

    def run(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        out: npt.NDArray[np.float32] = self._session.run(None, {self._input: batch})[0]
        return out


@dataclass(frozen=True)
class Models:
    recogniser: OnnxRecogniser
    classifier: Any  # the direction classifier's onnxruntime session


def open_session(path: Path) -> Any:
    """An onnxruntime CPU session of one model file, on ``FISCALOCR_ONNX_THREADS`` threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = _THREADS, 1
    options.log_severity_level = 3
    # No memory arena: it keeps the largest buffer any crop ever needed (a long label's width), which
    # cost ~50 MB of peak RSS per page reader on the benchmark; crops vary, so pooling buys little.
    options.enable_cpu_mem_arena = False
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@lru_cache(maxsize=1)
def shared_models() -> Models:
    """The process-wide recogniser and direction classifier."""
    folder = _model_dir()
    try:
        recogniser = OnnxRecogniser(open_session(folder / _REC_MODEL), simplified_chinese())
        models = Models(recogniser, open_session(folder / _CLS_MODEL))
    except Exception as exc:
        raise EngineUnavailableError(f"PP-OCR models failed to load from {folder}: {exc}") from exc
    log.info("PP-OCR models loaded")
    return models


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
    classifier = shared_models().classifier
    batch = np.stack([_direction_input(pad_to_bgr(line)) for line in lines])  # one shape: one run
    probabilities = classifier.run(None, {classifier.get_inputs()[0].name: batch})[0]
    best = probabilities.argmax(axis=1)
    scores = probabilities[np.arange(len(best)), best]
    flipped = float(scores[best == _CLS_LABELS.index("180")].sum())
    total = float(scores.sum())
    return flipped / total if total else 0.0


def _direction_input(image: GrayImage) -> npt.NDArray[np.float32]:
    """The classifier's input: the line scaled to its height, at most its width, padded with zeros."""
    height, width = _CLS_SHAPE
    resized_w = min(width, math.ceil(height * image.shape[1] / max(1, image.shape[0])))
    resized = cv2.resize(image, (resized_w, height)).astype(np.float32)
    padded = np.zeros((3, height, width), dtype=np.float32)
    padded[:, :, :resized_w] = resized.transpose((2, 0, 1)) / 127.5 - 1.0
    return padded


class RapidOrientation:
    """PP-OCR's text-line direction classifier (shared with the recogniser's models)."""

    def upside_down_share(self, lines: Sequence[GrayImage]) -> float:
        return classify_upside_down(lines)


def probe() -> None:
    """The package, onnxruntime and the two model files are installed (loads nothing)."""
    folder = _model_dir()
    missing = [name for name in (_REC_MODEL, _CLS_MODEL) if not (folder / name).is_file()]
    if missing:
        raise EngineUnavailableError(f"PP-OCR models missing from {folder}: {', '.join(missing)}")


class RapidEngine:
    name = "rapidocr"

    def __init__(self) -> None:
        self._recogniser = shared_models().recogniser
        self._lock = threading.Lock()

    def recognize(self, crops: Sequence[CellCrop]) -> list[Recognition]:
        if not crops:
            return []
        images = [pad_to_bgr(crop.image) for crop in crops]
        with self._lock:
            return recognise_lines(self._recogniser, images)


def recognise_lines(recogniser: OnnxRecogniser, images: Sequence[GrayImage]) -> list[Recognition]:
    """Run the PP-OCR recogniser on BGR line images, batching crops of similar width.

    RapidOCR's own call pads every crop to at least 320 px wide (6.7 x height); a
    table cell like ``2,940.05`` is ~3 x its height, so padding only to the widest
    crop of the batch (and at least ``_MIN_RATIO``) cuts the work on cells 2-4x.
    """
    ratios = np.array([img.shape[1] / max(1, img.shape[0]) for img in images])
    order = np.argsort(ratios)
    results = [Recognition("", 0.0)] * len(images)
    for begin in range(0, len(images), _REC_BATCH):
        chosen = order[begin:begin + _REC_BATCH]
        max_ratio = max(_MIN_RATIO, float(ratios[chosen].max()))
        width = int(np.ceil(_REC_HEIGHT * max_ratio / 8.0) * 8)
        batch = np.stack([_normalise(images[i], width) for i in chosen])
        for index, pred in zip(chosen, recogniser.run(batch), strict=True):
            results[int(index)] = _ctc_decode(pred, recogniser.alphabet, recogniser.allowed)
    return results


def _ctc_decode(pred: npt.NDArray[np.float32], alphabet: list[str],
                allowed: npt.NDArray[np.bool_] | None = None) -> Recognition:
    """Greedy CTC decoding (index 0 is the blank; a repeated index is one character), keeping each
    character's probability. The line's confidence is their mean, as PP-OCR reports it.

    A step whose best guess is a character outside ``allowed`` reads the best character inside it
    (not the blank: the model saw a character there), at that character's own probability."""
    best = pred.argmax(axis=1)
    if allowed is not None:
        foreign = ~allowed[best]
        if foreign.any():
            best[foreign] = np.where(allowed, pred[foreign], -1.0)[:, 1:].argmax(axis=1) + 1
    prob = pred[np.arange(len(best)), best]
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
