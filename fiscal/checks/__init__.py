"""The rule modules and ``RULES``, every rule in the order it runs (the order findings are listed in)."""

from fiscal.checks import completeness, cross, narrative, perf, structure, tables, wording
from fiscal.rules import Rule

RULES: tuple[Rule, ...] = (
    *completeness.RULES,
    *tables.RULES,
    *cross.RULES,
    *perf.RULES,
    *narrative.RULES,
    *structure.RULES,
    *wording.RULES,
)

__all__ = ["RULES", "completeness", "cross", "narrative", "perf", "structure", "tables", "wording"]
