"""CI gates on the source: ruff (lint and format), ``mypy --strict`` on the package, the
compiled core's stub against the built extension (``mypy.stubtest``), and the workflow
against GitHub's schema. Tool versions are pinned in the ``packaging`` dependency group."""

import pytest

from _venv import ROOT

pytestmark = pytest.mark.packaging

LINTED = ["src", "tests", "setup.py"]


def test_ruff_check(tools):
    tools.run("-m", "ruff", "check", "--no-cache", *LINTED, cwd=ROOT)


def test_ruff_format(tools):
    tools.run("-m", "ruff", "format", "--check", "--no-cache", *LINTED, cwd=ROOT)


def test_mypy_strict(tools, workdir):
    # [tool.mypy] in pyproject.toml also says strict; --strict makes the gate explicit.
    cache = workdir / "mypy-cache"
    proc = tools.run("-m", "mypy", "--strict", "--cache-dir", cache, "src/ticket_auth", cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_stubs_match_the_runtime_modules(tools, dists, workdir):
    """The .pyi files shipped in the wheel against what the installed wheel holds: the
    compiled core, and the namedtuples of ticket_info (made at run time)."""
    tools.pip("install", "--quiet", "--no-deps", "--force-reinstall", dists.wheel)
    proc = tools.run(
        "-m",
        "mypy.stubtest",
        "--mypy-config-file",
        ROOT / "pyproject.toml",
        "ticket_auth._ticketcore",
        "ticket_auth.ticket_info",
        cwd=workdir,  # not the source tree: the installed package
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflow_matches_github_schema(tools):
    tools.run(
        tools.bin / "check-jsonschema",
        "--builtin-schema",
        "vendor.github-workflows",
        ROOT / ".github" / "workflows" / "wheels.yml",
    )
