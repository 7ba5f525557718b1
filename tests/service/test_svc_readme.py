"""The README's "Using the service" block runs as pasted (against a real server; only the address and
the data folder are this test's own)."""

from __future__ import annotations

import os
import re
import subprocess

from svc_harness import ROOT, Server


def _usage_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Using the service"):]
    match = re.search(r"```bash\n(.*?)```", section, re.S)
    assert match, "no bash block under 'Using the service'"
    return match.group(1)


def test_readme_usage_block_runs_as_pasted(server: Server) -> None:
    script = _usage_block()
    assert "$JOB_ID" in script and "$DOC_ID" in script
    script = script.replace("API=http://127.0.0.1:8000", f"API={server.url}")
    script = script.replace("FISCALOCR_DATA_DIR=./data", f"FISCALOCR_DATA_DIR={server.data_dir}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FISCALOCR_")} | {"NO_PROXY": "*"}
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=600, env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert '"state":"succeeded"' in lines[-3], lines[-3]
    assert '"records":[{' in lines[-2], lines[-2][:300]
    assert '"findings":' in lines[-1]
