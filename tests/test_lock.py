"""The lock files pin the whole environment: every package with hashes, every declared dependency
satisfied, the runtime lock a subset of the dev lock at the same versions, and the installed venv equal
to the dev lock (so the suite runs the versions that were locked, not whatever a machine picked up)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "requirements"
_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)((?:\s*\\\n\s*--hash=sha256:[0-9a-f]{64})+)", re.M)


def _pins(name: str) -> dict[str, str]:
    text = (LOCKS / name).read_text()
    requirement_lines = [ln for ln in text.splitlines() if ln and not ln.startswith((" ", "#"))]
    entries = {canonicalize_name(m.group(1)): m.group(2) for m in _ENTRY.finditer(text)}
    assert len(entries) == len(requirement_lines), "every pinned line needs ==VERSION and sha256 hashes"
    return entries


def _declared(extra: str | None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"])
    if extra:
        names += project["optional-dependencies"][extra]
    return [Requirement(n) for n in names]


def test_every_declared_dependency_is_locked_within_its_range() -> None:
    for lock, extra in (("dev.lock", "dev"), ("runtime.lock", None)):
        pins = _pins(lock)
        for requirement in _declared(extra):
            name = canonicalize_name(requirement.name)
            assert name in pins, f"{requirement} is not in {lock}: run bash scripts/lock.sh"
            assert requirement.specifier.contains(pins[name], prereleases=True), (
                f"{lock} pins {name}=={pins[name]} outside {requirement.specifier}: run bash scripts/lock.sh")


def test_runtime_lock_is_the_dev_lock_minus_dev_tools() -> None:
    dev, runtime = _pins("dev.lock"), _pins("runtime.lock")
    assert {name: dev.get(name) for name in runtime} == runtime
    for tool in ("pytest", "ruff", "mypy"):
        assert tool in dev and tool not in runtime


def test_the_environment_running_the_tests_is_the_locked_one() -> None:
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    pins = _pins("dev.lock")
    differing = {n: (v, installed.get(n)) for n, v in pins.items() if installed.get(n) != v}
    assert not differing, f"installed versions differ from requirements/dev.lock: {differing}"
