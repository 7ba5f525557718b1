"""Rule modules; importing this package registers every rule in fiscal.rules.REGISTRY."""

from fiscal.checks import cross, narrative, perf, structure, tables

__all__ = ["cross", "narrative", "perf", "structure", "tables"]
