"""``TicketFactory`` and ``TicketInfo``, from the compiled core when it is available.

    factory = TicketFactory(b"secret")                # hashalg="sha512" by default
    ticket = factory.new("alice", tokens=("admin",), user_data="x", client_ip="10.0.0.1")
    info = factory.validate(ticket, client_ip="10.0.0.1")   # or raises a TicketError

``CORE`` is ``"compiled"`` or ``"pure"``; both cores stay importable side by side as
``ticket_auth._ticketcore`` and ``ticket_auth._ticketcore_py``.

As in ticket_auth 0.1.4, this module also offers the four exceptions (``TicketError``,
``TicketParseError``, ``TicketDigestError``, ``TicketExpired``; the same classes as
``ticket_auth.exception``'s) and the ``time`` module, so that test suites written for 0.1.4
keep working: ``mock.patch("ticket_auth.ticket_factory.time.time", ...)`` patches the clock
both cores read (they look up ``time.time`` on each call). Replacing the module attribute
itself (``mock.patch("ticket_auth.ticket_factory.time", ...)``) is not honoured: the cores
do not read it. The other standard-library names 0.1.4 imported here (``hashlib``,
``ipaddress``, ``ip_address``, ``namedtuple``, ``pack``, ``ulp``) were never part of its API
and are not offered: import them from the standard library.
"""

import time  # noqa: F401 - offered as in 0.1.4 (see above)

from ._core import CORE, TicketFactory
from .exception import TicketDigestError, TicketError, TicketExpired, TicketParseError
from .ticket_info import TicketInfo

__all__ = [
    "CORE",
    "TicketDigestError",
    "TicketError",
    "TicketExpired",
    "TicketFactory",
    "TicketInfo",
    "TicketParseError",
]
