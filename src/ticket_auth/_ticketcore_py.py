"""The pure-Python core: the whole ticket contract in plain Python.

Used when the compiled core (``ticket_auth._ticketcore``) is not built, on interpreters
other than CPython, or when ``TICKET_AUTH_NO_EXTENSIONS=1`` is set. It behaves exactly like
the compiled core: same results, same errors, same messages. The order of the checks is
documented in ``ticket_auth._ticket_format``.
"""

from __future__ import annotations

import binascii
import hmac
import re
import socket
import time
from codecs import unicode_escape_decode as _unicode_escape_decode
from urllib.parse import quote

from . import _authtkt_format, _ticket_format
from ._arguments import check_max_length, check_secrets, ip_prefix, resolve_hashalg
from .exception import TicketDigestError, TicketExpired, TicketParseError
from .ticket_info import AuthTktInfo, FallbackAuthTktInfo, FallbackTicketInfo, TicketInfo

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Literal, NoReturn, SupportsIndex, TypeAlias

    from _typeshed import ConvertibleToInt, ReadableBuffer

    from ._arguments import ClientIP, HashConstructor

    # A field of a ticket as new takes it (str, or bytes that are quoted as they are).
    Field: TypeAlias = str | bytes | bytearray

__all__ = ["AuthTktFactory", "AuthTktInfo", "TicketFactory", "TicketInfo"]

# One quoted field: safe characters, or %XX (uppercase) of a byte that quote would escape.
_ESCAPE_HEX = r"(?:[0189A-F][0-9A-F]|2[0-9A-C]|3[A-F]|40|5[B-E]|60|7[B-DF])"
_ESCAPE = rf"%{_ESCAPE_HEX}"
# A '%' that does not start such an escape.
_BAD_ESCAPE_RE = re.compile(rf"%(?!{_ESCAPE_HEX})")
_FIELD = rf"(?:[A-Za-z0-9_.~/\-]|{_ESCAPE})*"
_TOKENS = rf"(?:[A-Za-z0-9_.~/\-,]|{_ESCAPE})*"
_FIELD_RE = re.compile(_FIELD)
_TOKENS_RE = re.compile(_TOKENS)
_HEX_RE = re.compile(r"[0-9a-f]*")
_HEX_BYTES_RE = re.compile(rb"[0-9a-f]*")
# The strict dotted quad that ipaddress accepts (ASCII digits, no leading zeros, <= 255).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_RE = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")


def _exact_str(value: str) -> str:
    """The characters of a str, as an exact str: a subclass's own len(), encode(), slicing
    and so on are not consulted (the compiled core reads the characters themselves)."""
    return value if type(value) is str else str.__getitem__(value, slice(None))


# TicketInfo(*fields) without the namedtuple's Python-level __new__.
_new_info = tuple.__new__


def _quote(value: object, type_error: str) -> str:
    # A subclass's own methods are not consulted (quote() calls some): its data is quoted.
    if isinstance(value, str):
        return quote(_exact_str(value))
    if isinstance(value, bytes):
        return quote(value if type(value) is bytes else bytes.__getitem__(value, slice(None)))
    if isinstance(value, bytearray):
        return quote(value)
    raise TypeError(type_error.format(type(value).__name__))


def _quote_tokens(tokens: Iterable[Field] | None) -> str:
    if not tokens:
        return ""
    if isinstance(tokens, (str, bytes, bytearray)):
        raise TypeError(_ticket_format.TOKENS_STR_ERROR.format(type(tokens).__name__))
    return ",".join([_quote(token, _ticket_format.TOKEN_TYPE_ERROR) for token in tokens])


def _client_prefix(client_ip: ClientIP) -> bytes:
    """``ip_prefix`` with a fast path for dotted-quad IPv4 text (the same result, proven by
    accepting only the strict form ``ipaddress`` itself accepts and deferring the rest)."""
    if type(client_ip) is str and _IPV4_RE.fullmatch(client_ip):
        try:
            return b"\x04" + socket.inet_pton(socket.AF_INET, client_ip)
        except OSError:  # pragma: no cover - every inet_pton accepts a strict dotted quad
            pass
    return ip_prefix(client_ip)


def _unquote_utf8(field: str) -> str | None:
    """Unquote a canonical field; ``None`` when the bytes are not UTF-8.

    Canonical text has no backslash (it would be %5C) and every '%' starts %XX, so with
    '%' made '\\x' it is unicode_escape text whose characters are the escaped bytes
    (as latin-1); encoding those back gives the bytes, which must then be UTF-8.
    """
    if "%" not in field:
        return field
    try:
        return _unicode_escape_decode(field.replace("%", "\\x"))[0].encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return None


