"""The Apache mod_auth_tkt 2.x format (``AuthTktFactory``): limits, forms of a cookie value and
error messages, used by both cores (the compiled ``_ticketcore``, the pure ``_ticketcore_py``).
The argument checks it shares with the 0.1.4 format are in ``_arguments``.

    ticket = hex(digest) + "%08x" % timestamp + UID + "!" + [TOKENS + "!"] + DATA
    inner  = H(ip4 + timestamp (4 bytes, big-endian) + secret + UID + "\\0" + TOKENS + "\\0" + DATA)
    digest = H(hex(inner) + secret)            # the HEX text of the inner digest

Nothing is escaped: what is hashed is exactly what is in the text (fields as UTF-8). The
timestamp is the issue time; Apache accepts while ``(timestamp + timeout) mod 2**32 >= now``.

A cookie value is read as Apache reads it: a leading and a trailing ``"`` are dropped (each on
its own, as Apache does, not only as a pair); a value
containing ``!`` is the raw ticket; else one containing ``%21`` is URL-unescaped; else it is
base64 (standard alphabet, padding optional) of the raw ticket. Where Apache is lenient with
forms no writer produces (base64 followed by other characters or of 4k+1 characters, a
literal ``%`` in the escaped form, a NUL byte, an uppercase timestamp, fields that are not
UTF-8) both cores refuse: ``ticket_auth.mod_auth_tkt`` lists these and says why. Both cores
check, in order:

1. the cookie is str (encodable as UTF-8) or bytes-like (anything else is a
   ``TicketParseError`` if it has a ``len()`` and a ``TypeError`` otherwise, as for
   ``TicketFactory``);
2. it is no longer than ``max_length``, if the factory has one;
3. its form (quotes, raw / %-escaped / base64) yields a raw ticket containing ``!``;
4. the raw ticket holds a lowercase hex digest and timestamp;
5. the user id is followed by ``!``, and there is no NUL byte;
6. user id, tokens and user data (in that order) are UTF-8.

``new`` checks its arguments in the order of ``TicketFactory.new`` (0.1.4's): ``timestamp``
converted with ``int()`` (or now), then the user id, each token (each one, then the commas)
and the user data, then the client address (IPv4 only), then the 32-bit range of the
timestamp, then (``raw=True``) a user data ending with ``"``, and last ``max_length``.
"""

from __future__ import annotations

import binascii
import re

from ._arguments import MAX_UINT32
from .exception import TicketParseError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed import ReadableBuffer

# TKTAuthDigestType values (the ``digest`` argument) -> hashlib names.
DIGEST_TYPES = {"md5": "md5", "sha256": "sha256", "sha512": "sha512"}

# Apache's default TKTAuthTimeout, in seconds (the ``timeout`` argument, 0..MAX_UINT32).
DEFAULT_TIMEOUT = 2 * 60 * 60

COOKIE_TYPE_ERROR = "cookie must be str or bytes-like, not {}"
DIGEST_ERROR = "digest must be one of 'md5', 'sha256', 'sha512' (TKTAuthDigestType), not {!r}"
DIGEST_TYPE_ERROR = "digest must be a str naming TKTAuthDigestType ('md5', 'sha256' or 'sha512'), not {}"
TIMEOUT_ERROR = "timeout must be an int number of seconds from 0 (no timeout) to 4294967295, not {!r}"
TIMESTAMP_RANGE_ERROR = "timestamp must be between 0 and 4294967295 (32-bit seconds), not {}"
FIELD_TYPE_ERROR = "{} must be str or bytes, not {}"
TOKENS_STR_ERROR = "tokens must be a sequence of str or bytes, not a single {}"
BANG_ERROR = "{} cannot contain '!' in a mod_auth_tkt ticket"
COMMA_ERROR = "a token cannot contain ',' in a mod_auth_tkt ticket"
NUL_ERROR = "{} cannot contain a NUL character in a mod_auth_tkt ticket"
UTF8_ERROR = "{} must be UTF-8 text"
IPV6_ERROR = "mod_auth_tkt binds tickets to IPv4 addresses only, not {}"
RAW_QUOTE_ERROR = "a raw ticket cannot end with a '\"' quote (Apache drops it): use the base64 form"
# max_length counts the cookie's bytes (UTF-8), as validate does.
NEW_TOO_LONG_ERROR = "the cookie would be {} bytes long, more than max_length={}"

