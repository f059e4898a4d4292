"""Build the optional Cython core ``ticket_auth._ticketcore``.

* ``TICKET_AUTH_NO_EXTENSIONS=1`` (or an interpreter other than CPython): a pure build.
* A build that fails (no Cython, no C compiler, no Python headers) warns, naming the fix for
  that cause, and falls back to a pure build, except under ``CIBUILDWHEEL=1`` or
  ``TICKET_AUTH_REQUIRE_EXTENSION=1``, where it is an error: a wheel must never be silently
  pure. A failed build also removes the extension an earlier build left (in ``build/`` and,
  for an in-place or editable build, in ``src/ticket_auth/``), so that ``ticket_auth.CORE``
  says ``"pure"`` instead of a stale compiled core staying in use.
"""

import os
import platform
import re
import sys
import sysconfig
from pathlib import Path

import setuptools
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))

# pyproject.toml's metadata (an SPDX license string, license-files) needs setuptools 77. pip
# fetches it by itself (build-system.requires); `python setup.py ...` uses the environment's.
if int(setuptools.__version__.split(".")[0]) < 77:
    sys.exit(
        f"ticket_auth needs setuptools>=77 to build; this environment has {setuptools.__version__}.\n"
        'Set up the development environment with:  python -m pip install -e ".[dev]"\n'
        "(or build with pip, which fetches its own build requirements:  python -m pip install .)"
    )


def _flag(name):
    # As at import time (ticket_auth._core): any non-empty value sets the switch.
    return bool(os.environ.get(name))


def _version():
    """``__version__`` from src/ticket_auth/__init__.py, the one place it is written."""
    with open(os.path.join(HERE, "src", "ticket_auth", "__init__.py"), encoding="utf-8") as file:
        return re.search(r'^__version__ = "([^"]+)"$', file.read(), re.M).group(1)


NO_EXTENSIONS = _flag("TICKET_AUTH_NO_EXTENSIONS") or platform.python_implementation() != "CPython"
REQUIRE_EXTENSION = _flag("CIBUILDWHEEL") or _flag("TICKET_AUTH_REQUIRE_EXTENSION")

# The fix for each cause of a failed build, as the warning states it.
FIX_CYTHON = (
    "Cython is not installed. pip installs it by itself when it builds the package, but\n"
    '`python setup.py` uses this environment\'s: python -m pip install -e ".[dev]" installs it.'
)
FIX_HEADERS = (
    "The Python headers (Python.h) are missing. Install them: python3-dev (Debian, Ubuntu),\n"
    "python3-devel (Fedora, RHEL); the python.org installers (macOS, Windows) include them."
)
FIX_COMPILER = (
    "The C compiler is missing or failed. Install one: gcc or clang (Debian, Ubuntu:\n"
    "apt-get install build-essential), the Xcode command line tools (macOS:\n"
    "xcode-select --install) or the MSVC Build Tools (Windows). If one is installed, its\n"
    "output above says what failed."
)
FIX_OTHER = "The error above says what failed."


def _fix(exc):
    """The fix (one of FIX_*) for the exception that stopped the build."""
    if isinstance(exc, ImportError) and (exc.name or "").split(".")[0] == "Cython":
        return FIX_CYTHON
    from setuptools.errors import CCompilerError, ExecError, PlatformError

    if isinstance(exc, (CCompilerError, ExecError, PlatformError)):
        include = sysconfig.get_path("include")
        if not include or not os.path.exists(os.path.join(include, "Python.h")):
            return FIX_HEADERS
        return FIX_COMPILER
    return FIX_OTHER


class OptionalBuildExt(build_ext):
    """build_ext that turns a failed build into a warning and a pure install."""

    _gave_up = False

    def run(self):
        self._in_place = self.inplace  # setuptools' run() clears it while it builds
        try:
            from Cython.Build import cythonize

            for ext in self.extensions:  # .pyx -> .c, keeping setuptools' own Extension objects
                (generated,) = cythonize([ext], compiler_directives={"language_level": "3"}, quiet=True)
                ext.sources = generated.sources
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure means "no extension"
            self._give_up(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self._give_up(exc)

    def _stale_outputs(self):
        """Where an earlier build left the extension: build/, and the in-place copy."""
        for ext in self.extensions:
            filename = self.get_ext_filename(self.get_ext_fullname(ext.name))
            yield os.path.join(self.build_lib, filename)
            if self._in_place:
                package_dir = self.get_finalized_command("build_py").get_package_dir("ticket_auth")
                yield os.path.join(package_dir, os.path.basename(filename))

    def _give_up(self, exc):
        for path in self._stale_outputs():
            if os.path.exists(path):
                os.remove(path)
        if REQUIRE_EXTENSION:
            raise exc
        for ext in self.extensions:
            # Nothing to copy in place now. (Not before the raise above: setuptools turns an
            # optional extension's failure into a warning.)
            ext.optional = True
        if self._gave_up:  # one warning per build
            return
        self._gave_up = True
        if self._in_place:
            rebuild = (
                "Then rebuild in the checkout:\n"
                '  python -m pip install -e ".[dev]"     (or: python setup.py build_ext --inplace)'
            )
        else:
            rebuild = (
                "Then reinstall, without pip's cache of this build:\n"
                f'  pip install --no-cache-dir --force-reinstall --no-binary ticket-auth "ticket-auth=={_version()}"\n'
                "or, in a checkout:  pip install --no-cache-dir --force-reinstall ."
            )
        bar = "*" * 76
        print(
            f"\n{bar}\nWARNING: the compiled core of ticket_auth could not be built:\n  {exc}\n"
            "ticket_auth is installed with its pure-Python core, which is correct but slower.\n"
            f"For the fast core: {_fix(exc)}\n{rebuild}\n{bar}\n",
            file=sys.stderr,
        )


# depends: an edit to any part of the compiled core (C headers, Cython includes) rebuilds it.
_PARTS = sorted(str(path) for path in Path("src/_ticketlib").glob("*") if path.suffix in (".h", ".pxi"))
EXTENSIONS = (
    [] if NO_EXTENSIONS else [Extension("ticket_auth._ticketcore", ["src/_ticketcore.pyx"], depends=_PARTS)]
)

setup(ext_modules=EXTENSIONS, cmdclass={"build_ext": OptionalBuildExt})
