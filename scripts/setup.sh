#!/usr/bin/env bash
# Fresh machine -> ready to run: system packages (incl. PostgreSQL, Redis), a virtualenv in .venv with
# exactly the locked Python packages (requirements/dev.lock, hash-checked), then the project itself.
# The lock is regenerated with scripts/lock.sh (see its header for upgrades).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
export PIP_DISABLE_PIP_VERSION_CHECK=1
# --no-deps: the lock is complete, pip must not resolve anything of its own.
.venv/bin/python -m pip install -q --require-hashes --no-deps -r requirements/dev.lock
# The project, built with the locked setuptools (no isolated build env with unpinned tools);
# setuptools says "Editable installation ... be careful with folders" on every editable install: an
# InformationOnly notice, not a fault, silenced by its message.
PYTHONWARNINGS="ignore:Editable installation" .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
.venv/bin/python -m pip check >/dev/null || { .venv/bin/python -m pip check; exit 1; }
echo "setup: ok ($(.venv/bin/python --version), $(grep -c '^[a-z0-9]' requirements/dev.lock) locked packages)"
