"""``TicketFactory`` and ``TicketInfo``, from the compiled core when it is available.

    factory = TicketFactory(b"secret")                # hashalg="sha512" by default
    ticket = factory.new("alice", tokens=("admin",), user_data="x", client_ip="10.0.0.1")
    info = factory.validate(ticket, client_ip="10.0.0.1")   # or raises a TicketError

``CORE`` is ``"compiled"`` or ``"pure"``; both cores stay importable side by side as
``ticket_auth._ticketcore`` and ``ticket_auth._ticketcore_py``.
"""

from __future__ import annotations

import os
import sys

from .ticket_info import TicketInfo

__all__ = ["CORE", "TicketFactory", "TicketInfo"]

# typing.TYPE_CHECKING without importing typing, which `import ticket_auth` does not need.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Literal

    # Type checkers read the pure core; the compiled one has the same API, as its stub
    # (_ticketcore.pyi, checked against the built extension by stubtest) says.
    from ._ticketcore_py import TicketFactory

    CORE: Literal["compiled", "pure"]
elif os.environ.get("TICKET_AUTH_NO_EXTENSIONS") or sys.implementation.name != "cpython":
    from ._ticketcore_py import TicketFactory

    CORE = "pure"
else:
    try:
        from ._ticketcore import TicketFactory
    except ImportError:
        from ._ticketcore_py import TicketFactory

        CORE = "pure"
    else:
        CORE = "compiled"