NOT_ENCODABLE = "cookie contains characters that cannot be encoded as UTF-8"
TOO_LONG = "cookie is longer than max_length"
BAD_ESCAPE = "cookie has a malformed %XX escape"
BAD_BASE64 = "cookie is not a raw ticket and not base64 of one"
TOO_SHORT = "ticket is too short"
BAD_DIGEST = "digest is not lowercase hex"
BAD_TIME = "timestamp is not 8 lowercase hex digits"
MISSING_SEPARATOR = "no '!' after the user id"
HAS_NUL = "ticket contains a NUL byte"
UID_NOT_UTF8 = "user id is not UTF-8"
TOKENS_NOT_UTF8 = "tokens are not UTF-8"
DATA_NOT_UTF8 = "user data is not UTF-8"

_BASE64_RE = re.compile(rb"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?")
_ESCAPE_RE = re.compile(rb"%([0-9A-Fa-f]{2})")


def check_digest_type(digest: str) -> str:
    """The hashlib name for a TKTAuthDigestType (no default: MD5 is never chosen silently)."""
    if not isinstance(digest, str):
        raise TypeError(DIGEST_TYPE_ERROR.format(type(digest).__name__))
    name = DIGEST_TYPES.get(digest.lower())
    if name is None:
        raise ValueError(DIGEST_ERROR.format(digest))
    return name


def check_timeout(timeout: int) -> int:
    """TKTAuthTimeout as an int in 0..MAX_UINT32 (0: no timeout)."""
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 0 <= timeout <= MAX_UINT32:
        raise (TypeError if not isinstance(timeout, int) else ValueError)(TIMEOUT_ERROR.format(timeout))
    return timeout


def expired(timestamp: int, timeout: int, now: float) -> bool:
    """Whether Apache refuses a ticket issued at ``timestamp`` as timed out at ``now``: it
    compares ``(timestamp + timeout) mod 2**32`` with ``int(now) mod 2**32``; timeout 0: never."""
    return bool(timeout) and (timestamp + timeout) & MAX_UINT32 < int(now) & MAX_UINT32


def init_arguments(
    self: object,
    secret: ReadableBuffer,
    digest: str,
    *,
    fallback_secrets: Iterable[ReadableBuffer] = (),
    timeout: int = DEFAULT_TIMEOUT,
    max_length: int | None = None,
) -> tuple[ReadableBuffer, str, Iterable[ReadableBuffer], int, int | None]:
    """``AuthTktFactory.__init__``'s arguments, bound by Python itself (see
    ``_ticket_format.init_arguments``: the compiled core's errors read as the pure core's)."""
    return secret, digest, fallback_secrets, timeout, max_length


init_arguments.__qualname__ = "AuthTktFactory.__init__"  # the name Python's messages show


def unescape(cookie: str | ReadableBuffer, value: bytes) -> bytes:
    """The %-escaped cookie form: every ``%XX`` (either case) decoded; a stray '%' is an error."""
    if value.count(b"%") != len(_ESCAPE_RE.findall(value)):
        raise TicketParseError(cookie, BAD_ESCAPE)
    return _ESCAPE_RE.sub(lambda match: bytes.fromhex(match.group(1).decode()), value)


def unwrap(cookie: str | ReadableBuffer, value: bytes) -> bytes:
    """The raw ticket (bytes) inside a cookie value (bytes, quotes not yet removed)."""
    if value[:1] == b'"':
        value = value[1:]
    if value[-1:] == b'"':
        value = value[:-1]
    if b"!" in value:
        return value
    if b"%21" in value:
        return unescape(cookie, value)
    if _BASE64_RE.fullmatch(value):
        raw = binascii.a2b_base64(value + b"=" * (-len(value) % 4))
        if b"!" in raw:
            return raw
    raise TicketParseError(cookie, BAD_BASE64)
