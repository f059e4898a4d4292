"""Keeps report.py working: it renders the committed results (results/bench.json.gz).

Like every test that is not a benchmark, this one is skipped under --benchmark-only.
"""

import json

import pytest

import report

RESULTS = report.Path(__file__).resolve().parent / "results" / "bench.json.gz"


@pytest.fixture(scope="module")
def results():
    if not RESULTS.is_file():
        pytest.skip(f"no saved results to render: {RESULTS}")
    return RESULTS


def test_markdown(results, tmp_path):
    out = tmp_path / "report.md"
    assert report.main([str(results), "--markdown", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    for heading in ("## Targets", "## Overview", "### validate", "### new", "### parse", "## Details"):
        assert heading in text
    assert "`validate-sha512-typical-ipv4-valid`" in text
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
