"""Rule modules; importing this package registers every rule in fiscal.rules.REGISTRY."""

from fiscal.checks import completeness, cross, narrative, perf, structure, tables, wording

__all__ = ["completeness", "cross", "narrative", "perf", "structure", "tables", "wording"]
