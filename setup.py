"""Build the optional Cython core ``ticket_auth._ticketcore``.

* ``TICKET_AUTH_NO_EXTENSIONS=1`` (or an interpreter other than CPython): a pure build.
* A compile that fails (no C compiler, no Python headers) warns and falls back to a pure
  build, except under ``CIBUILDWHEEL=1`` or ``TICKET_AUTH_REQUIRE_EXTENSION=1``, where it is
  an error: a wheel must never be silently pure.
"""

import os
import platform
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def _flag(name):
    # As at import time (ticket_auth.ticket_factory): any non-empty value sets the switch.
    return bool(os.environ.get(name))


NO_EXTENSIONS = _flag("TICKET_AUTH_NO_EXTENSIONS") or platform.python_implementation() != "CPython"
REQUIRE_EXTENSION = _flag("CIBUILDWHEEL") or _flag("TICKET_AUTH_REQUIRE_EXTENSION")


class OptionalBuildExt(build_ext):
    """build_ext that turns a failed compile into a warning and a pure install."""

    def run(self):
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

    def _give_up(self, exc):
        if REQUIRE_EXTENSION:
            raise exc
        bar = "*" * 76
        print(
            f"\n{bar}\nWARNING: the compiled core of ticket_auth could not be built:\n  {exc}\n"
            "ticket_auth is installed with its pure-Python core, which is correct but slower.\n"
            "For the fast core, install a C compiler and the Python headers, then reinstall\n"
            "without pip's cache of this build:\n"
            f"  pip install --no-cache-dir --force-reinstall --no-binary ticket-auth ticket-auth\n{bar}\n",
            file=sys.stderr,
        )


EXTENSIONS = [] if NO_EXTENSIONS else [Extension("ticket_auth._ticketcore", ["src/_ticketcore.pyx"])]

setup(ext_modules=EXTENSIONS, cmdclass={"build_ext": OptionalBuildExt})
