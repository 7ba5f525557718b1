"""The recogniser reads the script of the documents: simplified Chinese, never a foreign form of a character.

PP-OCRv6 (rapidocr 3.10's wheel) reads Chinese, Japanese and traditional forms alike; unconstrained it
read 本年收入 as 本年収八 and 决算数 as 決算数 on the tuning split. A step whose best guess lies outside the
documents' character set reads the best character inside it, at that character's own (lower) score.
"""

from __future__ import annotations

import numpy as np
import pytest
from ocr_pages import FONT_PATH
from PIL import Image, ImageDraw, ImageFont

from ocr.engines.base import CellCrop, OcrEngine
from ocr.engines.rapid import _ctc_decode, simplified_chinese
from ocr.textnorm import numeric_reading

ALPHABET = ["blank", "決", "决", "算", " "]


def _steps(*rows: dict[str, float]) -> np.ndarray:
    pred = np.zeros((len(rows), len(ALPHABET)), dtype=np.float32)
    for step, row in enumerate(rows):
        for char, prob in row.items():
            pred[step, ALPHABET.index(char)] = prob
    return pred


def test_a_foreign_form_the_model_prefers_is_read_as_the_best_allowed_character_and_shows_unsure() -> None:
    pred = _steps({"決": 0.8, "决": 0.15, "blank": 0.05}, {"blank": 0.9, "決": 0.1},
                  {"算": 0.97, "blank": 0.03})
    allowed = np.array([char in simplified_chinese() for char in ALPHABET])
    allowed[0] = allowed[-1] = True
    read = _ctc_decode(pred, ALPHABET, allowed)
    assert read.text == "决算"  # not the blank, though the blank scored above 决 at that step
    assert read.char_scores == pytest.approx((0.15, 0.97))
    assert _ctc_decode(pred, ALPHABET).text == "決算"  # unconstrained, the foreign form


def test_the_character_set_is_the_simplified_script_with_its_punctuation() -> None:
    charset = simplified_chinese()
    assert set("收入决算〇一二三—·、。，“”（）《》≥≤％‰√□0123456789.,-+%()[]abcXYZ") <= charset
    assert not set("収決國財ーアカ") & charset


def test_a_line_in_foreign_forms_is_read_in_simplified_characters(rapid_engine: OcrEngine) -> None:
    image = Image.new("L", (420, 64), 255)
    japanese_face = ImageFont.truetype(FONT_PATH, 40, index=0)
    ImageDraw.Draw(image).text((8, 8), "本年収入決算", fill=0, font=japanese_face)
    crop = CellCrop(image=np.asarray(image, dtype=np.uint8))
    read = rapid_engine.recognize([crop])[0]
    assert read.text and set(read.text) <= simplified_chinese(), read.text


@pytest.mark.parametrize(("raw", "read"), [("一", "-"), ("ー", "-"), ("一一", "--"), ("—", "—"), ("——", "——"),
                                           ("一般", "一般"), ("一1", "一1")])
def test_a_flat_bar_alone_in_a_numeric_crop_is_the_nil_dash(raw: str, read: str) -> None:
    assert numeric_reading(raw) == read
