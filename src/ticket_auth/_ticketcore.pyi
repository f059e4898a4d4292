"""Type stub of the compiled core (``src/_ticketcore.pyx`` and its parts in ``src/_ticketlib/``).

The compiled and the pure core (``ticket_auth._ticketcore_py``) have the same API; this stub
and the pure core's annotations say the same thing. ``tests/packaging/test_lint.py`` checks
the stub against the built extension with ``mypy.stubtest``.
"""

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv6Address
from typing import Any, Literal, NoReturn, SupportsIndex, TypeAlias, final

from _typeshed import ConvertibleToInt, ReadableBuffer
from typing_extensions import Self, disjoint_base

from ticket_auth.ticket_info import AuthTktInfo, TicketInfo

__all__ = ["AuthTktFactory", "AuthTktInfo", "TicketFactory", "TicketInfo"]

_Field: TypeAlias = str | bytes | bytearray
_ClientIP: TypeAlias = str | int | bytes | IPv4Address | IPv6Address | None

# cdef classes. _Factory holds the configuration both factories share (@disjoint_base: its
# instance layout is its own); TicketFactory adds no field, AuthTktFactory adds its timeout.

@disjoint_base
class _Factory:
    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn: ...
    @property
    def hash_path(self) -> Literal["openssl", "hashlib"]: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: object) -> Self: ...

class TicketFactory(_Factory):
    """Mints and validates tickets signed with ``secret`` using hashlib's ``hashalg``."""

    def __init__(
        self,
        secret: ReadableBuffer,
        hashalg: str = "sha512",
        *,
        fallback_secrets: Iterable[ReadableBuffer] = (),
        max_length: int | None = None,
    ) -> None: ...
    def new(
        self,
        user_id: _Field,
        tokens: Iterable[_Field] | None = None,
        user_data: _Field | None = None,
        valid_until: ConvertibleToInt | None = None,
        client_ip: _ClientIP = None,
        encoding: str = "utf-8",
    ) -> str: ...
    def validate(
        self,
        ticket: str | ReadableBuffer,
        client_ip: _ClientIP = None,
        now: float | None = None,
        encoding: str = "utf-8",
    ) -> TicketInfo: ...
    def parse(self, ticket: str | ReadableBuffer) -> TicketInfo: ...

@disjoint_base
class AuthTktFactory(_Factory):
    """Mints and validates Apache mod_auth_tkt 2.x tickets (see ticket_auth.mod_auth_tkt)."""

    def __init__(
        self,
        secret: ReadableBuffer,
        digest: str,
        *,
        fallback_secrets: Iterable[ReadableBuffer] = (),
        timeout: int = 7200,
        max_length: int | None = None,
    ) -> None: ...
    def new(
        self,
        user_id: _Field,
        tokens: Iterable[_Field] = (),
        user_data: _Field = "",
        timestamp: ConvertibleToInt | None = None,
        client_ip: _ClientIP = None,
        *,
        raw: bool = False,
    ) -> str: ...
    def validate(
        self, cookie: str | ReadableBuffer, client_ip: _ClientIP = None, now: float | None = None
    ) -> AuthTktInfo: ...
    def parse(self, cookie: str | ReadableBuffer) -> AuthTktInfo: ...

# The guard's per-request decision (guard.pxi): built by ticket_auth.guard.TicketGuard, never
# used directly; ticket_auth.guard._CompiledDecision is the shape the guard relies on. A final
# cdef class (so @final, which stubtest wants instead of @disjoint_base).
@final
class GuardCore:
    def __init__(
        self,
        guard: Any,
        factory: TicketFactory | AuthTktFactory,
        *,
        identity_type: type,
        result_type: type,
        anonymous: Any,
        reasons: Mapping[str, str],
        ok: str,
    ) -> None: ...
    def check_text(self, header: object, peer: object, forwarded: object, now: object) -> Any: ...
    def check_lines(self, headers: object, client: object, forwarded: object) -> Any: ...
    def check_raw(self, raw_headers: object, peer: object, forwarded: object) -> Any: ...
    def check_plain_raw(self, raw_headers: object, peer: object) -> Any: ...
    def check_scope(self, scope: object) -> Any: ...
    def enter(self, scope: object, scope_key: object, guard_key: object, guard: object) -> Any: ...
