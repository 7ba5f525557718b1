"""The OCR engine interface: cell crops in, text + confidence out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

GrayImage = npt.NDArray[np.uint8]
CellKind = Literal["numeric", "text"]


@dataclass(frozen=True)
class CellCrop:
    """One cell image, already cropped tight to its ink, dark text on white."""

    image: GrayImage
    kind: CellKind = "text"


@dataclass(frozen=True)
class Recognition:
    text: str
    confidence: float  # 0..1
    # One score (0..1) per character of ``text`` where the engine gives them, else empty: what tells
    # the one doubtful character of a label from a reading that is sure throughout.
    char_scores: tuple[float, ...] = ()


class OcrEngine(Protocol):
    name: str

    def recognize(self, crops: Sequence[CellCrop]) -> list[Recognition]:
        """Read every crop; one Recognition per crop, same order. Batches where the engine allows."""
        ...


class Orientation(Protocol):
    """Tells text lines that are upside down (a page scanned the wrong way round)."""

    def upside_down_share(self, lines: Sequence[GrayImage]) -> float:
        """Share of the line crops (weighted by confidence) that read as rotated 180°."""
        ...
