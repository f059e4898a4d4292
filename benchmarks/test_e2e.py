"""Keeps e2e_aiohttp.py working: its --smoke run (a few hundred requests per server).

The real end-to-end numbers come from running the script itself (see README.md). Like every
test that is not a benchmark, this one is skipped under --benchmark-only.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import _bench

SCRIPT = Path(__file__).resolve().parent / "e2e_aiohttp.py"


def test_e2e_smoke(require_module):
    require_module("aiohttp")
    impls = ["none"]
    for impl in _bench.TICKET_AUTH_IMPLS:
        try:
            _bench.load_impl(impl)
        except _bench.ImplUnavailableError:
            continue  # the benchmarks of that implementation report why
        impls.append(impl)
    loader = "wrk" if shutil.which("wrk") else "client"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--loader", loader, "--impls", ",".join(impls)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for impl in impls:
        assert any(line.startswith(impl + " ") for line in proc.stdout.splitlines()), proc.stdout
