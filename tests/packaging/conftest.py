"""Session fixtures for the packaging checks: each artefact is built once, in a temporary
directory, and shared by the checks that need it.

The tools (build, twine, auditwheel, cibuildwheel, ruff, mypy, ...) come from the
``packaging`` dependency group in pyproject.toml, installed into a virtual environment of
their own; nothing is installed into the environment running pytest. The checks are marked
``packaging`` (deselect them with ``-m "not packaging"``); they need PyPI and, for the
compiled builds, a C compiler.
"""

import shutil
import sys
import tarfile
import types

import pytest

from _venv import ROOT, Venv, clean_env, copy_sources, project_version


def _one(directory, pattern):
    found = sorted(directory.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {directory}, found {[p.name for p in found]}"
    return found[0]


def _unpack_sdist(sdist, target):
    """Unpack ``sdist`` into ``target``; return the project directory inside it."""
    with tarfile.open(sdist) as archive:
        if sys.version_info >= (3, 12):
            archive.extractall(target, filter="data")
        else:
            archive.extractall(target)  # noqa: S202 - our own sdist, just built
    return _one(target, "ticket_auth-*")


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("packaging")


@pytest.fixture(scope="session")
def tools(workdir):
    """A virtual environment with the ``packaging`` dependency group (``pip install --group``
    needs pip 25.1, so pip is upgraded first)."""
    env = Venv(workdir / "tools")
    env.pip("install", "--quiet", "--upgrade", "pip")
    env.pip("install", "--quiet", "--group", f"{ROOT / 'pyproject.toml'}:packaging")
    return env


@pytest.fixture(scope="session")
def source_tree(workdir):
    """A copy of the working tree's sources: builds write into the tree they build."""
    return copy_sources(workdir / "source")


@pytest.fixture(scope="session")
def dists(tools, source_tree, workdir):
    """``python -m build`` of (a copy of) the working tree: the sdist, and the wheel built
    from it."""
    out = workdir / "dist"
    proc = tools.run("-m", "build", "--outdir", out, source_tree, timeout=900)
    version = project_version()
    return types.SimpleNamespace(
        sdist=_one(out, f"ticket_auth-{version}.tar.gz"),
        wheel=_one(out, f"ticket_auth-{version}-*.whl"),
        log=proc.stdout + proc.stderr,
    )


@pytest.fixture(scope="session")
def sdist_tree(dists, workdir):
    """The unpacked sdist: the test suite runs from here against each installation."""
    return _unpack_sdist(dists.sdist, workdir / "sdist-tree")


@pytest.fixture(scope="session")
def pure_wheel(tools, dists, workdir):
    """The wheel built from the sdist with ``TICKET_AUTH_NO_EXTENSIONS=1``, as the workflow
    builds it (from a copy of the sdist of its own, which the build writes into)."""
    project = _unpack_sdist(dists.sdist, workdir / "pure-build")
    out = workdir / "pure-dist"
    env = clean_env(TICKET_AUTH_NO_EXTENSIONS="1")
    tools.run("-m", "build", "--wheel", "--outdir", out, project, env=env, timeout=900)
    shutil.rmtree(project.parent)
    return _one(out, "*.whl")


@pytest.fixture(scope="session")
def repaired_wheel(tools, dists, workdir):
    """``auditwheel repair`` of the compiled wheel (Linux only)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("auditwheel repairs Linux wheels only")
    out = workdir / "wheelhouse"
    proc = tools.run("-m", "auditwheel", "repair", "--wheel-dir", out, dists.wheel)
    return types.SimpleNamespace(path=_one(out, "*.whl"), log=proc.stdout + proc.stderr)
