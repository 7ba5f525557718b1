"""The finding catalogue is the truth: every id emitted is declared where it is written, findings are
built only through a declaration, and docs/rules.md is generated from the declarations."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import fiscal
from fiscal import catalog
from fiscal.checks import RULES
from fiscal.findings import FindingKind
from fiscal.layout import analyse
from fiscal.rules import Context, Equation, Rule, run_rules

ROOT = Path(__file__).resolve().parents[2]


def _fiscal_modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(fiscal.__path__, "fiscal.")]


def test_docs_rules_md_is_generated_from_the_declarations():
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    drift = "docs/rules.md drifted: run `python -m fiscal.catalog > docs/rules.md`"
    assert committed == catalog.markdown(), drift


def test_every_declared_kind_is_in_the_catalogue():
    ids = {kind.id: kind for kind in catalog.all_kinds()}
    for name in _fiscal_modules():
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            if isinstance(value, FindingKind):
                assert value.id in ids, f"{name}.{attribute} ({value.id}) is not collected by fiscal.catalog"
                assert ids[value.id].severity == value.severity


def test_findings_are_built_only_through_a_declaration():
    """A hand-built ``Finding(...)`` would emit an id nobody declared."""
    offenders = []
    for path in sorted((ROOT / "fiscal").rglob("*.py")):
        if path.name == "findings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Finding":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_a_rule_emitting_an_undeclared_id_is_reported_not_passed_through():
    declared = FindingKind("TEST.A", "error", "测试", "test", "nothing")

    def sloppy(ctx: Context):
        yield FindingKind("TEST.B", "error", "测试", "test", "nothing").finding("x", "x")

    findings, _ = run_rules(Context([]), [Rule("TEST.SLOPPY", sloppy, (declared,))])
    assert [f.rule for f in findings] == ["internal"]
    assert "TEST.B" in findings[0].message_en


def test_an_equation_with_an_undeclared_id_is_reported(seed_text):
    def equation_rule(ctx: Context):
        for rule in RULES:
            if rule.name == "ROW":
                for item in rule.check(ctx):
                    assert isinstance(item, Equation)
                    item.rule = "TEST.UNDECLARED"
                    yield item

    validation = fiscal.validate_text_document(seed_text("000"))
    ctx = Context([analyse(table) for table in validation.tables])
    findings, outcomes = run_rules(ctx, [Rule("TEST.EQ", equation_rule, ())])
    assert outcomes == [] and [f.rule for f in findings] == ["internal"]


def test_every_id_emitted_on_the_seeds_is_declared(shared_dir: Path):
    ids = {kind.id for kind in catalog.all_kinds()}
    emitted: set[str] = set()
    for seed in sorted((shared_dir / "seeds").glob("*.txt")):
        result = fiscal.validate_text_document(seed.read_text(encoding="utf-8"))
        emitted |= {finding.rule for finding in result.findings}
    assert emitted, "the seeds produce findings"
    assert "internal" not in emitted
    assert emitted <= ids


def test_rule_names_are_unique_and_every_rule_declares_what_it_emits():
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert all(rule.emits for rule in RULES)
