#!/usr/bin/env bash
# Regenerate the hashed lock files from pyproject.toml (+ requirements/build.in):
#   requirements/dev.lock      everything setup.sh installs (runtime + dev tools + build tools)
#   requirements/runtime.lock  what the Docker image installs (a subset of dev.lock, same versions)
#
#   bash scripts/lock.sh                       after adding/removing a dependency or after a merge:
#                                              keeps every version already locked, resolves only what changed
#   bash scripts/lock.sh --upgrade             move every package to the newest allowed version
#   bash scripts/lock.sh --upgrade-package X   move only X (repeatable)
# Then: bash scripts/setup.sh && bash scripts/test.sh, and commit pyproject.toml with requirements/*.lock.
# A merge conflict inside a lock file: take either side (git checkout --theirs requirements/), rerun this.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9  # the resolver; a newer one may format the files differently
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/uv ] || ! .venv/bin/uv --version | grep -q " $UV_VERSION"; then
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q "uv==$UV_VERSION"
fi
common=(--python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes
        --custom-compile-command "bash scripts/lock.sh" --quiet)
.venv/bin/uv pip compile pyproject.toml requirements/build.in --extra dev "${common[@]}" "$@" \
  --output-file requirements/dev.lock
# Runtime: the same versions as dev.lock, never newer (constrained by it).
.venv/bin/uv pip compile pyproject.toml requirements/build.in "${common[@]}" \
  --constraints requirements/dev.lock --output-file requirements/runtime.lock
echo "lock: requirements/dev.lock ($(grep -c '^[a-z0-9]' requirements/dev.lock) packages)," \
     "requirements/runtime.lock ($(grep -c '^[a-z0-9]' requirements/runtime.lock) packages)"
