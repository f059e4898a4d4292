"""The pure-Python core: the whole ticket contract in plain Python.

Used when the compiled core (``ticket_auth._ticketcore``) is not built, on interpreters
other than CPython, or when ``TICKET_AUTH_NO_EXTENSIONS=1`` is set. It behaves exactly like
the compiled core: same results, same errors, same messages. The order of the checks is
documented in ``ticket_auth._wire``.
"""

import hmac
import re
import socket
import time
from urllib.parse import quote, unquote_to_bytes

from . import _wire
from ._digest import check_max_length, check_secrets, ip_prefix, resolve_hashalg
from .exception import TicketDigestError, TicketExpired, TicketParseError
from .ticket_info import FallbackTicketInfo, TicketInfo

__all__ = ["TicketFactory", "TicketInfo"]

# One quoted field: safe characters, or %XX (uppercase) of a byte that quote would escape.
_ESCAPE = r"%(?:[0189A-F][0-9A-F]|2[0-9A-C]|3[A-F]|40|5[B-E]|60|7[B-DF])"
_FIELD = rf"(?:[A-Za-z0-9_.~/\-]|{_ESCAPE})*"
_TOKENS = rf"(?:[A-Za-z0-9_.~/\-,]|{_ESCAPE})*"
_FIELD_RE = re.compile(_FIELD)
_TOKENS_RE = re.compile(_TOKENS)
_HEX_RE = re.compile(r"[0-9a-f]*")
# The strict dotted quad that ipaddress accepts (ASCII digits, no leading zeros, <= 255).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_RE = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")


# TicketInfo(*fields) without the namedtuple's Python-level __new__.
_new_info = tuple.__new__


def _quote(value, type_error):
    if isinstance(value, (str, bytes, bytearray)):
        return quote(value)
    raise TypeError(type_error.format(type(value).__name__))


def _quote_tokens(tokens):
    if not tokens:
        return ""
    if isinstance(tokens, (str, bytes, bytearray)):
        raise TypeError(_wire.TOKENS_STR_ERROR.format(type(tokens).__name__))
    return ",".join([_quote(token, _wire.TOKEN_TYPE_ERROR) for token in tokens])


def _client_prefix(client_ip):
    """``ip_prefix`` with a fast path for dotted-quad IPv4 text (the same result, proven by
    accepting only the strict form ``ipaddress`` itself accepts and deferring the rest)."""
    if type(client_ip) is str and _IPV4_RE.fullmatch(client_ip):
        try:
            return b"\x04" + socket.inet_pton(socket.AF_INET, client_ip)
        except OSError:  # pragma: no cover - every inet_pton accepts a strict dotted quad
            pass
    return ip_prefix(client_ip)


def _unquote_utf8(field):
    """Unquote a canonical field; ``None`` when the bytes are not UTF-8."""
    if "%" not in field:
        return field
    try:
        return unquote_to_bytes(field).decode("utf-8")
    except UnicodeDecodeError:
        return None


