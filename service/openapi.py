"""The committed OpenAPI document (openapi/openapi.json) is generated from the app, never by hand."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "openapi" / "openapi.json"


def openapi_schema() -> dict[str, Any]:
    from service.app import create_app
    from service.settings import Settings

    # A throwaway data dir: building the app must not touch the real one.
    with tempfile.TemporaryDirectory(prefix="fiscalocr-openapi-") as tmp:
        app = create_app(Settings(data_dir=Path(tmp), run_migrations=False, workers=1), configure_logs=False)
        schema = app.openapi()
        app.state.engine.dispose()
    return schema


def render() -> str:
    return json.dumps(openapi_schema(), indent=2, ensure_ascii=False) + "\n"


def write(path: Path = COMMITTED) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")
    return path
