"""Finding kinds: every finding id the fiscal layer can emit, declared where it is emitted.

A kind carries what a user reads in docs/rules.md (severity, titles, what it compares) and builds the
findings of its id, so an id cannot be emitted without a declaration. ``fiscal.catalog`` collects them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ocr.contract import Finding, Severity

__all__ = ["INTERNAL", "FindingKind", "Severity", "merge_kinds"]


@dataclass(frozen=True)
class FindingKind:
    """One finding id as users see it: its severity when the compared figures disagree, its title in
    both languages and, in plain words, what it compares. Declared next to the code that emits it."""

    id: str
    severity: Severity
    title: str
    title_en: str
    compares: str

    def finding(self, message: str, message_en: str = "", *, severity: Severity | None = None,
                **where: Any) -> Finding:
        """The one way a finding is built: id and default severity come from the declaration."""
        return Finding(rule=self.id, severity=severity or self.severity, message=message,
                       message_en=message_en, **where)


def merge_kinds(kinds: Iterable[FindingKind]) -> tuple[FindingKind, ...]:
    """One declaration per id where a table of identities names an id more than once: the first
    title stays, what each entry compares is joined."""
    merged: dict[str, FindingKind] = {}
    for kind in kinds:
        known = merged.get(kind.id)
        if known is None:
            merged[kind.id] = kind
        elif known.severity != kind.severity:
            raise ValueError(f"{kind.id} is declared both {known.severity} and {kind.severity}")
        elif kind.compares not in known.compares:
            merged[kind.id] = replace(known, compares=f"{known.compares}; {kind.compares}")
    return tuple(merged.values())


INTERNAL = FindingKind("internal", "warning", "规则执行异常", "a rule raised",
                       "nothing: a check failed to run; the other checks still ran")