class TicketFactory:
    """Mints and validates tickets signed with ``secret`` using hashlib's ``hashalg``.

    ``fallback_secrets`` (keyword-only) are older secrets that ``validate`` still accepts
    (``new`` always signs with ``secret``); ``max_length`` rejects longer tickets before any
    other work.
    """

    __slots__ = ("_hash", "_hashalg", "_hex_len", "_max_length", "_pattern", "_secrets")

    _secrets: tuple[bytes, ...]
    _hash: HashConstructor
    _hex_len: int
    _pattern: re.Pattern[str]
    _hashalg: str
    _max_length: int | None

    def __init__(
        self,
        secret: ReadableBuffer,
        hashalg: str = "sha512",
        *,
        fallback_secrets: Iterable[ReadableBuffer] = (),
        max_length: int | None = None,
    ) -> None:
        # Configured once (as the compiled core, which reads its fields without a lock).
        if getattr(self, "_secrets", None) is not None:
            raise TypeError(_ticket_format.REINIT_ERROR.format(type(self).__qualname__))
        # Everything is checked before anything is assigned: a failed call changes nothing.
        secrets = check_secrets(secret, fallback_secrets)
        constructor, digest_size = resolve_hashalg(hashalg)
        max_length = check_max_length(max_length)
        hex_len = 2 * digest_size
        # Structure only; fields holding '%' get the strict escape check afterwards.
        pattern = re.compile(
            rf"([0-9a-f]{{{hex_len}}})([0-9a-f]{{8}})([A-Za-z0-9_.~/%-]*)!([A-Za-z0-9_.~/%,-]*)!([A-Za-z0-9_.~/%-]*)"
        )
        self._secrets, self._hash, self._hashalg = secrets, constructor, hashalg
        self._hex_len, self._pattern, self._max_length = hex_len, pattern, max_length

    @property
    def hash_path(self) -> Literal["openssl", "hashlib"]:
        """How digests are computed: always ``"hashlib"`` in this core (the compiled core may
        call OpenSSL directly, ``"openssl"``)."""
        return "hashlib"

    def __repr__(self) -> str:
        return f"{type(self).__module__}.{type(self).__qualname__}(hashalg={self._hashalg!r})"

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        raise TypeError("TicketFactory holds a secret and cannot be pickled or copied")

    def _digest(self, data0: bytes, data1: bytes, secret: bytes) -> str:
        inner = self._hash(data0 + secret + data1).digest()
        return self._hash(inner + secret).hexdigest()

    def new(
        self,
        user_id: Field,
        tokens: Iterable[Field] | None = None,
        user_data: Field | None = None,
        valid_until: ConvertibleToInt | None = None,
        client_ip: ClientIP = None,
        encoding: str = "utf-8",
    ) -> str:
        """Mint a ticket (str). ``tokens`` is a sequence of str/bytes; see the README."""
        until = _ticket_format.check_valid_until(valid_until)
        uid = _quote(user_id, _ticket_format.USER_ID_TYPE_ERROR)
        token_text = _quote_tokens(tokens)
        data_text = _quote(user_data, _ticket_format.USER_DATA_TYPE_ERROR) if user_data else ""
        data0 = _client_prefix(client_ip) + until.to_bytes(4, "big")
        signed = f"{uid}\0{token_text}\0{data_text}"
        data1 = signed.encode("ascii" if encoding in _ticket_format.ASCII_COMPATIBLE_ENCODINGS else encoding)
        ticket = f"{self._digest(data0, data1, self._secrets[0])}{until:08x}{uid}!{token_text}!{data_text}"
        if self._max_length is not None and len(ticket) > self._max_length:
            raise ValueError(_ticket_format.NEW_TOO_LONG_ERROR.format(len(ticket), self._max_length))
        return ticket

    def validate(
        self,
        ticket: str | ReadableBuffer,
        client_ip: ClientIP = None,
        now: float | None = None,
        encoding: str = "utf-8",
    ) -> TicketInfo:
        """Return the ticket's ``TicketInfo`` if its digest is right and it has not expired.

        Raises ``TicketParseError``, ``TicketDigestError`` or ``TicketExpired`` (in that order
        of checking); a bad ``client_ip`` is a ``ValueError``.
        """
        text = self._text(ticket)
        info, signed = self._parse(ticket, text)
        data0 = _client_prefix(client_ip) + info.valid_until.to_bytes(4, "big")
        signed = signed.replace("!", "\0")
        if encoding in _ticket_format.ASCII_COMPATIBLE_ENCODINGS:
            data1 = signed.encode("ascii")
        else:
            try:
                data1 = signed.encode(encoding)
            except UnicodeError:
                raise TicketParseError(ticket, _ticket_format.NOT_ENCODABLE) from None
        for index, secret in enumerate(self._secrets):  # noqa: B007 - read after the loop
            if hmac.compare_digest(self._digest(data0, data1, secret), info.digest):
                break
        else:  # every secret cost one digest, whichever it was
            raise TicketDigestError(ticket)
        if now is None:
            now = time.time()
        if info.valid_until <= now:
            raise TicketExpired(ticket)
        return info if index == 0 else _new_info(FallbackTicketInfo, info)

    def parse(self, ticket: str | ReadableBuffer) -> TicketInfo:
        """Return the ticket's ``TicketInfo`` without checking the digest or the time."""
        return self._parse(ticket, self._text(ticket))[0]

    def _text(self, ticket: str | ReadableBuffer) -> str:
        text = _exact_str(ticket) if isinstance(ticket, str) else _ticket_format.ascii_text(ticket)
        if self._max_length is not None and len(text) > self._max_length:
            raise TicketParseError(ticket, _ticket_format.TOO_LONG)
        return text

    def _parse(self, ticket: str | ReadableBuffer, text: str) -> tuple[TicketInfo, str]:
        """``(TicketInfo, "UID!TOKENS!DATA")`` for a canonical ticket, else TicketParseError."""
        match = self._pattern.fullmatch(text)
        if match is None:
            raise TicketParseError(ticket, self._diagnose(text))
        digest, hex_time, uid, token_text, data = match.groups()
        if "%" in text and _BAD_ESCAPE_RE.search(text, self._hex_len + 8):
            raise TicketParseError(ticket, self._diagnose(text))
        user_id = _unquote_utf8(uid)
        if user_id is None:
            raise TicketParseError(ticket, _ticket_format.UID_NOT_UTF8)
        tokens: tuple[str, ...] = ()
        if token_text:
            tokens = tuple(token_text.split(","))
            if "%" in token_text:
                unquoted = tuple([_unquote_utf8(token) for token in tokens])
                if None in unquoted:
                    raise TicketParseError(ticket, _ticket_format.TOKEN_NOT_UTF8)
                tokens = unquoted  # type: ignore[assignment]  # no None left
        user_data = _unquote_utf8(data)
        if user_data is None:
            raise TicketParseError(ticket, _ticket_format.DATA_NOT_UTF8)
        info = _new_info(TicketInfo, (digest, user_id, tokens, user_data, int(hex_time, 16)))
        return info, text[self._hex_len + 8 :]

    def _diagnose(self, text: str) -> str:
        """The message for a ticket the pattern rejected: the first check it fails."""
        if not text.isascii():
            return _ticket_format.NOT_ASCII
        hex_len = self._hex_len
        if len(text) < hex_len + 8:
            return _ticket_format.TOO_SHORT
        if not _HEX_RE.fullmatch(text, 0, hex_len):
            return _ticket_format.BAD_DIGEST
        if not _HEX_RE.fullmatch(text, hex_len, hex_len + 8):
            return _ticket_format.BAD_TIME
        parts = text[hex_len + 8 :].split("!")
        if len(parts) < 3:
            return _ticket_format.MISSING_PARTS
        if len(parts) > 3:
            return _ticket_format.TOO_MANY_PARTS
        uid, token_text, _data = parts
        if not _FIELD_RE.fullmatch(uid):
            return _ticket_format.BAD_UID
        if not _TOKENS_RE.fullmatch(token_text):
            return _ticket_format.BAD_TOKENS
        return _ticket_format.BAD_DATA


