"""ticket_auth: mod_auth_tkt-style authentication tickets, a drop-in for ticket_auth 0.1.4.

``ticket_auth.CORE`` tells which core is active: ``"compiled"`` (the Cython extension
``ticket_auth._ticketcore``) or ``"pure"`` (``ticket_auth._ticketcore_py``). The pure core
is used when the extension is not built, on interpreters other than CPython, or when the
environment variable ``TICKET_AUTH_NO_EXTENSIONS`` is set to a non-empty value.
"""

from . import ticket_factory
from .ticket_factory import *  # noqa: F403

# The package offers what its ticket_factory module offers (as 0.1.4's did): the factory,
# TicketInfo, the exceptions and CORE.
__all__ = ticket_factory.__all__
__version__ = "1.0.0"
