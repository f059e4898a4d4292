"""``TicketInfo``: what a parsed or validated ticket holds."""

from collections import namedtuple

__all__ = ["AuthTktInfo", "FallbackAuthTktInfo", "FallbackTicketInfo", "TicketInfo"]

# Named after ticket_auth.ticket_factory (which offers it, as 0.1.4's did), so that a pickled
# TicketInfo names a module both this version and 0.1.4 have: pickles load either way (a shared
# cache during a rolling deploy). FallbackTicketInfo and the AuthTkt types are new: they pickle
# under this module, which only this version has.
TicketInfo = namedtuple(
    "TicketInfo",
    ["digest", "user_id", "tokens", "user_data", "valid_until"],
    module="ticket_auth.ticket_factory",
)
TicketInfo.__doc__ = """The fields of a ticket, unquoted.

digest: the ticket's own digest text (lowercase hex).
user_id, user_data: str.
tokens: tuple of str (``()`` when the ticket has none).
valid_until: int, seconds since the epoch.

``fallback_secret_used`` is False: the ticket was signed with the factory's current secret.
"""
TicketInfo.fallback_secret_used = False
TicketInfo.digest.__doc__ = "The ticket's own digest text (lowercase hex)."
TicketInfo.user_id.__doc__ = "The user id (str)."
TicketInfo.tokens.__doc__ = "The tokens (tuple of str; ``()`` when the ticket has none)."
TicketInfo.user_data.__doc__ = "The user data (str)."
TicketInfo.valid_until.__doc__ = "The expiry (int, seconds since the epoch)."


class FallbackTicketInfo(TicketInfo):
    """A ``TicketInfo`` from ``validate`` for a ticket signed with one of the factory's
    ``fallback_secrets``: still valid, but reissue it (``factory.new(...)``) so that it is
    signed with the current secret before the old one is retired."""

    __slots__ = ()
    fallback_secret_used = True


AuthTktInfo = namedtuple("AuthTktInfo", ["digest", "user_id", "tokens", "user_data", "timestamp"])
AuthTktInfo.__doc__ = """The fields of a mod_auth_tkt ticket.

digest: the ticket's own digest text (lowercase hex).
user_id, user_data: str; tokens: tuple of str.
timestamp: int, the ISSUE time in seconds since the epoch (not an expiry).

``fallback_secret_used`` is False: the ticket was signed with the factory's current secret.
"""
AuthTktInfo.fallback_secret_used = False
AuthTktInfo.digest.__doc__ = "The ticket's own digest text (lowercase hex)."
AuthTktInfo.user_id.__doc__ = "The user id (str)."
AuthTktInfo.tokens.__doc__ = "The tokens (tuple of str; ``()`` when the ticket has none)."
AuthTktInfo.user_data.__doc__ = "The user data (str)."
AuthTktInfo.timestamp.__doc__ = "The issue time (int, seconds since the epoch), not an expiry."


class FallbackAuthTktInfo(AuthTktInfo):
    """An ``AuthTktInfo`` for a ticket signed with one of the factory's ``fallback_secrets``
    (Apache's ``TKTAuthSecretOld``): valid, but reissue it with the current secret."""

    __slots__ = ()
    fallback_secret_used = True
