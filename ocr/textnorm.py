"""Normalise recognised text: NFKC, no spaces inside numbers or between CJK characters."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence

_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_SPACE_NEXT_TO_CJK = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")
_SPACE_IN_NUMBER = re.compile(r"(?<=[\d.,])\s+(?=[\d.,%])|(?<=[-+])\s+(?=\d)")
_NUMBER_LIKE = re.compile(r"^[-+]?[\d.,\s]*\d[\d.,\s%]*$")
_MANY_SPACES = re.compile(r"\s{2,}")


def is_cjk(char: str) -> bool:
    return bool(re.match(rf"[{_CJK}]", char))


def looks_numeric(text: str) -> bool:
    """Amount, count or code as printed: digits with separators, optional sign."""
    return bool(_NUMBER_LIKE.match(text))


_DOTTED_THOUSANDS = re.compile(r"^([-+]?\d{1,3})((?:\.\d{3})+)\.(\d{1,2})$")


def _fix_thousands(number: str) -> str:
    """5.288.011.738.39 -> 5,288,011,738.39: low-resolution commas read as points.

    Only when there are several points, every inner group has three digits and the
    last has one or two: no real amount looks like that, so nothing else changes.
    """
    match = _DOTTED_THOUSANDS.match(number)
    if not match:
        return number
    return match.group(1) + match.group(2).replace(".", ",") + "." + match.group(3)


# 1,371:07: a decimal point that picked up a speck above it. Thousands groups make it an amount.
_COLON_DECIMAL = re.compile(r"^([-+]?\d{1,3}(?:,\d{3})+)[:;](\d{2})$")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    text = _COLON_DECIMAL.sub(r"\1.\2", text)
    if looks_numeric(text):
        return _fix_thousands(re.sub(r"\s+", "", text))
    text = _SPACE_NEXT_TO_CJK.sub("", text)
    text = _SPACE_IN_NUMBER.sub("", text)
    return _MANY_SPACES.sub(" ", text)


# What dust and stray marks are read as around a cell's text. A leading "-" is kept: it can be a sign.
_NOISE = ".·•'\"‘’“”′″`°*+,:;、。~_▪"
_AMOUNT = re.compile(r"^-?[\d,]*\d(\.\d+)?%?$")
_NUMERIC_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "i": "1", "|": "1"})
_CJK_EDGE_NOISE = ".·•'`*"
# Marks no label in these tables ends with: a comma, an enumeration comma, an opening quote,
# a hyphen or dash (rule stubs and specks past the last character are read as these).
_CJK_TAIL_NOISE = _CJK_EDGE_NOISE + ",、“‘-—–_~"
# A dot or an unpaired quote between two characters is a speck inside the text.
_SPECK_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])[.·'`“”‘’](?=[{_CJK}])")


def strip_noise(text: str) -> str:
    """Drop what dust was read as around a cell's text, where the rest shows it is noise.

    A number with marks around it (.326.71, 60.99:, 208') keeps only the number. CJK text loses
    ASCII dots, middle dots, stars and ticks at its ends, and commas, opening quotes and dashes at
    its end: no label in a fiscal table starts or ends with one, while real end punctuation
    (。 ” ) ] % :) is left alone. A dot or an unpaired quote between two characters is dropped.
    """
    stripped = text.lstrip(_NOISE.replace("-", "")).rstrip(_NOISE + "-")
    if stripped != text and _AMOUNT.match(stripped.replace(" ", "")):
        return stripped
    while len(text) > 1 and text[0] in _CJK_EDGE_NOISE and is_cjk(text[1]):
        text = text[1:]
    while len(text) > 2 and text[-1] in _CJK_TAIL_NOISE and (is_cjk(text[-2]) or text[-2] in "—-"):
        text = text[:-1]
    return _drop_inner_specks(text)


def _drop_inner_specks(text: str) -> str:
    """预“算 -> 预算, 科目.名称 -> 科目名称; quotes that pair up (“三公”经费) are real."""
    paired = text.count("“") == text.count("”") and text.count("‘") == text.count("’")
    if paired and "." not in text:
        return text
    return _SPECK_BETWEEN_CJK.sub(lambda m: m.group(0) if paired and m.group(0) in "“”‘’" else "", text)


# Flat bars a recogniser may give for the nil dash of an amount cell; 一 (CJK), ー (kana) and ─ (box
# drawing) are letters elsewhere, read as the hyphen here. Dashes proper are kept as printed.
_FLAT_BARS = frozenset("-‐‑‒–—―−－一ー─")
_BARS_AS_HYPHEN = str.maketrans({"一": "-", "ー": "-", "─": "-"})


def numeric_reading(text: str) -> str:
    """A numeric crop's text with letters that look like digits (O, l, I) read as those digits, and a
    reading of flat bars alone as the nil dash: in a crop of digit-shaped ink a 一 is a dash."""
    if text and len(text) <= 2 and set(text) <= _FLAT_BARS:
        return text.translate(_BARS_AS_HYPHEN)
    mapped = text.translate(_NUMERIC_LOOKALIKES)
    return mapped if mapped != text and _AMOUNT.match(mapped.replace(" ", "")) else text


def join_lines(lines: list[str]) -> str:
    """Join the lines of a wrapped cell: no space where a CJK character meets the break."""
    joined = ""
    for line in (part for part in lines if part):
        if joined and not (is_cjk(joined[-1]) or is_cjk(line[0])):
            joined += " "
        joined += line
    return joined


def carry_scores(source: str, scores: Sequence[float], result: str) -> tuple[float, ...]:
    """Per-character scores of ``source`` carried over to ``result``, a normalised form of it.

    Kept characters keep their score; a character that normalisation replaced takes the lowest
    score of what it replaced; one with no origin (a space put between joined lines) scores 1.
    """
    carried = [1.0] * len(result)
    matcher = difflib.SequenceMatcher(None, source, result, autojunk=False)
    for op, s0, s1, r0, r1 in matcher.get_opcodes():
        if op == "equal":
            carried[r0:r1] = scores[s0:s1]
        elif op == "replace":
            lowest = min(scores[s0:s1])
            carried[r0:r1] = [lowest] * (r1 - r0)
    return tuple(carried)
