"""Normalise recognised text: NFKC, no spaces inside numbers or between CJK characters."""

from __future__ import annotations

import re
import unicodedata

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


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    if looks_numeric(text):
        return _fix_thousands(re.sub(r"\s+", "", text))
    text = _SPACE_NEXT_TO_CJK.sub("", text)
    text = _SPACE_IN_NUMBER.sub("", text)
    return _MANY_SPACES.sub(" ", text)


def join_lines(lines: list[str]) -> str:
    """Join the lines of a wrapped cell: no space where a CJK character meets the break."""
    joined = ""
    for line in (part for part in lines if part):
        if joined and not (is_cjk(joined[-1]) or is_cjk(line[0])):
            joined += " "
        joined += line
    return joined
