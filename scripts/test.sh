#!/usr/bin/env bash
# Lint, type-check and run every test suite (core + acceptance). Needs scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
bash scripts/start-services.sh
echo "== ruff";  ruff check .
echo "== mypy";  mypy ocr fiscal models service bench
echo "== pytest"
pytest -q -p no:cacheprovider "$@"
