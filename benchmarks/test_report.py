"""Keeps report.py working, on a synthetic results file shaped like a full run's.

(Generated reports are not kept in the repository: the README shows the summary and the
chart of the latest full run.) Like every test that is not a benchmark, this one is skipped
under --benchmark-only.
"""

import json

import pytest

import _bench
import report

# A plausible time per call (seconds) for each implementation.
SECONDS = {
    _bench.FLOOR_B: 0.4e-6,
    _bench.FLOOR_A: 0.9e-6,
    _bench.COMPILED: 0.8e-6,
    _bench.COMPILED_HASHLIB: 1.3e-6,
    _bench.PURE: 3.9e-6,
    _bench.V014: 10e-6,
    _bench.ITSDANGEROUS: 5e-6,
    _bench.PYRAMID: 9e-6,
}


def entry(group, seconds, **info):
    stats = {"min": seconds, "median": seconds * 1.05, "mean": seconds * 1.1, "stddev": seconds / 20}
    return {"group": group, "extra_info": info, "stats": {**stats, "rounds": 100, "iterations": 1000}}


def synthetic_run():
    benchmarks = []
    for case in _bench.all_cases():
        fields = {"hashalg": case.hashalg, "size": case.size, "ip": case.ip_name}
        for impl in _bench.ALL_IMPLS:
            for outcome in _bench.OUTCOMES:
                group = _bench.group_name("validate", case, outcome)
                benchmarks.append(
                    entry(group, SECONDS[impl], op="validate", outcome=outcome, impl=impl, **fields)
                )
            group = _bench.group_name("new", case)
            benchmarks.append(entry(group, SECONDS[impl], op="new", outcome=None, impl=impl, **fields))
        for impl in _bench.PARSE_IMPLS:
            group = _bench.group_name("parse", case)
            benchmarks.append(entry(group, SECONDS[impl] / 3, op="parse", outcome=None, impl=impl, **fields))
    for digest in _bench.AUTHTKT_DIGESTS:
        for op in ("validate", "new"):
            for impl in _bench.AUTHTKT_IMPLS:
                info = {
                    "op": f"authtkt-{op}",
                    "hashalg": digest,
                    "size": "typical",
                    "ip": "ipv4",
                    "impl": impl,
                }
                benchmarks.append(entry(f"authtkt-{op}-{digest}", SECONDS[impl], outcome=None, **info))
    targets = {
        "op": "targets",
        "impl": "targets",
        "repeats": 3,
        "sample_ns": 100_000,
        "targets": [
            {"target": "sha512: compiled validate / floor B", "ratio": 1.9, "ratio_median": 2.0, "op": "<="}
            | {"limit": 2.0, "passed": True},
            {"target": "floor A / floor B", "ratio": 2.2, "ratio_median": 2.3, "op": "", "limit": None}
            | {"passed": True},
        ],
    }
    benchmarks.append({"group": "targets", "extra_info": targets, "stats": entry("", 1.0)["stats"]})
    machine = {"cpu": {"brand_raw": "Test CPU", "count": 2}, "system": "Linux", "python_version": "3.x"}
    return {"machine_info": machine, "commit_info": {"id": "0" * 40}, "benchmarks": benchmarks}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "bench.json"
    path.write_text(json.dumps(synthetic_run()), encoding="utf-8")
    return path


def test_markdown(results, tmp_path):
    out = tmp_path / "report.md"
    assert report.main([str(results), "--markdown", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    for heading in ("## Targets", "## Overview", "### validate", "### new", "### parse", "## Details"):
        assert heading in text
    assert "### authtkt-validate" in text and "(reported)" in text
    assert "`validate-sha512-typical-ipv4-valid`" in text
    assert "| sha512: compiled validate / floor B | 2.00× | ≤ 2× | PASS |" in text
    assert "Python " in text


def test_png(results, tmp_path, require_module):
    require_module("matplotlib")
    out = tmp_path / "report.png"
    assert report.main([str(results), "--png", str(out), "--markdown", str(tmp_path / "r.md")]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_untimed_run(tmp_path):
    # A --benchmark-disable run saves no timings: the report says so instead of failing.
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"machine_info": {}, "commit_info": {}, "benchmarks": []}))
    out = tmp_path / "empty.md"
    assert report.main([str(empty), "--markdown", str(out), "--png", str(tmp_path / "e.png")]) == 0
    assert "No timed benchmarks" in out.read_text(encoding="utf-8")
