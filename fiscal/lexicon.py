"""The vocabulary of these reports for ``ocr.lexicon``: classification names and template headings."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from fiscal.codes import ECONOMIC, FUNCTION, edition
from ocr.lexicon import Lexicon


@lru_cache(maxsize=1)
def fiscal_lexicon() -> Lexicon:
    names = [entry.name for system in (FUNCTION, ECONOMIC) for entry in edition(system).entries.values()]
    headings = (resources.files("fiscal") / "data" / "header_terms.txt").read_text("utf-8").splitlines()
    return Lexicon.of([*names, *(line for line in headings if line and not line.startswith("#"))])
