"""``TicketInfo``: what a parsed or validated ticket holds."""

from collections import namedtuple

__all__ = ["TicketInfo"]

TicketInfo = namedtuple("TicketInfo", ["digest", "user_id", "tokens", "user_data", "valid_until"])
TicketInfo.__doc__ = """The fields of a ticket, unquoted.

digest: the ticket's own digest text (lowercase hex).
user_id, user_data: str.
tokens: tuple of str (``()`` when the ticket has none).
valid_until: int, seconds since the epoch.
"""