class TicketFactory:
    """Mints and validates tickets signed with ``secret`` using hashlib's ``hashalg``.

    ``fallback_secrets`` (keyword-only) are older secrets that ``validate`` still accepts
    (``new`` always signs with ``secret``); ``max_length`` rejects longer tickets before any
    other work.
    """

    __slots__ = ("_secrets", "_hash", "_hex_len", "_pattern", "_hashalg", "_max_length")

    def __init__(self, secret, hashalg="sha512", *, fallback_secrets=(), max_length=None):
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

    def __repr__(self):
        return f"{type(self).__module__}.{type(self).__qualname__}(hashalg={self._hashalg!r})"

    def __reduce_ex__(self, protocol):
        raise TypeError("TicketFactory holds a secret and cannot be pickled or copied")

    def _digest(self, data0, data1, secret):
        inner = self._hash(data0 + secret + data1).digest()
        return self._hash(inner + secret).hexdigest()

    def new(self, user_id, tokens=None, user_data=None, valid_until=None, client_ip=None, encoding="utf-8"):
        """Mint a ticket (str). ``tokens`` is a sequence of str/bytes; see the README."""
        valid_until = _wire.check_valid_until(valid_until)
        uid = _quote(user_id, _wire.USER_ID_TYPE_ERROR)
        token_text = _quote_tokens(tokens)
        data_text = _quote(user_data, _wire.USER_DATA_TYPE_ERROR) if user_data else ""
        data0 = _client_prefix(client_ip) + valid_until.to_bytes(4, "big")
        signed = f"{uid}\0{token_text}\0{data_text}"
        data1 = signed.encode("ascii" if encoding in _wire.ASCII_COMPATIBLE_ENCODINGS else encoding)
        ticket = f"{self._digest(data0, data1, self._secrets[0])}{valid_until:08x}{uid}!{token_text}!{data_text}"
        if self._max_length is not None and len(ticket) > self._max_length:
            raise ValueError(_wire.NEW_TOO_LONG_ERROR.format(len(ticket), self._max_length))
        return ticket

    def validate(self, ticket, client_ip=None, now=None, encoding="utf-8"):
        """Return the ticket's ``TicketInfo`` if its digest is right and it has not expired.

        Raises ``TicketParseError``, ``TicketDigestError`` or ``TicketExpired`` (in that order
        of checking); a bad ``client_ip`` is a ``ValueError``.
        """
        text = self._text(ticket)
        info, signed = self._parse(ticket, text)
        data0 = _client_prefix(client_ip) + info.valid_until.to_bytes(4, "big")
        signed = signed.replace("!", "\0")
        if encoding in _wire.ASCII_COMPATIBLE_ENCODINGS:
            data1 = signed.encode("ascii")
        else:
            try:
                data1 = signed.encode(encoding)
            except UnicodeError:
                raise TicketParseError(ticket, _wire.NOT_ENCODABLE) from None
        for index, secret in enumerate(self._secrets):
            if hmac.compare_digest(self._digest(data0, data1, secret), info.digest):
                break
        else:  # every secret cost one digest, whichever it was
            raise TicketDigestError(ticket)
        if now is None:
            now = time.time()
        if info.valid_until <= now:
            raise TicketExpired(ticket)
        return info if index == 0 else _new_info(FallbackTicketInfo, info)

    def parse(self, ticket):
        """Return the ticket's ``TicketInfo`` without checking the digest or the time."""
        return self._parse(ticket, self._text(ticket))[0]

    def _text(self, ticket):
        text = ticket if isinstance(ticket, str) else _wire.ascii_text(ticket)
        if self._max_length is not None and len(text) > self._max_length:
            raise TicketParseError(ticket, _wire.TOO_LONG)
        return text

    def _parse(self, ticket, text):
        """``(TicketInfo, "UID!TOKENS!DATA")`` for a canonical ticket, else TicketParseError."""
        match = self._pattern.fullmatch(text)
        if match is None:
            raise TicketParseError(ticket, self._diagnose(text))
        digest, hex_time, uid, token_text, data = match.groups()
        if "%" in text and not (
            _FIELD_RE.fullmatch(uid) and _TOKENS_RE.fullmatch(token_text) and _FIELD_RE.fullmatch(data)
        ):
            raise TicketParseError(ticket, self._diagnose(text))
        user_id = _unquote_utf8(uid)
        if user_id is None:
            raise TicketParseError(ticket, _wire.UID_NOT_UTF8)
        tokens = ()
        if token_text:
            tokens = tuple(token_text.split(","))
            if "%" in token_text:
                tokens = tuple([_unquote_utf8(token) for token in tokens])
                if None in tokens:
                    raise TicketParseError(ticket, _wire.TOKEN_NOT_UTF8)
        user_data = _unquote_utf8(data)
        if user_data is None:
            raise TicketParseError(ticket, _wire.DATA_NOT_UTF8)
        info = _new_info(TicketInfo, (digest, user_id, tokens, user_data, int(hex_time, 16)))
        return info, text[self._hex_len + 8 :]

    def _diagnose(self, text):
        """The message for a ticket the pattern rejected: the first check it fails."""
        if not text.isascii():
            return _wire.NOT_ASCII
        hex_len = self._hex_len
        if len(text) < hex_len + 8:
            return _wire.TOO_SHORT
        if not _HEX_RE.fullmatch(text, 0, hex_len):
            return _wire.BAD_DIGEST
        if not _HEX_RE.fullmatch(text, hex_len, hex_len + 8):
            return _wire.BAD_TIME
        parts = text[hex_len + 8 :].split("!")
        if len(parts) < 3:
            return _wire.MISSING_PARTS
        if len(parts) > 3:
            return _wire.TOO_MANY_PARTS
        uid, token_text, data = parts
        if not _FIELD_RE.fullmatch(uid):
            return _wire.BAD_UID
        if not _TOKENS_RE.fullmatch(token_text):
            return _wire.BAD_TOKENS
        return _wire.BAD_DATA
