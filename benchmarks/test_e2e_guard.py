"""Keeps e2e_guard.py working: its --smoke run (each configuration checked, then ~1 s of wrk).

The real figures come from running the script itself (see README.md). It needs wrk (Debian:
``apt-get install wrk``; .ci/run installs it): without wrk it is skipped, except in CI
(``CI`` set), where it fails. Like every test that is not a benchmark, it is skipped under
--benchmark-only.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent / "e2e_guard.py"


def _without_missing_core(configs):
    """``configs`` less the compiled-core ones when the compiled core is not built (unless
    it is required)."""
    try:
        import ticket_auth._ticketcore  # noqa: F401
    except ImportError:
        if os.environ.get("TICKET_AUTH_REQUIRE_EXTENSION") == "1":
            raise
        return [config for config in configs if not config.endswith("-compiled")]
    return configs


def test_e2e_guard_smoke(require_module):
    for name in ("uvicorn", "starlette", "itsdangerous", "aiohttp"):
        require_module(name)
    if not shutil.which("wrk"):
        if os.environ.get("CI"):
            pytest.fail("wrk is not on PATH (apt-get install wrk), and CI must run this", pytrace=False)
        pytest.skip("wrk is not on PATH (apt-get install wrk)")
    configs = ["asgi-none", "asgi-none-cookie", "asgi-middleware", "asgi-guard-compiled", "asgi-guard-pure"]
    configs += ["asgi-session"]
    configs += ["aiohttp-none", "aiohttp-none-cookie", "aiohttp-middleware", "aiohttp-guard-compiled"]
    configs += ["aiohttp-guard-pure", "aiohttp_auth"]
    configs = _without_missing_core(configs)
    if os.environ.get("TICKET_AUTH_OFFLINE") == "1":
        configs.remove("aiohttp_auth")  # needs ticket_auth 0.1.4 and aiohttp_auth from PyPI
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--configs", ",".join(configs)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for config in configs:
        assert any(line.startswith(config + " ") for line in lines), proc.stdout
    # The table reads the server's CPU time per request where Linux tells it.
    if Path("/proc/self/task").is_dir():
        assert any("server CPU us/request" in line for line in lines), proc.stdout


def test_e2e_guard_in_process_smoke(require_module):
    for name in ("starlette", "itsdangerous"):
        require_module(name)
    configs = _without_missing_core(
        ["asgi-none", "asgi-middleware", "asgi-guard-compiled", "asgi-guard-pure", "asgi-session"]
    )
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--in-process", "--smoke", "--configs", ",".join(configs)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for config in configs:
        rows = 4 if "-guard-" in config else 3  # a guard's configuration also times validate alone
        assert sum(line.lstrip().startswith(config + " ") for line in proc.stdout.splitlines()) == rows
    assert "x validate" in proc.stdout
