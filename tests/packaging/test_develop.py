"""The README's "How to develop", in a fresh virtual environment and a copy of the sources:

* ``python -m pip install -e ".[dev]"`` is the one command that sets up a working development
  environment: the compiled core is built in place, and ``python setup.py build_ext
  --inplace`` rebuilds it;
* a rebuild that fails removes the in-place extension it could not replace (``CORE`` becomes
  ``"pure"``, never a stale compiled core), and its warning names the fix for the cause:
  Cython for a missing Cython, a C compiler for a failing one;
* ``python setup.py`` with a setuptools too old for pyproject.toml says how to set up, instead
  of failing on the metadata.
"""

import os
import time

import pytest

from _venv import Venv, clean_env, copy_sources

pytestmark = pytest.mark.packaging

WARNING = "WARNING: the compiled core of ticket_auth could not be built"
SETUP = 'python -m pip install -e ".[dev]"'


def _core(env, tree):
    return env.run("-c", "import ticket_auth; print(ticket_auth.CORE)", cwd=tree).stdout.strip()


def _extensions(tree):
    return sorted(path.name for path in (tree / "src" / "ticket_auth").glob("_ticketcore.*.so"))


def _touch(path):
    """Make ``path`` newer than anything built from it (so a rebuild really rebuilds)."""
    later = time.time() + 5
    os.utime(path, (later, later))


def _build_in_place(env, tree, **environ):
    proc = env.run("setup.py", "build_ext", "--inplace", cwd=tree, env=clean_env(**environ), check=False)
    return proc, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def develop(workdir):
    """A copy of the sources and a fresh venv with the README's development set-up."""
    tree = copy_sources(workdir / "develop")
    env = Venv(workdir / "venv-develop")
    env.pip("install", "--quiet", "-e", ".[dev]", cwd=tree, timeout=900)
    return env, tree


def test_dev_extra_sets_up_a_working_environment(develop):
    env, tree = develop
    assert _core(env, tree) == "compiled"
    assert len(_extensions(tree)) == 1
    _touch(tree / "src" / "_ticketcore.pyx")
    proc, output = _build_in_place(env, tree)
    assert proc.returncode == 0, output[-3000:]
    assert WARNING not in output
    assert _core(env, tree) == "compiled"


@pytest.mark.skipif(not os.name == "posix", reason="CC=false is a POSIX way to break the compiler")
def test_failed_rebuilds_name_the_fix_and_leave_no_stale_core(develop):
    env, tree = develop
    pyx = tree / "src" / "_ticketcore.pyx"

    # No Cython: the warning says to set up the dev environment, not to install a compiler.
    env.pip("uninstall", "--quiet", "--yes", "Cython")
    _touch(pyx)
    proc, output = _build_in_place(env, tree)
    assert proc.returncode == 0, output[-3000:]
    assert WARNING in output and "No module named 'Cython'" in output
    assert "Cython is not installed" in output and SETUP in output
    assert "C compiler" not in output
    assert _extensions(tree) == [] and _core(env, tree) == "pure"

    # Back to a working build.
    env.pip("install", "--quiet", "Cython>=3.1")
    proc, output = _build_in_place(env, tree)
    assert proc.returncode == 0 and WARNING not in output, output[-3000:]
    assert _core(env, tree) == "compiled"

    # A compiler that fails: the warning names the compiler.
    _touch(pyx)
    proc, output = _build_in_place(env, tree, CC="false")
    assert proc.returncode == 0, output[-3000:]
    assert WARNING in output and "C compiler is missing or failed" in output
    assert "Cython is not installed" not in output
    assert _extensions(tree) == [] and _core(env, tree) == "pure"


def test_setup_py_with_an_old_setuptools_says_how_to_set_up(workdir):
    tree = copy_sources(workdir / "old-setuptools")
    env = Venv(workdir / "venv-old-setuptools")
    env.pip("install", "--quiet", "setuptools<77")
    proc = env.run("setup.py", "build_ext", "--inplace", cwd=tree, check=False)
    assert proc.returncode != 0
    assert "needs setuptools>=77" in proc.stderr and SETUP in proc.stderr, proc.stderr[-3000:]
    assert _extensions(tree) == []
