"""The one place that chooses the core: compiled (``ticket_auth._ticketcore``) or pure
(``ticket_auth._ticketcore_py``). Every public module, the command line and the fuzz harness
import the factories from here.

* ``TICKET_AUTH_NO_EXTENSIONS`` set to a non-empty value, or an interpreter other than
  CPython: the pure core.
* Otherwise the compiled core, when it is installed. Only its absence
  (``ModuleNotFoundError`` for ``ticket_auth._ticketcore`` itself) falls back to the pure
  core: an extension that is present but fails to load (built for another interpreter, a
  missing symbol, a failed check at import) is an error, never a silent switch to the slower
  core.
"""

from __future__ import annotations

import importlib
import os
import sys

__all__ = ["CORE", "CORE_MODULES", "NO_EXTENSIONS", "AuthTktFactory", "TicketFactory", "load_core"]

# The module of each core, by the name ``ticket_auth.CORE`` reports.
CORE_MODULES = {"compiled": "ticket_auth._ticketcore", "pure": "ticket_auth._ticketcore_py"}

# The same rule as setup.py's, at import time.
NO_EXTENSIONS = bool(os.environ.get("TICKET_AUTH_NO_EXTENSIONS")) or sys.implementation.name != "cpython"

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time

if TYPE_CHECKING:
    from types import ModuleType
    from typing import Literal

    # Type checkers read the pure core; the compiled one has the same API, as its stub
    # (_ticketcore.pyi, checked against the built extension by stubtest) says.
    from ._ticketcore_py import AuthTktFactory, TicketFactory

    CORE: Literal["compiled", "pure"]


def load_core(name: str) -> ModuleType:
    """The module of the core called ``name`` (``"compiled"`` or ``"pure"``), whichever core
    is active; ``ModuleNotFoundError`` when the compiled core is not installed."""
    try:
        module_name = CORE_MODULES[name]
    except KeyError:
        raise ValueError(f"no core called {name!r}; the cores are {', '.join(CORE_MODULES)}") from None
    return importlib.import_module(module_name)


def _select() -> tuple[str, ModuleType]:
    if not NO_EXTENSIONS:
        try:
            return "compiled", load_core("compiled")
        except ModuleNotFoundError as exc:
            if exc.name != CORE_MODULES["compiled"]:
                raise
    return "pure", load_core("pure")


if not TYPE_CHECKING:
    CORE, _module = _select()
    TicketFactory = _module.TicketFactory
    AuthTktFactory = _module.AuthTktFactory
    del _module
