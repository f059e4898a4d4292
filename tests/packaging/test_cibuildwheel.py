"""cibuildwheel's selection: exactly the intended wheels, and a workflow that builds them all.

Building needs a container engine (Linux) or the target OS, which this machine lacks; the
workflow (.github/workflows/wheels.yml) builds and tests every wheel. Here cibuildwheel reads
the configuration from the unpacked sdist, as the workflow does, and prints what it would
build.
"""

import itertools
import json
import re

import pytest

from _venv import ROOT, clean_env, group_leaves_out, run

# cibuildwheel 4.3.5 needs Python 3.11 or later: on 3.10 the packaging group leaves it out
# and these checks skip (the other Pythons, and the workflow's 3.13, run them).
_LEFT_OUT = group_leaves_out("cibuildwheel")
pytestmark = [pytest.mark.packaging, pytest.mark.skipif(_LEFT_OUT is not None, reason=str(_LEFT_OUT))]

PYTHONS = ["cp310", "cp311", "cp312", "cp313", "cp314", "cp314t"]
PLATFORM_TAGS = {
    "linux": ["manylinux_x86_64", "manylinux_aarch64", "musllinux_x86_64", "musllinux_aarch64"],
    "macos": ["macosx_x86_64", "macosx_arm64"],
    "windows": ["win_amd64", "win_arm64"],
}
INTENDED = {
    platform: sorted(f"{python}-{tag}" for python in PYTHONS for tag in tags)
    for platform, tags in PLATFORM_TAGS.items()
}
WORKFLOW = ROOT / ".github" / "workflows" / "wheels.yml"


def _identifiers(tools, sdist_tree, platform, archs=None):
    cmd = [tools.bin / "cibuildwheel", "--print-build-identifiers", "--platform", platform]
    if archs:
        cmd += ["--archs", archs]
    # Only the configuration in pyproject.toml counts, not CIBW_* variables of this shell.
    env = {key: value for key, value in clean_env().items() if not key.startswith("CIBW_")}
    lines = run(cmd, cwd=sdist_tree, env=env).stdout.split()
    assert len(lines) == len(set(lines)), lines
    return lines


def test_print_build_identifiers_linux(tools, sdist_tree):
    printed = _identifiers(tools, sdist_tree, "linux")
    print("\n".join(printed))
    assert sorted(printed) == INTENDED["linux"]
    assert len(printed) == 24


@pytest.mark.parametrize("platform", ["macos", "windows"])
def test_print_build_identifiers_other_platforms(tools, sdist_tree, platform):
    assert sorted(_identifiers(tools, sdist_tree, platform)) == INTENDED[platform]


@pytest.fixture(scope="session")
def workflow(tools):
    code = "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))))"
    return json.loads(tools.run("-c", code, WORKFLOW).stdout)


def test_workflow_builds_every_identifier_once(tools, sdist_tree, workflow):
    """Each runner of the wheels job builds its platform and architecture; together, every
    intended identifier, none twice."""
    built = []
    for entry in workflow["jobs"]["wheels"]["strategy"]["matrix"]["include"]:
        built += _identifiers(tools, sdist_tree, entry["platform"], entry["archs"])
    assert len(built) == len(set(built)), sorted(built)
    assert sorted(built) == sorted(itertools.chain.from_iterable(INTENDED.values()))


def test_workflow_builds_from_the_sdist_and_publishes_on_tags(workflow, tools):
    jobs = workflow["jobs"]
    steps = jobs["wheels"]["steps"]
    (cibw,) = [step for step in steps if "python -m cibuildwheel" in step.get("run", "")]
    # From the downloaded sdist, with the platform and architecture of the matrix entry.
    assert re.search(r"^sdist=\$\(ls sdist/\*\.tar\.gz\)$", cibw["run"], re.M), cibw["run"]
    assert 'python -m cibuildwheel --output-dir wheelhouse "${sdist}"' in cibw["run"]
    assert cibw["env"] == {"CIBW_PLATFORM": "${{ matrix.platform }}", "CIBW_ARCHS": "${{ matrix.archs }}"}
    # The same cibuildwheel as the one whose selection is checked above.
    code = "import importlib.metadata as m; print(m.version('cibuildwheel'))"
    version = tools.run("-c", code).stdout.strip()
    assert re.findall(r"cibuildwheel==\S+", cibw["run"]) == [f"cibuildwheel=={version}"]
    assert "TICKET_AUTH_NO_EXTENSIONS" in json.dumps(jobs["pure-wheel"])
    publish = jobs["publish"]
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"  # protection rules live on the environment
    assert "refs/tags/v" in publish["if"]
    assert set(publish["needs"]) >= {"sdist", "pure-wheel", "wheels"}
    assert any(step.get("uses", "").startswith("pypa/gh-action-pypi-publish@") for step in publish["steps"])
    # The workflow's own comment claims the config below; keep them in step.
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^test-environment = \{.*TICKET_AUTH_REQUIRE_EXTENSION = "1"', pyproject, re.M)
    assert re.search(r"^test-command = .*-m \"not packaging\"", pyproject, re.M)
