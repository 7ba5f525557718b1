"""Schemathesis against the live loopback server: generated requests for every operation in the
app's own OpenAPI document must never produce a server error (bounded number of examples)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from svc_harness import Server

MAX_EXAMPLES = 8


def test_no_server_errors_under_generated_requests(server: Server, tmp_path: Path) -> None:
    key = server.new_key("fuzzer")
    st = Path(sys.executable).with_name("st")
    command = [
        str(st), "run", f"{server.url}/openapi.json", "--checks", "not_a_server_error",
        "--header", f"Authorization: Bearer {key}", "--max-examples", str(MAX_EXAMPLES),
        "--phases", "examples,coverage,fuzzing", "--workers", "1", "--request-timeout", "60",
        "--suppress-health-check", "all", "--seed", "20261122",
    ]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=400,
                            cwd=tmp_path,
                            env={"NO_PROXY": "*", "PATH": str(st.parent), "HOME": str(tmp_path)})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:] + "\n--- server log ---\n" + server.log_tail()
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts is not None and int(counts[1]) == int(counts[2]) >= 100, output[-2000:]
