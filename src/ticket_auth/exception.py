"""The errors raised for a ticket that cannot be accepted.

Every error keeps the rejected ticket in ``.ticket`` and a short reason in ``.msg``;
``str()`` gives ``'Ticket error: {msg}  ({ticket})'``, as ticket_auth 0.1.4 does.
No message ever contains the secret or the digest the ticket should have had.
"""

__all__ = ["TicketError", "TicketParseError", "TicketDigestError", "TicketExpired"]


class TicketError(Exception):
    """Base class of every error about a ticket's content."""

    def __init__(self, ticket, msg=""):
        self.ticket = ticket
        self.msg = msg

    def __str__(self):
        return f"Ticket error: {self.msg}  ({self.ticket})"


class TicketParseError(TicketError):
    """The ticket is not in the exact form that ``TicketFactory.new`` mints."""

    def __init__(self, ticket, msg=""):
        super().__init__(ticket, msg)


class TicketDigestError(TicketError):
    """The digest does not match the ticket's content, secret and client address."""

    def __init__(self, ticket):
        super().__init__(ticket, "Invalid digest")


class TicketExpired(TicketError):
    """The digest is right but ``valid_until`` is not after ``now``."""

    def __init__(self, ticket):
        super().__init__(ticket, "Ticket expired")
