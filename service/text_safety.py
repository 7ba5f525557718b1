"""Text that people type into the service and that the service writes into files people open.

* Input: control characters (NUL, ESC, CR/LF, ...) and the invisible bidirectional controls (the
  right-to-left override makes "1200" display as "0021") are refused: no printed table contains them.
* Output: a spreadsheet app runs a cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab/CR) as a
  formula (``=HYPERLINK(...)`` becomes a live link). Such text - unless it is a plain number like
  ``-12.50`` - is written with a leading apostrophe, which spreadsheets show as text. Characters XML
  cannot hold are replaced, so an XLSX export never fails on stored text.
"""

from __future__ import annotations

import re
import unicodedata

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER_RE = re.compile(r"^[+-]?(?:\d[\d,]*)?(?:\.\d+)?%?$")
_XML_ILLEGAL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def unsafe_characters(text: str) -> list[str]:
    """The control and bidi characters in ``text``, as U+XXXX names (empty when the text is fine)."""
    found = {ch for ch in text if unicodedata.category(ch) == "Cc" or ch in BIDI_CONTROLS}
    return sorted(f"U+{ord(ch):04X}" for ch in found)


def spreadsheet_safe(value: str) -> str:
    """``value`` as text a spreadsheet will not evaluate, with XML-illegal characters replaced."""
    value = _XML_ILLEGAL_RE.sub("\ufffd", value)
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER_RE.match(value):
        return "'" + value
    return value
