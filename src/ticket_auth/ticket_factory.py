"""``TicketFactory`` and ``TicketInfo``, from the compiled core when it is available.

    factory = TicketFactory(b"secret")                # hashalg="sha512" by default
    ticket = factory.new("alice", tokens=("admin",), user_data="x", client_ip="10.0.0.1")
    info = factory.validate(ticket, client_ip="10.0.0.1")   # or raises a TicketError

``CORE`` is ``"compiled"`` or ``"pure"``; both cores stay importable side by side as
``ticket_auth._ticketcore`` and ``ticket_auth._ticketcore_py``.
"""

from __future__ import annotations

from ._core import CORE, TicketFactory
from .ticket_info import TicketInfo

__all__ = ["CORE", "TicketFactory", "TicketInfo"]