# --- mod_auth_tkt ---------------------------------------------------------------------------------


def _authtkt_field(value: object, what: str, forbid_bang: bool) -> bytes:
    """A mod_auth_tkt field as UTF-8 bytes, refusing what the format cannot carry."""
    if isinstance(value, str):
        raw = _exact_str(value).encode("utf-8")  # UnicodeEncodeError for lone surrogates
    elif isinstance(value, (bytes, bytearray)):
        raw = bytes(value)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(_authtkt_format.UTF8_ERROR.format(what)) from None
    else:
        raise TypeError(_authtkt_format.FIELD_TYPE_ERROR.format(what, type(value).__name__))
    if b"\0" in raw:
        raise ValueError(_authtkt_format.NUL_ERROR.format(what))
    if forbid_bang and b"!" in raw:
        raise ValueError(_authtkt_format.BANG_ERROR.format(what))
    return raw


def _authtkt_ip4(client_ip: ClientIP) -> bytes:
    """The 4 address bytes a mod_auth_tkt ticket is bound to (0.0.0.0 when unbound)."""
    prefix = _client_prefix(client_ip)
    if len(prefix) != 5:
        raise ValueError(_authtkt_format.IPV6_ERROR.format(client_ip))
    return prefix[1:]


class AuthTktFactory:
    """Mints and validates Apache mod_auth_tkt 2.x tickets (see ticket_auth.mod_auth_tkt)."""

    __slots__ = ("_digest", "_hash", "_hex_len", "_max_length", "_secrets", "_timeout")

    _secrets: tuple[bytes, ...]
    _hash: HashConstructor
    _hex_len: int
    _digest: str
    _timeout: int
    _max_length: int | None

    def __init__(
        self,
        secret: ReadableBuffer,
        digest: str,
        *,
        fallback_secrets: Iterable[ReadableBuffer] = (),
        timeout: int = _authtkt_format.DEFAULT_TIMEOUT,
        max_length: int | None = None,
    ) -> None:
        if getattr(self, "_secrets", None) is not None:
            raise TypeError(_ticket_format.REINIT_ERROR.format(type(self).__qualname__))
        secrets = check_secrets(secret, fallback_secrets)
        constructor, digest_size = resolve_hashalg(_authtkt_format.check_digest(digest))
        timeout = _authtkt_format.check_timeout(timeout)
        max_length = check_max_length(max_length)
        self._secrets, self._hash, self._digest = secrets, constructor, digest
        self._hex_len, self._timeout, self._max_length = 2 * digest_size, timeout, max_length

    @property
    def hash_path(self) -> Literal["openssl", "hashlib"]:
        """Always ``"hashlib"`` in this core, as ``TicketFactory.hash_path``."""
        return "hashlib"

    def __repr__(self) -> str:
        return f"{type(self).__module__}.{type(self).__qualname__}(digest={self._digest!r}, timeout={self._timeout})"

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        raise TypeError("AuthTktFactory holds a secret and cannot be pickled or copied")

    def _hexdigest(self, ip4: bytes, timestamp: int, secret: bytes, fields: bytes) -> str:
        inner = self._hash(ip4 + timestamp.to_bytes(4, "big") + secret + fields).hexdigest()
        return self._hash(inner.encode("ascii") + secret).hexdigest()

    def new(
        self,
        user_id: Field,
        tokens: Iterable[Field] = (),
        user_data: Field = "",
        timestamp: ConvertibleToInt | None = None,
        client_ip: ClientIP = None,
        *,
        raw: bool = False,
    ) -> str:
        """A cookie value (base64 by default, the raw ticket text with ``raw=True``)."""
        issued = (
            int(time.time())
            if timestamp is None
            else _ticket_format.to_int(timestamp, _authtkt_format.TIMESTAMP_RANGE_ERROR)
        )
        if not 0 <= issued <= _authtkt_format.MAX_TIMESTAMP:
            raise ValueError(_authtkt_format.TIMESTAMP_RANGE_ERROR.format(issued))
        uid = _authtkt_field(user_id, "user_id", True)
        token_text = b""
        if tokens:
            if isinstance(tokens, (str, bytes, bytearray)):
                raise TypeError(_authtkt_format.TOKENS_STR_ERROR.format(type(tokens).__name__))
            parts = [_authtkt_field(token, "a token", True) for token in tokens]
            if any(b"," in part for part in parts):
                raise ValueError(_authtkt_format.COMMA_ERROR)
            token_text = b",".join(parts)
        data = _authtkt_field(user_data, "user_data", False) if user_data else b""
        ip4 = _authtkt_ip4(client_ip)
        digest = self._hexdigest(ip4, issued, self._secrets[0], uid + b"\0" + token_text + b"\0" + data)
        # The tokens part is omitted when there are none, unless the data holds a '!'.
        middle = b"!" + token_text + b"!" if token_text or b"!" in data else b"!"
        ticket = f"{digest}{issued:08x}".encode("ascii") + uid + middle + data
        if raw and ticket.endswith(b'"'):
            raise ValueError(_authtkt_format.RAW_QUOTE_ERROR)
        cookie = ticket.decode("utf-8") if raw else binascii.b2a_base64(ticket, newline=False).decode("ascii")
        size = len(ticket) if raw else len(cookie)  # bytes, as validate counts them
        if self._max_length is not None and size > self._max_length:
            raise ValueError(_authtkt_format.NEW_TOO_LONG_ERROR.format(size, self._max_length))
        return cookie

    def _parse(self, cookie: str | ReadableBuffer) -> tuple[bytes, int, int]:
        """``(raw ticket bytes, index of the first '!', of the second or -1)`` or a parse error."""
        if isinstance(cookie, str):
            text = _exact_str(cookie)
            # UTF-8 has at least one byte per character: more characters than max_length is
            # too long, whatever they are (and nothing is encoded).
            if self._max_length is not None and len(text) > self._max_length:
                raise TicketParseError(cookie, _authtkt_format.TOO_LONG)
            try:
                value = text.encode("utf-8")
            except UnicodeEncodeError:
                raise TicketParseError(cookie, _authtkt_format.NOT_ENCODABLE) from None
        else:
            try:
                view = memoryview(cookie)
            except TypeError:
                raise TypeError(_authtkt_format.COOKIE_TYPE_ERROR.format(type(cookie).__name__)) from None
            with view:
                value = view.tobytes()
        if self._max_length is not None and len(value) > self._max_length:
            raise TicketParseError(cookie, _authtkt_format.TOO_LONG)
        ticket = _authtkt_format.unwrap(cookie, value)
        hex_len = self._hex_len
        if len(ticket) < hex_len + 8:
            raise TicketParseError(cookie, _authtkt_format.TOO_SHORT)
        if not _HEX_BYTES_RE.fullmatch(ticket, 0, hex_len):
            raise TicketParseError(cookie, _authtkt_format.BAD_DIGEST)
        if not _HEX_BYTES_RE.fullmatch(ticket, hex_len, hex_len + 8):
            raise TicketParseError(cookie, _authtkt_format.BAD_TIME)
        first = ticket.find(b"!", hex_len + 8)
        if first < 0:
            raise TicketParseError(cookie, _authtkt_format.MISSING_SEPARATOR)
        if b"\0" in ticket:
            raise TicketParseError(cookie, _authtkt_format.HAS_NUL)
        return ticket, first, ticket.find(b"!", first + 1)

    def _fields(
        self, cookie: str | ReadableBuffer, ticket: bytes, first: int, second: int
    ) -> tuple[bytes, bytes, bytes, list[str]]:
        uid = ticket[self._hex_len + 8 : first]
        token_text = ticket[first + 1 : second] if second >= 0 else b""
        data = ticket[second + 1 :] if second >= 0 else ticket[first + 1 :]
        texts = []
        for raw, message in (
            (uid, _authtkt_format.UID_NOT_UTF8),
            (token_text, _authtkt_format.TOKENS_NOT_UTF8),
            (data, _authtkt_format.DATA_NOT_UTF8),
        ):
            try:
                texts.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise TicketParseError(cookie, message) from None
        return uid, token_text, data, texts

    def _info(self, info_type: type[AuthTktInfo], ticket: bytes, texts: list[str]) -> AuthTktInfo:
        user_id, token_text, user_data = texts
        tokens = tuple(token_text.split(",")) if token_text else ()
        return _new_info(
            info_type,
            (
                ticket[: self._hex_len].decode("ascii"),
                user_id,
                tokens,
                user_data,
                int(ticket[self._hex_len : self._hex_len + 8], 16),
            ),
        )

    def validate(
        self, cookie: str | ReadableBuffer, client_ip: ClientIP = None, now: float | None = None
    ) -> AuthTktInfo:
        """The ticket's ``AuthTktInfo`` if its digest is right and it has not timed out."""
        ticket, first, second = self._parse(cookie)
        uid, token_text, data, texts = self._fields(cookie, ticket, first, second)
        ip4 = _authtkt_ip4(client_ip)
        timestamp = int(ticket[self._hex_len : self._hex_len + 8], 16)
        fields = uid + b"\0" + token_text + b"\0" + data
        digest = ticket[: self._hex_len].decode("ascii")
        for index, secret in enumerate(self._secrets):  # noqa: B007 - read after the loop
            if hmac.compare_digest(self._hexdigest(ip4, timestamp, secret, fields), digest):
                break
        else:
            raise TicketDigestError(cookie)
        if self._timeout:
            if now is None:
                now = time.time()
            if (timestamp + self._timeout) & _authtkt_format.MAX_TIMESTAMP < int(
                now
            ) & _authtkt_format.MAX_TIMESTAMP:
                raise TicketExpired(cookie)
        return self._info(AuthTktInfo if index == 0 else FallbackAuthTktInfo, ticket, texts)

    def parse(self, cookie: str | ReadableBuffer) -> AuthTktInfo:
        """The ticket's ``AuthTktInfo`` without checking the digest or the time."""
        ticket, first, second = self._parse(cookie)
        return self._info(AuthTktInfo, ticket, self._fields(cookie, ticket, first, second)[3])
