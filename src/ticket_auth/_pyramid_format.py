"""Pyramid's auth_tkt cookie (``pyramid.authentication.AuthTktCookieHelper``), read and written
without importing Pyramid. ``ticket_auth.pyramid`` adds the Pyramid parts (requests, settings,
the security policy).

What Pyramid's helper writes, with ``B64`` the standard base64 of the user id's bytes (UTF-8 for
``str``) and ``T`` its type (``b64unicode``, ``b64str``; an ``int`` is written in decimal, ``int``)::

    cookie value = DIGEST "%08x" % issued  quote(B64)  "!"  [TOKENS "!"]  "userid_type:" T
    DIGEST       = the mod_auth_tkt digest over B64, TOKENS and the user data   (B64 NOT quoted)

``quote`` is ``urllib.parse.quote``: the base64 ``=`` and ``+`` are written ``%3D`` and ``%2B``,
which Apache reads literally, so Apache refuses such a ticket; when the written user id has no
``%`` the ticket is exactly a mod_auth_tkt ticket. With ``include_ip``, an IPv4 client is hashed
as mod_auth_tkt does (4 bytes), an IPv6 client (any ``REMOTE_ADDR`` containing ``:``) as the
address text followed by the decimal issue time instead of the 8 bytes of address and time.
WebOb quotes a value containing a ``,`` (several tokens) as ``"..."`` with ``\\054``.

This module reads both that form and the mod_auth_tkt form (base64 of a ticket whose digest
covers exactly what is written); which digest rule applies is fixed by the form, never tried
one after the other: a raw ticket whose user id holds ``%`` is checked only by Pyramid's rule.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple
from urllib.parse import quote, unquote

from .exception import TicketDigestError
from .guard import (  # the guard's reasons (never any part of the ticket), and its cookie parser
    BAD_CLIENT_ADDRESS,
    BAD_DIGEST,
    DUPLICATE_COOKIE,
    EXPIRED,
    MALFORMED_COOKIE,
    MALFORMED_TICKET,
    NO_COOKIE,
    OK,
    OVERSIZED_COOKIE,
    parse_cookie_header,
)

UserId = str | bytes | int

HASHALGS = ("md5", "sha256", "sha512")
HEX_LEN = {"md5": 32, "sha256": 64, "sha512": 128}
WRITE_FORMS = ("pyramid", "apache")

# What Pyramid's helper accepts as a token (its rule, anchored at both ends here).
VALID_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9+_-]*")
USERID_TYPE = "userid_type:"
_CANONICAL_INT = re.compile(r"0|-?[1-9][0-9]*")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_OCTAL = re.compile(r"\\([0-7]{3})")
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/=]*")

# What WebOb writes bare in a cookie value; any other character makes it quote the value and
# write that character as a \ooo octal escape (a space excepted, kept as it is inside quotes).
_WEBOB_BARE = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'()*+-./:<=>?@[]^_`{|}~"
)


class Reading(NamedTuple):
    """What one cookie header says: the identity (None: anonymous), why, and whether the
    ticket should be reissued (its age passed ``reissue_time``, or an old secret signed it)."""

    identity: dict[str, Any] | None
    reason: str
    reissue: bool = False


def decode_cookie_value(value: str) -> str | None:
    """The ticket in a cookie value as WebOb writes it: bare cookie-octets, or a double-quoted
    string whose only escapes are ``\\ooo`` (octal bytes, UTF-8 text). None if malformed."""
    if not value.startswith('"'):
        # RFC 6265 cookie-octets: printable ASCII but space, '"', ',', ';' and '\\' (string
        # methods, which run in C: a ticket is checked on every request).
        ok = value.isascii() and value.isprintable() and not any(c in value for c in ' ",;\\')
        return value if ok and value else None
    if len(value) < 2 or not value.endswith('"'):
        return None
    parts = _OCTAL.split(value[1:-1])
    for text in parts[::2]:
        if not (text.isascii() and text.isprintable()) or '"' in text or "\\" in text:
            return None
    if len(parts) == 1:
        return parts[0]
    raw = bytearray()
    for i, part in enumerate(parts):
        raw += bytes([int(part, 8)]) if i % 2 else part.encode("ascii")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def encode_cookie_value(ticket: str) -> str:
    """A ticket as WebOb puts it in a Set-Cookie (ASCII tickets): bare when every character may
    be, else double-quoted with ``\\ooo`` escapes (``a,b`` -> ``"a\\054b"``)."""
    if set(ticket) <= _WEBOB_BARE:
        return ticket
    return '"' + "".join(c if c in _WEBOB_BARE or c == " " else f"\\{ord(c):03o}" for c in ticket) + '"'


def encode_userid(userid: UserId) -> tuple[str, str]:
    """The user id as written in the ticket, and its ``userid_type`` (Pyramid's encodings)."""
    kind = type(userid)
    if kind is int:
        return str(userid), "int"
    if kind is str:
        return binascii.b2a_base64(userid.encode("utf-8"), newline=False).decode("ascii"), "b64unicode"  # type: ignore[union-attr]
    if kind is bytes:
        return binascii.b2a_base64(userid, newline=False).decode("ascii"), "b64str"  # type: ignore[arg-type]
    raise TypeError(f"userid must be str, bytes or int, not {kind.__name__}")


def decode_userid(written: str, user_data: str) -> UserId | None:
    """The user id a ticket stands for, by the ``userid_type`` in its user data; None when the
    user data names more than one type or an unknown one, or the id is not in that type's form."""
    if "|" not in user_data:  # what Pyramid's helper writes: one datum
        kinds = [user_data[len(USERID_TYPE) :]] if user_data.startswith(USERID_TYPE) else []
    else:
        kinds = [datum[len(USERID_TYPE) :] for datum in user_data.split("|") if datum.startswith(USERID_TYPE)]
    if not kinds:
        return written
    if len(kinds) > 1:
        return None
    kind = kinds[0]
    if kind == "int":
        return int(written) if len(written) <= 64 and _CANONICAL_INT.fullmatch(written) else None
    if kind not in ("b64unicode", "b64str") or not _BASE64.fullmatch(written):
        return None
    raw = binascii.a2b_base64(written)
    if kind == "b64str":
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def strict_unquote(written: str) -> str | None:
    """A user id Pyramid quoted, unquoted; None unless ``written`` is exactly ``quote()``'s
    output for valid UTF-8 text (so no two cookie texts stand for the same user id)."""
    if "+" not in written and "=" not in written:
        # The quoted base64 user id Pyramid's helper writes: only '=' and '+' are escaped.
        text = written.replace("%3D", "=").replace("%2B", "+")
        if "%" not in text and _BASE64_TEXT.fullmatch(text):
            return text
    try:
        text = unquote(written, errors="strict")
    except UnicodeDecodeError:
        return None
    return text if quote(text) == written else None


def ipv6_digest(
    hashalg: str, secret: bytes, address: str, issued: int, uid: str, tokens: str, user_data: str
) -> str:
    """Pyramid's digest for a ticket bound to an IPv6 address: the address text and the decimal
    issue time take the place of mod_auth_tkt's 8 bytes (the rest is the same recipe)."""
    fields = (uid + "\0" + tokens + "\0" + user_data).encode("utf-8")
    inner = hashlib.new(hashalg, (address + str(issued)).encode("ascii") + secret + fields).hexdigest()
    return hashlib.new(hashalg, inner.encode("ascii") + secret).hexdigest()


@functools.lru_cache(maxsize=4096)
def _bound_address(remote_addr: str) -> tuple[str, bool] | None:
    """``REMOTE_ADDR`` checked: (IPv4 text, False), (the IPv6 text as given, True), or None."""
    try:
        address = ipaddress.ip_address(remote_addr.partition("%")[0])
    except ValueError:
        return None
    if ":" in remote_addr:  # Pyramid's test: the text as the server gave it is hashed
        return remote_addr, True
    return str(address), False


class PyramidTickets:
    """Reads and mints Pyramid's auth_tkt cookies (and mod_auth_tkt's), framework-neutral.

    Args:
        validator: an ``AuthTktFactory`` with every secret (the fallbacks as
            ``fallback_secrets``) and ``timeout=0``: this class applies Pyramid's timeout rule.
        secrets: the same secrets, in the same order (for the IPv6 form only, which mod_auth_tkt
            has no digest for).
        hashalg: ``"md5"``, ``"sha256"`` or ``"sha512"``, as the factories.
        cookie_name: the cookie's name.
        include_ip: bind tickets to the client's address.
        timeout: seconds after its issue time a ticket is refused (None: never).
        reissue_time: age in seconds after which a ticket is reissued (None: never).
        write_form: ``"pyramid"`` (what Pyramid's helper writes) or ``"apache"`` (base64, read
            by Apache's mod_auth_tkt but not by Pyramid's helper).
        max_cookie_length: longer cookie values are refused unread.
        max_cookie_header: a longer ``Cookie`` header is refused unread (``OVERSIZED_COOKIE``).
        clock_skew: a ticket issued more than this many seconds in the future is refused.
    """

    __slots__ = (
        "_hex_len",
        "_secrets",
        "_validator",
        "clock_skew",
        "cookie_name",
        "hashalg",
        "include_ip",
        "max_cookie_header",
        "max_cookie_length",
        "reissue_time",
        "timeout",
        "write_form",
    )

    def __init__(
        self,
        validator: Any,
        secrets: Sequence[bytes],
        hashalg: str,
        *,
        cookie_name: str,
        include_ip: bool,
        timeout: int | None,
        reissue_time: int | None,
        write_form: Literal["pyramid", "apache"],
        max_cookie_length: int,
        clock_skew: int,
        max_cookie_header: int = 16384,
    ) -> None:
        self._validator = validator
        self._secrets = tuple(secrets)
        self._hex_len = HEX_LEN[hashalg]
        self.hashalg = hashalg
        self.cookie_name = cookie_name
        self.include_ip = include_ip
        self.timeout = timeout
        self.reissue_time = reissue_time
        self.write_form = write_form
        self.max_cookie_length = max_cookie_length
        self.max_cookie_header = max_cookie_header
        self.clock_skew = clock_skew

    def __repr__(self) -> str:
        return f"<PyramidTickets {self.hashalg} cookie={self.cookie_name!r} writes={self.write_form}>"

    # -- reading ---------------------------------------------------------------------------

    def read(self, cookie_header: str | None, remote_addr: str | None, now: float) -> Reading:
        """Check the cookie in a ``Cookie`` header; never raises for anything a client sends.

        Args:
            cookie_header: the request's ``Cookie`` header (None or empty: no cookie).
            remote_addr: the client's address as the server reports it (``REMOTE_ADDR``),
                used only with ``include_ip``.
            now: the current time, in seconds since the epoch.

        Returns:
            A ``Reading``: the identity dict (``timestamp``, ``userid``, ``tokens``,
            ``userdata``) or None, the reason, and whether to reissue.
        """
        if not cookie_header:
            return Reading(None, NO_COOKIE)
        if len(cookie_header) > self.max_cookie_header:  # refused unread, as the guard does
            return Reading(None, OVERSIZED_COOKIE)
        if self.cookie_name not in cookie_header:
            return Reading(None, NO_COOKIE)
        try:
            values = parse_cookie_header(cookie_header, self.cookie_name)
        except Exception:  # noqa: BLE001 - an odd header is a refusal, never a server error
            return Reading(None, MALFORMED_COOKIE)
        if not values:
            return Reading(None, NO_COOKIE)
        value = values[0]
        # Identical copies (a cookie set for two domain variants by an older Pyramid) are one
        # ticket; different ones are refused: a cookie planted for a parent domain cannot win.
        if len(values) > 1 and any(other != value for other in values):
            return Reading(None, DUPLICATE_COOKIE)
        if len(value) > self.max_cookie_length:
            return Reading(None, OVERSIZED_COOKIE)
        ticket = decode_cookie_value(value)
        # Pyramid strips quotes around a ticket, mod_auth_tkt one of each: neither is written.
        if ticket is None or ticket.startswith('"') or ticket.endswith('"'):
            return Reading(None, MALFORMED_COOKIE)
        try:
            return self._read_ticket(ticket, remote_addr, now)
        except Exception:  # noqa: BLE001 - whatever the ticket holds, it is a refusal, not a 500
            return Reading(None, MALFORMED_TICKET)

    def _address(self, remote_addr: str | None) -> tuple[str | None, bool] | None:
        """(the address to bind, is it IPv6) with include_ip, (None, False) without it; None
        when include_ip is on and the address is missing or not an IP address."""
        if not self.include_ip:
            return None, False
        if not remote_addr or not isinstance(remote_addr, str):
            return None
        return _bound_address(remote_addr)

    def _read_ticket(self, ticket: str, remote_addr: str | None, now: float) -> Reading:
        bound = self._address(remote_addr)
        if bound is None:
            return Reading(None, BAD_CLIENT_ADDRESS)
        client_ip, ipv6 = bound
        hex_len = self._hex_len
        fallback = False
        if "!" not in ticket:
            # The mod_auth_tkt form (base64, or %21-escaped): Apache's rule, IPv4 only.
            if ipv6:
                return Reading(None, BAD_CLIENT_ADDRESS)
            info, fallback = self._validate(ticket, client_ip)
            if info is None:
                return Reading(None, BAD_DIGEST)
            written = info.user_id
        else:
            start = hex_len + 8
            end = ticket.find("!", start)
            quoted = "%" in ticket[start:end]
            if not quoted and not ipv6:
                # Written as hashed: the two rules are one, the codec checks it.
                info, fallback = self._validate(ticket, client_ip)
                if info is None:
                    return Reading(None, BAD_DIGEST)
                written = info.user_id
            elif not ipv6:
                # Pyramid's rule: the digest covers the unquoted user id, i.e. it is the
                # mod_auth_tkt digest of the ticket with the user id unquoted in place.
                written = strict_unquote(ticket[start:end])
                if written is None or "!" in written or "\0" in written:
                    return Reading(None, MALFORMED_TICKET)
                info, fallback = self._validate(ticket[:start] + written + ticket[end:], client_ip)
                if info is None:
                    return Reading(None, BAD_DIGEST)
            else:
                info = self._validator.parse(ticket)
                written = strict_unquote(info.user_id) if quoted else info.user_id
                if written is None:
                    return Reading(None, MALFORMED_TICKET)
                index = self._ipv6_rule(info, written, client_ip)
                if index is None:
                    return Reading(None, BAD_DIGEST)
                fallback = index > 0
        issued: int = info.timestamp
        if (self.timeout and issued + self.timeout < now) or issued > now + self.clock_skew:
            return Reading(None, EXPIRED)
        userid = decode_userid(written, info.user_data)
        if userid is None:
            return Reading(None, MALFORMED_TICKET)
        identity = {
            "timestamp": issued,
            "userid": userid,
            "tokens": list(info.tokens),
            "userdata": info.user_data,
        }
        reissue = fallback or (self.reissue_time is not None and now - issued > self.reissue_time)
        return Reading(identity, OK, reissue)

    def _validate(self, ticket: str, client_ip: str | None) -> tuple[Any, bool]:
        """The codec's ``validate`` (digest only: the factories have no timeout)."""
        try:
            info = self._validator.validate(ticket, client_ip=client_ip)
        except TicketDigestError:
            return None, False
        return info, info.fallback_secret_used

    def _ipv6_rule(self, info: Any, uid: str, client_ip: str | None) -> int | None:
        """Which secret signed this ticket by Pyramid's rule for an IPv6 client (the user id
        hashed as ``uid``, the address as text), or None."""
        assert client_ip is not None
        tokens = ",".join(info.tokens)
        for index, secret in enumerate(self._secrets):
            expected = ipv6_digest(
                self.hashalg, secret, client_ip, info.timestamp, uid, tokens, info.user_data
            )
            if hmac.compare_digest(expected, info.digest):
                return index
        return None

    # -- minting ---------------------------------------------------------------------------

    def mint(self, userid: UserId, tokens: Iterable[str], remote_addr: str | None, now: float) -> str:
        """The cookie value (before any cookie quoting) for a fresh ticket.

        Args:
            userid: ``str``, ``bytes`` or ``int``, written with its ``userid_type``.
            tokens: tokens matching ``[A-Za-z][A-Za-z0-9+_-]*`` (Pyramid's rule).
            remote_addr: the client's address (``REMOTE_ADDR``), needed with ``include_ip``.
            now: the issue time.

        Returns:
            The raw ticket in Pyramid's form, or base64 of a mod_auth_tkt ticket (``write_form
            "apache"``; an IPv6-bound ticket is always in Pyramid's form: Apache has none).

        Raises:
            TypeError: ``userid`` of another type, or ``tokens`` a bare ``str``.
            ValueError: an invalid token, or ``include_ip`` without a usable address.
        """
        uid, kind = encode_userid(userid)
        if isinstance(tokens, (str, bytes)):
            raise TypeError("tokens must be a sequence of str, not a single str")
        token_list = list(tokens)
        for token in token_list:
            if not isinstance(token, str) or not VALID_TOKEN.fullmatch(token):
                raise ValueError("each token must be a str matching [A-Za-z][A-Za-z0-9+_-]*")
        bound = self._address(remote_addr)
        if bound is None:
            raise ValueError(
                "include_ip is on but the client address (REMOTE_ADDR) is missing or not an IP address"
            )
        client_ip, ipv6 = bound
        user_data = USERID_TYPE + kind
        issued = int(now)
        if ipv6:
            assert client_ip is not None
            digest = ipv6_digest(
                self.hashalg, self._secrets[0], client_ip, issued, uid, ",".join(token_list), user_data
            )
            middle = "!" + ",".join(token_list) + "!" if token_list else "!"
            return f"{digest}{issued:08x}{quote(uid)}{middle}{user_data}"
        factory = self._validator
        if self.write_form == "apache":
            cookie: str = factory.new(uid, token_list, user_data, issued, client_ip)
            return cookie
        ticket: str = factory.new(uid, token_list, user_data, issued, client_ip, raw=True)
        start = self._hex_len + 8
        return ticket[:start] + quote(uid) + ticket[start + len(uid) :]
