"""The argument checks both formats share (0.1.4 tickets and mod_auth_tkt), used by both cores:
secrets, ``max_length``, the hash algorithm (resolved once per factory), client addresses and
times. Each format's own rules are in ``_ticket_format`` and ``_authtkt_format``.

The digest of a 0.1.4-format ticket is a nested hash with the secret in the middle (not
HMAC); mod_auth_tkt's differs only in hashing the hex text of ``inner``::

    data0  = bytes([ip.version]) + ip.packed + valid_until (4 bytes, big-endian)
    data1  = (UID + "\\0" + TOKENS + "\\0" + DATA).encode(encoding)   # the quoted forms
    inner  = H(data0 + secret + data1).digest()
    digest = H(inner + secret).hexdigest()
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import time

from .exception import TicketParseError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import TypeAlias

    from _typeshed import ConvertibleToInt, ReadableBuffer

    # What both cores accept for a client address (None: unbound), and what resolve_hashalg
    # returns; _ticketcore.pyi (the compiled core's stub) spells out the same types.
    ClientIP: TypeAlias = str | int | bytes | ipaddress.IPv4Address | ipaddress.IPv6Address | None
    HashConstructor: TypeAlias = Callable[[bytes], hashlib._Hash]

# The largest time either format carries (TIME, ``valid_until``, ``timestamp``, ``timeout``):
# an unsigned 32-bit number of seconds.
MAX_UINT32 = 2**32 - 1

# The largest digest any fixed-length hashlib algorithm produces (OpenSSL's EVP_MAX_MD_SIZE).
MAX_DIGEST_SIZE = 64

# bytes([4]) + IPv4 0.0.0.0: the address part when a ticket is not bound to a client.
UNBOUND_IP_PREFIX = b"\x04\x00\x00\x00\x00"


def check_secret(secret: ReadableBuffer) -> bytes:
    """The secret as immutable bytes; a clear error for anything else. Never echoes it."""
    if isinstance(secret, str):
        raise TypeError("secret must be bytes, not str (encode it, e.g. secret.encode())")
    try:
        view = memoryview(secret)
    except TypeError:
        raise TypeError(f"secret must be bytes-like, not {type(secret).__name__}") from None
    with view:
        value = view.tobytes()
    if not value:
        raise ValueError("secret must not be empty")
    return value


def check_secrets(secret: ReadableBuffer, fallback_secrets: Iterable[ReadableBuffer]) -> tuple[bytes, ...]:
    """``(secret, *fallback_secrets)`` as a tuple of non-empty bytes (key rotation)."""
    if isinstance(fallback_secrets, (str, bytes, bytearray, memoryview)):
        raise TypeError("fallback_secrets must be a sequence of bytes secrets, not a single secret")
    try:
        fallbacks = tuple(fallback_secrets)
    except TypeError:
        raise TypeError(
            f"fallback_secrets must be a sequence of bytes secrets, not {type(fallback_secrets).__name__}"
        ) from None
    return (check_secret(secret), *(check_secret(fallback) for fallback in fallbacks))


def check_max_length(max_length: int | None) -> int | None:
    """``None`` (no limit) or a positive int: the longest ticket validate/parse will look at."""
    if max_length is None:
        return None
    if isinstance(max_length, bool) or not isinstance(max_length, int):
        raise TypeError(f"max_length must be an int or None, not {type(max_length).__name__}")
    if max_length <= 0:
        raise ValueError(f"max_length must be positive, not {max_length}")
    return max_length


def resolve_hashalg(hashalg: str) -> tuple[HashConstructor, int]:
    """Return ``(constructor, digest_size)`` for a hashlib algorithm name (any case).

    ``constructor(data)`` returns a new hash object over ``data``. The named constructor
    (``hashlib.sha512`` ...) is used where hashlib has one, as it is faster than
    ``hashlib.new``; it is checked to give the same digest.
    """
    if not isinstance(hashalg, str):
        raise TypeError(f"hashalg must be a str naming a hashlib algorithm, not {type(hashalg).__name__}")
    try:
        probe = hashlib.new(hashalg)
    except (ValueError, TypeError):
        raise ValueError(
            f"unknown hash algorithm {hashalg!r}; hashlib.algorithms_available lists the names"
        ) from None
    size = probe.digest_size
    if size == 0 or probe.name.startswith("shake"):
        raise ValueError(
            f"hash algorithm {hashalg!r} has a variable-length digest; choose a fixed-length one"
        )
    if size > MAX_DIGEST_SIZE:
        raise ValueError(f"hash algorithm {hashalg!r} has a digest longer than {MAX_DIGEST_SIZE} bytes")
    named = getattr(hashlib, probe.name, None)
    constructor: HashConstructor
    if callable(named) and probe.name in hashlib.algorithms_guaranteed:
        constructor = named
    else:
        constructor = functools.partial(hashlib.new, hashalg)
    check = b"ticket_auth"
    if constructor(check).digest() != hashlib.new(hashalg, check).digest():
        constructor = functools.partial(hashlib.new, hashalg)
    return constructor, size


def to_int(value: ConvertibleToInt, range_error: str) -> int:
    """``int(value)``, with an infinite float (OverflowError from int) reported as the range
    error it is: a time outside 0..MAX_UINT32."""
    try:
        return int(value)
    except OverflowError:
        raise ValueError(range_error.format(value)) from None


def time_value(value: ConvertibleToInt | None, lifetime: int, range_error: str) -> int:
    """The time of a new ticket as an int, its range not yet checked: ``int(value)``, or now +
    ``lifetime`` when it is ``None`` (``time.time`` looked up on each call, as 0.1.4 does).

    ``new`` converts the time first and checks its range (``check_time_range``) only after the
    fields and the client address, in 0.1.4's order."""
    return int(time.time()) + lifetime if value is None else to_int(value, range_error)


def check_time_range(value: int, range_error: str) -> int:
    """``value`` if it is in 0..MAX_UINT32 (the 32-bit TIME of both formats), else ValueError."""
    if not 0 <= value <= MAX_UINT32:
        raise ValueError(range_error.format(value))
    return value


def not_text_error(ticket: object, message: str) -> Exception:
    """The error for a ticket (or cookie) that is neither str nor bytes-like.

    ``TicketParseError`` when it has a ``len()`` (list, tuple, dict, set, range...): 0.1.4
    measures a ticket first and rejects such a one with a ``TicketError``, which handlers treat
    as "not logged in" (for the odd large dict or set that 0.1.4 happens to reject with a
    ``TypeError`` instead, a ``TicketParseError`` is the consistent answer). ``TypeError`` for
    anything else (None, a number, a plain object), as in 0.1.4: a programming error.
    """
    if getattr(type(ticket), "__len__", None) is not None:
        return TicketParseError(ticket, message)
    return TypeError(message)


def ip_prefix(client_ip: ClientIP) -> bytes:
    """``bytes([version]) + packed`` for whatever ``ipaddress.ip_address`` accepts.

    ``None`` means unbound (IPv4 0.0.0.0). A bad address is a ``ValueError``, as in 0.1.4.
    """
    if client_ip is None:
        return UNBOUND_IP_PREFIX
    if type(client_ip) is ipaddress.IPv4Address or type(client_ip) is ipaddress.IPv6Address:
        address = client_ip
    else:
        address = ipaddress.ip_address(client_ip)
    return bytes((address.version,)) + address.packed
