"""The errors raised for a ticket that cannot be accepted.

Every error keeps the rejected ticket in ``.ticket`` and a short reason in ``.msg``;
``str()`` gives ``'Ticket error: {msg}  ({ticket})'``, as ticket_auth 0.1.4 does.
No message ever contains the secret or the digest the ticket should have had.
"""

__all__ = ["TicketDigestError", "TicketError", "TicketExpired", "TicketParseError"]


class TicketError(Exception):
    """Base class of every error about a ticket's content."""

    ticket: object
    msg: str

    def __init__(self, ticket: object, msg: str = "") -> None:
        self.ticket = ticket
        self.msg = msg

    def __str__(self) -> str:
        return f"Ticket error: {self.msg}  ({self.ticket})"


# The subclasses set their attributes directly rather than through super().__init__: a
# rejected ticket is raised on the request path, and one Python frame less makes rejecting
# a forged ticket cheaper than accepting a good one.


class TicketParseError(TicketError):
    """The ticket is not in the exact form that ``TicketFactory.new`` mints."""

    def __init__(self, ticket: object, msg: str = "") -> None:
        self.ticket = ticket
        self.msg = msg


class TicketDigestError(TicketError):
    """The digest does not match the ticket's content, secret and client address."""

    def __init__(self, ticket: object) -> None:
        self.ticket = ticket
        self.msg = "Invalid digest"


class TicketExpired(TicketError):  # noqa: N818 - the name is 0.1.4's public API
    """The digest is right but ``valid_until`` is not after ``now``."""

    def __init__(self, ticket: object) -> None:
        self.ticket = ticket
        self.msg = "Ticket expired"
