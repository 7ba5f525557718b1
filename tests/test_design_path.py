"""Every function docs/design.md cites for a stage of the data path exists under that name."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_SECTION = re.compile(r"## The data path\n(.*?)\n## ", re.S)
_NAME = re.compile(r"`((?:ocr|fiscal|service|models)(?:\.[A-Za-z_][A-Za-z0-9_]*)+)`")


def _cited() -> list[str]:
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    section = _SECTION.search(text)
    assert section, "docs/design.md has no '## The data path' section"
    return sorted(set(_NAME.findall(section.group(1))))


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise ModuleNotFoundError(dotted)


def test_the_path_cites_every_stage() -> None:
    assert len(_cited()) >= 25


@pytest.mark.parametrize("dotted", _cited())
def test_cited_name_exists(dotted: str) -> None:
    assert _resolve(dotted) is not None
