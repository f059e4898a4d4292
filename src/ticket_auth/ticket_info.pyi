"""Types of ``ticket_info`` (namedtuples made at run time by ``collections.namedtuple``)."""

from typing import NamedTuple

__all__ = ["AuthTktInfo", "FallbackAuthTktInfo", "FallbackTicketInfo", "TicketInfo"]

class TicketInfo(NamedTuple):
    digest: str
    user_id: str
    tokens: tuple[str, ...]
    user_data: str
    valid_until: int
    @property
    def fallback_secret_used(self) -> bool: ...

class FallbackTicketInfo(TicketInfo): ...

class AuthTktInfo(NamedTuple):
    digest: str
    user_id: str
    tokens: tuple[str, ...]
    user_data: str
    timestamp: int
    @property
    def fallback_secret_used(self) -> bool: ...

class FallbackAuthTktInfo(AuthTktInfo): ...
