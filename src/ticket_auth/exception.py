"""The errors raised for a ticket that cannot be accepted.

Every error keeps the rejected ticket in ``.ticket`` and a short reason in ``.msg``.
``str()`` has ticket_auth 0.1.4's shape, ``'Ticket error: {msg}  ({...})'``, but where 0.1.4
put the whole ticket it puts only its length and a short prefix, e.g.
``'Ticket error: Invalid digest  (<ticket of 142 characters starting 'ab12'>)'``: an error
message ends up in logs, and a whole ticket there (a valid one that expired a moment ago, or
one refused for another address) could be replayed by whoever reads them. ``repr()`` hides it
the same way. No message ever contains the secret or the digest the ticket should have had.
"""

__all__ = ["TicketDigestError", "TicketError", "TicketExpired", "TicketParseError"]


# How many leading characters of a ticket a message may show (at most; and at most an eighth
# of the text, so that a short text is never shown whole). Four hex digits of a digest are 16
# bits of it: enough to tell two tickets apart in a log, nothing to forge or replay one with.
_PREFIX = 4


def _describe_ticket(ticket: object) -> str:
    """A description of ``ticket`` that cannot be replayed: its length and a short prefix.

    Args:
        ticket: the rejected ticket (usually a str; any object is described by its type).

    Returns:
        e.g. ``"<ticket of 142 characters starting 'ab12'>"``; the prefix is at most 4
        characters and at most an eighth of the text (none for a text shorter than 8).
    """
    if isinstance(ticket, str):
        unit = "characters"
    elif isinstance(ticket, (bytes, bytearray)):
        unit = "bytes"
    else:
        return f"<ticket of type {type(ticket).__name__}>"
    prefix = ticket[: min(_PREFIX, len(ticket) // 8)]
    start = f" starting {prefix!r}" if prefix else ""
    return f"<ticket of {len(ticket)} {unit}{start}>"


class TicketError(Exception):
    """Base class of every error about a ticket's content.

    Args:
        ticket: the rejected ticket, kept whole in ``.ticket`` (never in ``str()`` or
            ``repr()``: see ``_describe_ticket``).
        msg: why it was rejected, in ``.msg``.
    """

    ticket: object
    msg: str

    def __init__(self, ticket: object, msg: str = "") -> None:
        self.ticket = ticket
        self.msg = msg

    def __str__(self) -> str:
        return f"Ticket error: {self.msg}  ({_describe_ticket(self.ticket)})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({_describe_ticket(self.ticket)}, {self.msg!r})"


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
