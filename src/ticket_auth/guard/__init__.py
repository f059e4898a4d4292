"""The guard around the codec: one framework-neutral policy for ticket cookies.

    guard = TicketGuard(TicketFactory(secret, fallback_secrets=[old_secret]), lifetime=3600,
                        protect={"/account/": (), "/admin/": ("admin",)}, login_url="/login")
    result = guard.check(cookie_header, path="/admin/users", peer="203.0.113.7")
    result.identity        # an Identity, or None (anonymous)
    result.reason          # why: "ok", "no cookie", "expired", ... (never the ticket text)
    result.set_cookie      # a Set-Cookie value to send (sliding refresh, key rotation), or None
    result.status          # 0: let the request through; 401, 403 or 303 (result.location)
    guard.remember("alice", tokens=("admin",), peer=...)   # a Set-Cookie value: log in
    guard.forget()                                          # a Set-Cookie value: log out

The adapters ``ticket_auth.guard.asgi``, ``ticket_auth.guard.wsgi`` and
``ticket_auth.guard.aiohttp`` apply this policy to every request; this module imports no web
framework.

Choices the policy makes (docs/security.md states them for users):

* **Configuration.** Every option is checked when the guard is built: a bad one is a
  ``TypeError`` or ``ValueError`` that says what to pass. The factory is a ``TicketFactory``
  or ``AuthTktFactory`` of either core, checked by type (also when assigned later). ``protect``
  keys are paths starting with ``/`` (no ``?``, ``#`` or controls) and its values iterables of
  non-empty str tokens without ``,`` or ``!`` (a bare str is a ``TypeError``). ``login_url``
  is a path starting with a single ``/`` or an absolute ``http(s)://`` URL with a host, with no
  control, space, backslash or non-ASCII character. Numbers are ints (not bools) in range.
* **Factory.** A ``TicketFactory`` (0.1.4-format tickets, as ticket_auth 0.1.4 and
  aiohttp_auth mint them) or an ``AuthTktFactory`` (Apache mod_auth_tkt tickets, always
  written base64, so an Apache site with the same secret shares the login).
* **Age.** An AuthTkt ticket carries its issue time; a 0.1.4-format ticket carries only its
  expiry, so its issue time is taken as ``valid_until - lifetime``. A ticket is reissued (a
  fresh ticket with the same fields) once its age reaches ``reissue_after`` (default: half the
  lifetime, like mod_auth_tkt's ``TKTAuthTimeoutRefresh 0.5``), and whenever it was accepted
  by a fallback secret (key rotation without logging anyone out). An AuthTkt ticket older
  than ``lifetime`` is refused even if the factory's own ``timeout`` is longer or disabled. A
  ticket issued more than ``clock_skew`` seconds in the future is refused (reason
  ``"ticket from the future"``): an AuthTkt timestamp ahead of the clock, or a 0.1.4-format
  ``valid_until`` beyond ``now + lifetime + clock_skew``.
* **Cookie header.** A str with one character per byte of the header (Latin-1, as PEP 3333
  gives); longer than ``max_cookie_header``: refused unread. Read only from the ``Cookie``
  header(s), split strictly on ``;``. More than one cookie of the guard's name is refused as a
  whole (reason ``"duplicate cookie"``): a cookie planted for a parent domain cannot win over
  the user's own. Values longer than ``max_cookie_length`` are refused before any decoding. A
  bare value is read as Apache mod_auth_tkt reads it (anything up to the ``;``: commas,
  spaces, UTF-8 bytes) but with no control character; a quoted value is a double-quoted string
  with ``\\ooo`` octal escapes (what Python's ``http.cookies`` and so aiohttp write).
* **Client address.** Only with ``bind_ip=True`` is a ticket bound to the client's address.
  An IPv4-mapped IPv6 address (``::ffff:a.b.c.d``) is the IPv4 address, when minting and
  when checking. A forwarded header (default ``X-Forwarded-For``) is read only when the
  peer is in ``trusted_proxies``; the client is then the rightmost address of that header
  that is not itself a trusted proxy.
* **Protected paths.** ``protect`` maps path prefixes to the tokens they require (the
  longest matching prefix applies; a prefix covers itself with or without its trailing slash
  and whole segments below it). Elsewhere a request without a valid ticket passes through
  anonymous. On a protected path it gets a 401, or, with ``login_url``, a 303 redirect to the
  login URL with the original URL URL-encoded in the ``back`` argument (as mod_auth_tkt's
  ``TKTAuthLoginURL`` does). A valid ticket lacking a token gets a 403, with or without
  ``login_url`` (a redirect to log in again would loop). The back link is the request's path
  and query, backslashes in the path read as slashes and one leading slash, prefixed with
  ``public_origin`` when one is configured; it is never built from the request's Host header,
  and every byte of it is percent-encoded, whatever the target holds.
* **Cookie attributes.** ``Path=/``, ``HttpOnly``, ``SameSite=Lax`` and ``Secure`` unless
  ``secure=False``; optional ``Domain`` (ASCII; one leading dot dropped) and ``Max-Age`` (a
  session cookie by default). ``samesite`` in any case; ``"None"`` needs ``Secure``. A name
  starting ``__Secure-`` needs ``Secure``; ``__Host-`` also no ``Domain`` and ``Path=/`` (the
  defence against cookie tossing from a sibling subdomain).
* **Websockets.** ``origin_allowed`` checks a handshake's ``Origin``: same origin as the
  ``Host`` header by default, or one of ``allowed_origins``, or anything with ``"*"``; a
  handshake without ``Origin`` (not a browser) is allowed.
* **Transport.** ``note_transport`` warns once (``InsecureCookieWarning``) when a ``Secure``
  cookie is about to go out over plain HTTP to a host that is not local.
* **Errors.** No reason, ``repr`` or error text carries a ticket or the secret.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, cast
from urllib.parse import quote

from ..exception import TicketDigestError, TicketError, TicketExpired

if TYPE_CHECKING:
    from ..mod_auth_tkt import AuthTktFactory
    from ..ticket_factory import TicketFactory

    Factory = TicketFactory | AuthTktFactory

__all__ = [
    "REASONS",
    "CheckResult",
    "Identity",
    "InsecureCookieWarning",
    "TicketGuard",
    "client_address",
    "parse_cookie_header",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Every reason a check can give: none of them carries any part of the ticket.
OK = "ok"
NO_COOKIE = "no cookie"
DUPLICATE_COOKIE = "duplicate cookie"
OVERSIZED_COOKIE = "oversized cookie"
MALFORMED_COOKIE = "malformed cookie"
MALFORMED_TICKET = "malformed ticket"
BAD_DIGEST = "invalid digest (forged, another secret or another client address)"
EXPIRED = "expired"
BAD_CLIENT_ADDRESS = "client address unusable"
MISSING_TOKEN = "missing required token"  # noqa: S105 - a reason, not a password
ORIGIN_REFUSED = "websocket origin not allowed"
# A ticket whose issue time is after now + clock_skew: an AuthTkt ticket stamped in the future,
# or a 0.1.4-format ticket valid for longer than the guard's lifetime (its issue time is taken
# as valid_until - lifetime).
FUTURE_TICKET = "ticket from the future"
REASONS = (
    OK,
    NO_COOKIE,
    DUPLICATE_COOKIE,
    OVERSIZED_COOKIE,
    MALFORMED_COOKIE,
    MALFORMED_TICKET,
    BAD_DIGEST,
    EXPIRED,
    BAD_CLIENT_ADDRESS,
    MISSING_TOKEN,
    ORIGIN_REFUSED,
    FUTURE_TICKET,
)

# RFC 6265 cookie-octet: what a bare cookie value may contain.
_COOKIE_OCTETS = frozenset(
    chr(c) for c in [0x21, *range(0x23, 0x2C), *range(0x2D, 0x3B), *range(0x3C, 0x5C), *range(0x5D, 0x7F)]
)
_ESCAPE = re.compile(r'\\([0-7]{3}|["\\])')
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_EXPIRED_DATE = "Thu, 01 Jan 1970 00:00:00 GMT"


class InsecureCookieWarning(UserWarning):
    """A ``Secure`` ticket cookie is about to be sent over plain HTTP to a host that is not local.

    The browser stores such a cookie but never sends it back over ``http://``, so every login
    seems to work and every next request is anonymous. Issued at most once per ``TicketGuard``
    (see ``TicketGuard.note_transport``).
    """


class Identity(NamedTuple):
    """Who a valid ticket says the user is.

    ``issued`` is the ticket's issue time (for a 0.1.4-format ticket: its expiry minus the
    guard's lifetime); ``fallback_secret_used`` tells that an old secret signed it.
    """

    user_id: str
    tokens: tuple[str, ...]
    user_data: str
    issued: int
    fallback_secret_used: bool = False


class CheckResult(NamedTuple):
    """What the guard decided about one request (immutable).

    * ``identity``: the user, or None for an anonymous request.
    * ``reason``: one of ``REASONS``; safe to log (it never contains the ticket).
    * ``set_cookie``: a ``Set-Cookie`` header value to add to the response (a reissued
      ticket), or None.
    * ``status``: 0 to let the request through; otherwise the response to give instead:
      401, 403, or a 303 redirect to ``location``.
    """

    identity: Identity | None
    reason: str
    set_cookie: str | None = None
    status: int = 0
    location: str | None = None

    @property
    def allowed(self) -> bool:
        """True when the request goes on to the application."""
        return self.status == 0

    def __repr__(self) -> str:
        # The reissued cookie carries a fresh ticket: never in a repr (and so never in a log).
        cookie = "<Set-Cookie with a new ticket>" if self.set_cookie is not None else None
        return (
            f"CheckResult(identity={self.identity!r}, reason={self.reason!r}, set_cookie={cookie}, "
            f"status={self.status!r}, location={self.location!r})"
        )


def _stored_identity(store: Mapping[Any, Any], key: object) -> Identity | None:
    """What an adapter's ``identity`` returns: the identity of the ``CheckResult`` its
    middleware stored under ``key`` (None: anonymous, or no middleware ran)."""
    result: CheckResult | None = store.get(key)
    return result.identity if result is not None else None


def _stored_guard(store: Mapping[Any, Any], key: object, missing: str) -> TicketGuard:
    """The guard an adapter's middleware stored under ``key`` (for ``remember`` and
    ``forget``); RuntimeError(``missing``) when there is none."""
    guard = store.get(key)
    if not isinstance(guard, TicketGuard):
        raise RuntimeError(missing)
    return guard


def parse_cookie_header(header: str, name: str) -> list[str]:
    """Every raw value of the cookie ``name`` in a ``Cookie`` header, in order.

    The header is split on ``;``; each part is ``name=value`` with optional spaces around it.
    Parts without ``=`` are skipped. Values are returned as they are (still quoted).
    """
    values = []
    for part in header.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip(" \t") == name:
            values.append(value.strip(" \t"))
    return values


def _cookie_values(header: str, name: str) -> list[str]:
    """``parse_cookie_header(header, name)``, without splitting the whole header when ``name``
    occurs in it at most once (a browser's Cookie header often carries a dozen cookies).

    The same result for every input: a part whose key is ``name`` contains ``name``, and
    ``name`` (an HTTP token) contains no ``;`` or ``=``, so with no occurrence nothing matches,
    and with one occurrence only the ``;``-delimited part around it can match. Two or more
    occurrences (a duplicate, or the name inside another cookie's name or value) take the
    full parse."""
    if name not in header:
        return []
    if ";" not in header:  # one part: the whole header
        key, sep, value = header.partition("=")
        return [value.strip(" \t")] if sep and key.strip(" \t") == name else []
    if header.count(name) != 1:
        return parse_cookie_header(header, name)
    at = header.find(name)
    end = header.find(";", at)
    key, sep, value = header[header.rfind(";", 0, at) + 1 : end if end >= 0 else None].partition("=")
    return [value.strip(" \t")] if sep and key.strip(" \t") == name else []


def _is_quoted_text(text: str) -> bool:
    """Printable ASCII without '"', ',', ';' or '\\' (RFC 6265 cookie-octets, and space).

    Plain string methods rather than a regular expression: they run in C over the text and
    cost a fraction of a character-class match on a ticket-sized value."""
    return (
        text.isascii()
        and text.isprintable()
        and '"' not in text
        and "," not in text
        and ";" not in text
        and "\\" not in text
    )


def _is_quoted_text_or_comma(text: str) -> bool:
    """``_is_quoted_text``, but for commas, which it allows (a text known to have no backslash)."""
    return text.isascii() and text.isprintable() and '"' not in text and ";" not in text


def _is_bare_value(text: str) -> bool:
    """A non-empty run of RFC 6265 cookie-octets."""
    return bool(text) and " " not in text and _is_quoted_text(text)


def _decode_bare_bytes(value: str) -> str | None:
    """A bare value with bytes above 0x7F (one a character, as the Cookie header convention
    says): the UTF-8 text they spell, or None (not UTF-8, a control, or not bytes at all)."""
    try:
        text = value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return None
    return None if _CONTROLS.search(value) else text


def _decode_cookie_value(value: str) -> str | None:
    """The ticket in a cookie value, or None if malformed.

    A bare value is what Apache mod_auth_tkt reads: everything up to the ``;`` (so commas,
    spaces inside, ``"`` and ``\\``, and UTF-8 bytes), but no control character. A value
    starting with ``"`` is a quoted string: printable ASCII with ``\\ooo`` octal escapes.
    The digest covers the ticket text, so accepting what Apache accepts lets nothing in that
    the secret did not sign.
    """
    if not value.startswith('"'):
        if value.isascii():  # the common case: two C scans; isprintable() refuses the controls
            return value if value and value.isprintable() else None
        return _decode_bare_bytes(value)
    if len(value) < 2 or value[-1] != '"':
        return None
    body = value[1:-1]
    if "\\" not in body:
        return body if _is_quoted_text(body) else None
    # Fast path: what this guard and aiohttp write for a 0.1.4-format ticket with tokens,
    # whose only character needing an escape is the comma between tokens. When no backslash
    # is left once every "\\054" is a comma, the body is quoted text with those escapes only
    # if it has no comma of its own and the result passes the quoted-text test but for the
    # commas just put in (one replace, one scan).
    ticket = body.replace("\\054", ",")
    if "\\" not in ticket:
        if "," in body:
            return None
        return ticket if _is_quoted_text_or_comma(ticket) else None
    # Text and escapes alternate: [text, escape, text, ..., text]. Every text must be plain
    # quoted-string characters (so a stray backslash or quote fails); no nested repetition,
    # so the time is linear in the value's length whatever it holds.
    parts = _ESCAPE.split(body)
    for text in parts[::2]:
        if not _is_quoted_text(text):
            return None
    for i in range(1, len(parts), 2):
        escape = parts[i]
        if len(escape) == 3:
            code = int(escape, 8)
            if code > 0x7F:
                return None
            parts[i] = chr(code)
    return "".join(parts)


def _encode_cookie_value(ticket: str) -> str:
    """A cookie value for ``ticket``: bare when it can be, else quoted with octal escapes."""
    if _is_bare_value(ticket):
        return ticket
    return '"' + "".join(c if c in _COOKIE_OCTETS else f"\\{ord(c):03o}" for c in ticket) + '"'


@functools.lru_cache(maxsize=4096)
def _parse_ip(text: str) -> IPAddress | None:
    """An address, with an IPv4-mapped IPv6 address turned into its IPv4 address."""
    text = text.strip(" \t")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
    return address


@functools.lru_cache(maxsize=4096)
def _ip_text(address: IPAddress) -> str:
    return str(address)


@functools.lru_cache(maxsize=4096)
def _peer_text(peer: str) -> str | None:
    """The normalized text of a peer address (IPv4-mapped made IPv4), or None if unparsable."""
    address = _parse_ip(peer)
    return None if address is None else str(address)


# NamedTuple construction without the generated __new__ (a Python function): the request path
# builds one Identity and one CheckResult per request.
_new_tuple = tuple.__new__


def client_address(
    peer: str | None,
    forwarded: str | None,
    trusted_proxies: tuple[IPNetwork, ...],
) -> IPAddress | None:
    """The client's address: the peer, or when the peer is a trusted proxy, the rightmost
    address of the forwarded header (a comma-separated list) that is not a trusted proxy.
    None when it cannot be known (no peer, or an unparsable address where one is needed)."""
    address = _parse_ip(peer) if peer else None
    if address is None:
        return None
    if not trusted_proxies or not forwarded or not _trusted(address, trusted_proxies):
        return address
    for hop in reversed(forwarded.split(",")):
        hop_address = _parse_ip(hop)
        if hop_address is None:
            return None
        address = hop_address
        if not _trusted(address, trusted_proxies):
            return address
    return address


def _trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


# -- websocket origins and the transport ------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::([0-9]{1,5}))?")
_ORIGIN = re.compile(r"(https?)://(.+)", re.IGNORECASE)


def _split_host(text: str) -> tuple[str, int | None] | None:
    """``host[:port]`` (a Host header, or an origin's authority) as (lowercase host without a
    trailing dot, port or None); None when it is not that form. IPv6 addresses in brackets."""
    match = _HOST_PORT.fullmatch(text)
    if match is None:
        return None
    host, port = match.group(1).lower(), match.group(2)
    if port is not None and not 0 < int(port) < 65536:
        return None
    return host.rstrip(".") if not host.startswith("[") else host, int(port) if port else None


def _parse_origin(origin: str) -> tuple[str, str, int] | None:
    """An ``Origin`` value as (scheme, host, port), the port made explicit; None unless it is
    an ``http://`` or ``https://`` origin with a host and no path, query or user part."""
    match = _ORIGIN.fullmatch(origin)
    if match is None:
        return None
    scheme = match.group(1).lower()
    authority = _split_host(match.group(2))
    if authority is None or not authority[0]:
        return None
    host, port = authority
    return scheme, host, _DEFAULT_PORTS[scheme] if port is None else port


def _is_local_host(host: str | None) -> bool:
    """True for a Host value naming this machine: localhost, ``*.localhost``, 127.0.0.0/8 or
    ::1 (with or without a port; IPv6 in brackets), where browsers keep ``Secure`` cookies
    over plain HTTP."""
    if not host:
        return False
    host = host.strip()
    if host.startswith("["):
        name = host[1 : host.find("]")] if "]" in host else host[1:]
    elif host.count(":") == 1:
        name = host.partition(":")[0]
    else:
        name = host  # a name, or an IPv6 address without brackets (not a valid Host, but clear)
    name = name.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = _parse_ip(name)
    return address is not None and address.is_loopback


def _check_allowed_origins(
    allowed_origins: str | Iterable[str] | None,
) -> frozenset[tuple[str, str, int]] | None:
    """``allowed_origins`` as the set of (scheme, host, port) it names; None for "*"."""
    if isinstance(allowed_origins, str):
        if allowed_origins == "*":
            return None
        raise TypeError(
            "allowed_origins must be None (same origin only), '*' (no check) or a list of origins "
            "such as ['https://app.example.com'], not a single str"
        )
    if isinstance(allowed_origins, (bytes, bytearray, memoryview)):
        raise TypeError("allowed_origins must be a list of str origins such as ['https://app.example.com']")
    origins = set()
    for entry in allowed_origins or ():
        if not isinstance(entry, str):
            raise TypeError(f"allowed_origins entries must be str, not {type(entry).__name__}")
        if entry == "*":
            raise ValueError("to turn the origin check off pass allowed_origins='*' alone, not in a list")
        parsed = _parse_origin(entry)
        if parsed is None:
            raise ValueError(
                f"allowed_origins entry {entry!r} is not an origin: pass 'https://host' or "
                "'https://host:port' (no path, no trailing slash)"
            )
        origins.add(parsed)
    return frozenset(origins)


# -- checking the configuration -----------------------------------------------------------------

_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DOMAIN = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
_COOKIE_PATH_FORBIDDEN = re.compile(r"[\x00-\x20\x7f;,]")
_ABSOLUTE_URL = re.compile(r"(https?)://([^/?#]*)(.*)", re.IGNORECASE | re.DOTALL)


@functools.cache
def _factory_types() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(the TicketFactory classes, the AuthTktFactory classes) of every core installed."""
    from .. import _ticketcore_py

    tickets: list[type] = [_ticketcore_py.TicketFactory]
    authtkts: list[type] = [_ticketcore_py.AuthTktFactory]
    try:
        from .. import _ticketcore
    except ImportError:  # the compiled core is not built: only the pure one exists
        pass
    else:
        tickets.append(_ticketcore.TicketFactory)
        authtkts.append(_ticketcore.AuthTktFactory)
    return tuple(tickets), tuple(authtkts)


def _factory_kind(factory: object) -> bool:
    """True for an AuthTktFactory, False for a TicketFactory (of either core); TypeError else."""
    tickets, authtkts = _factory_types()
    if isinstance(factory, authtkts):
        return True
    if isinstance(factory, tickets):
        return False
    hint = (
        "pass TicketFactory(secret) (from ticket_auth) or AuthTktFactory(secret, digest) "
        "(from ticket_auth.mod_auth_tkt)"
    )
    if isinstance(factory, (bytes, bytearray, str)):
        raise TypeError(f"TicketGuard takes a factory, not the secret itself: {hint}")
    raise TypeError(
        f"factory must be a TicketFactory or an AuthTktFactory, not {type(factory).__name__}: {hint}"
    )


def _int_option(name: str, value: object, minimum: int) -> int:
    """``value`` when it is an int (not a bool) >= ``minimum``; TypeError/ValueError else."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int (seconds or characters), not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, not {value}")
    return int(value)


def _bool_option(name: str, value: object) -> bool:
    if type(value) is not bool:
        raise TypeError(f"{name} must be True or False, not {value!r}")
    return value


def _is_token(value: object) -> bool:
    return isinstance(value, str) and bool(value) and set(value) <= _TOKEN_CHARS


def _check_protect(protect: object) -> list[tuple[str, tuple[str, ...]]]:
    """``protect`` as (prefix without a trailing slash, tokens) pairs, longest prefix first."""
    if protect is None:
        return []
    if not isinstance(protect, Mapping):
        raise TypeError('protect must be a mapping of path prefix to tokens, e.g. {"/admin/": ("admin",)}')
    rules: dict[str, tuple[str, ...]] = {}
    for prefix, tokens in protect.items():
        if not isinstance(prefix, str):
            raise TypeError(f"protect keys must be str paths such as '/admin/', not {type(prefix).__name__}")
        if not prefix.startswith("/") or _CONTROLS.search(prefix) or "?" in prefix or "#" in prefix:
            raise ValueError(
                f"protect key {prefix!r} must be a path starting with '/', without '?', '#' or control "
                "characters (a prefix such as '/admin/')"
            )
        if isinstance(tokens, (str, bytes, bytearray)) or not isinstance(tokens, Iterable):
            raise TypeError(
                f"protect[{prefix!r}] must be an iterable of str tokens such as ('admin',) or (), "
                f"not {type(tokens).__name__}"
            )
        tokens = tuple(tokens)
        for token in tokens:
            if not isinstance(token, str):
                raise TypeError(f"protect[{prefix!r}]: tokens must be str, not {type(token).__name__}")
            if not token or "," in token or "!" in token:
                raise ValueError(
                    f"protect[{prefix!r}]: token {token!r} could never match a ticket's token "
                    "(pass non-empty tokens without ',' or '!')"
                )
        key = prefix.rstrip("/") or "/"
        if key in rules and rules[key] != tokens:
            raise ValueError(f"protect names the path {key!r} twice (with and without '/') with other tokens")
        rules[key] = tokens
    return sorted(rules.items(), key=lambda item: len(item[0]), reverse=True)


def _check_login_url(login_url: object) -> str | None:
    if login_url is None:
        return None
    if not isinstance(login_url, str):
        raise TypeError(f"login_url must be a str, not {type(login_url).__name__}")
    problem = None
    if not login_url.isascii() or _CONTROLS.search(login_url) or " " in login_url or "\\" in login_url:
        problem = "has a control character, a space, a backslash or a non-ASCII character (percent-encode it)"
    elif login_url.startswith("/"):
        if login_url.startswith("//"):
            problem = "starts with '//' (browsers read it as another host)"
    else:
        match = _ABSOLUTE_URL.fullmatch(login_url)
        if match is None:
            problem = "is neither a path starting with '/' nor an http:// or https:// URL"
        elif _split_host(match.group(2)) is None or not match.group(2):
            problem = "has no host"
    if problem:
        raise ValueError(
            f"login_url {problem}: pass a path such as '/login' or an absolute URL such as "
            "'https://login.example.com/login'"
        )
    return login_url


def _check_public_origin(public_origin: object) -> str | None:
    if public_origin is None:
        return None
    if not isinstance(public_origin, str):
        raise TypeError(f"public_origin must be a str, not {type(public_origin).__name__}")
    if _parse_origin(public_origin.rstrip("/")) is None:
        raise ValueError(
            "public_origin must be an absolute http:// or https:// origin without a path, "
            "such as 'https://app.example.com'"
        )
    return public_origin.rstrip("/")


def _check_samesite(samesite: object, secure: bool) -> str | None:
    if samesite is None:
        return None
    normal = (
        {"lax": "Lax", "strict": "Strict", "none": "None"}.get(samesite.lower())
        if isinstance(samesite, str)
        else None
    )
    if normal is None:
        raise ValueError(f"samesite must be 'Lax', 'Strict', 'None' or None (to omit it), not {samesite!r}")
    if normal == "None" and not secure:
        raise ValueError("samesite='None' needs secure=True (browsers refuse it otherwise)")
    return normal


def _check_domain(domain: object) -> str | None:
    if domain is None:
        return None
    if not isinstance(domain, str):
        raise TypeError(f"domain must be a str, not {type(domain).__name__}")
    if not domain.isascii():
        try:
            suggestion = f" such as {domain.encode('idna').decode('ascii')!r}"
        except UnicodeError:
            suggestion = ""
        raise ValueError(f"domain must be ASCII: pass its IDNA (punycode) form{suggestion}")
    name = domain[1:] if domain.startswith(".") else domain
    if not _DOMAIN.fullmatch(name):
        raise ValueError(
            f"domain {domain!r} is not a host name: pass letters, digits, '-' and '.' only, "
            "such as 'example.com'"
        )
    return name


def _check_cookie_path(path: object) -> str:
    if not isinstance(path, str):
        raise TypeError(f"path must be a str, not {type(path).__name__}")
    if not path.startswith("/") or _COOKIE_PATH_FORBIDDEN.search(path) or not path.isascii():
        raise ValueError(
            "path must start with '/' and contain no space, ';', ',', control or non-ASCII character"
        )
    return path


def _check_cookie_name(cookie_name: object, secure: bool, domain: str | None, path: str) -> str:
    if not isinstance(cookie_name, str):
        raise TypeError(f"cookie_name must be a str, not {type(cookie_name).__name__}")
    if not _is_token(cookie_name):
        raise ValueError("cookie_name must be a non-empty HTTP token (letters, digits and !#$%&'*+-.^_`|~)")
    lowered = cookie_name.lower()
    if lowered.startswith("__host-") and (not secure or domain is not None or path != "/"):
        raise ValueError("a cookie_name starting with __Host- needs secure=True, no domain and path='/'")
    if lowered.startswith("__secure-") and not secure:
        raise ValueError("a cookie_name starting with __Secure- needs secure=True")
    return cookie_name


def _check_trusted_proxies(trusted_proxies: object) -> tuple[IPNetwork, ...]:
    if isinstance(trusted_proxies, (str, bytes, bytearray)) or not isinstance(trusted_proxies, Iterable):
        raise TypeError("trusted_proxies must be a list of addresses or networks, e.g. ['10.0.0.0/8']")
    networks = []
    for entry in trusted_proxies:
        if not isinstance(entry, str):
            raise TypeError(f"trusted_proxies entries must be str, not {type(entry).__name__}")
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"trusted_proxies entry {entry!r} is not an address or network (pass '10.0.0.1' or '10.0.0.0/8')"
            ) from None
    return tuple(networks)


# What a request without a cookie gets before protect applies, and one whose Cookie header is
# over max_cookie_header (NamedTuples: immutable).
_ANONYMOUS = CheckResult(None, NO_COOKIE)
_OVERSIZED = CheckResult(None, OVERSIZED_COOKIE)

# The settings the compiled decision copies (TicketGuard.__setattr__ rebuilds it when one changes).
_CORE_SETTINGS = frozenset(
    {
        "_factory",
        "_clock",
        "_protect",
        "bind_ip",
        "clock_skew",
        "cookie_name",
        "lifetime",
        "max_cookie_header",
        "max_cookie_length",
        "reissue_after",
        "reissue_on_fallback",
        "trusted_proxies",
    }
)


def _compiled_decision(guard: TicketGuard) -> _CompiledDecision | None:
    """The compiled core's ``GuardCore`` for ``guard``: when the factory is exactly that core's
    ``TicketFactory`` or ``AuthTktFactory`` and every setting is in the range it reads exactly;
    None otherwise (the Python rules decide: ``TicketGuard._identify_result``)."""
    factory = getattr(guard, "_factory", None)
    core = sys.modules.get("ticket_auth._ticketcore")
    if core is None or type(factory) not in (core.TicketFactory, core.AuthTktFactory):
        return None
    try:
        decision: _CompiledDecision = core.GuardCore(
            guard,
            factory,
            identity_type=Identity,
            result_type=CheckResult,
            anonymous=_ANONYMOUS,
            reasons={name: globals()[name] for name in _CORE_REASONS},
            ok=OK,
        )
    except (AttributeError, TypeError, ValueError, OverflowError):
        return None
    return decision


_CORE_REASONS = (
    "NO_COOKIE",
    "DUPLICATE_COOKIE",
    "OVERSIZED_COOKIE",
    "MALFORMED_COOKIE",
    "MALFORMED_TICKET",
    "BAD_DIGEST",
    "EXPIRED",
    "BAD_CLIENT_ADDRESS",
    "FUTURE_TICKET",
)


class _CompiledDecision(Protocol):
    """What the guard and its adapters call on the compiled decision
    (``ticket_auth._ticketcore.GuardCore``, built by ``_compiled_decision``). Each returns a
    ``CheckResult`` with status 0 (before ``protect``), or None where the input is not in the
    form that entry reads (the caller then applies the Python rules)."""

    def check_text(
        self, header: str | None, peer: str | None, forwarded: str | None, now: float | None
    ) -> CheckResult: ...

    def check_lines(self, headers: Any, client: Any, forwarded: str | None) -> CheckResult | None: ...

    def check_raw(self, raw_headers: Any, peer: str | None, forwarded: str | None) -> CheckResult | None: ...

    def check_plain_raw(self, raw_headers: Any, peer: str | None) -> CheckResult | None: ...

    def check_scope(self, scope: Any) -> CheckResult | None: ...

    def enter(
        self, scope: Any, scope_key: str, guard_key: str, guard: TicketGuard
    ) -> dict[str, Any] | CheckResult | None: ...


class TicketGuard:
    """The policy: which tickets a request may carry, and what the response then gets.

    Every option is checked here; a bad one is a ``TypeError`` or ``ValueError`` saying what to
    pass (see the module documentation for the rules).

    Args:
        factory: a ``TicketFactory`` or an ``AuthTktFactory`` of either core (with any fallback
            secrets); not a secret.
        cookie_name: an HTTP token; default ``"auth_tkt"`` (aiohttp_auth uses ``"AUTH_TKT"``).
            ``__Secure-`` needs ``secure``; ``__Host-`` also no ``domain`` and ``path="/"``.
        lifetime: seconds a ticket is valid, an int > 0 (default 7200, mod_auth_tkt's).
        reissue_after: age in seconds (int >= 0) after which a valid ticket is reissued;
            ``"half"`` (the default) for half the lifetime, None never reissues for age.
        reissue_on_fallback: reissue a ticket accepted by a fallback secret (default True).
        bind_ip: bind tickets to the client's address (default False).
        trusted_proxies: addresses or networks (str) whose forwarded header is believed.
        forwarded_header: the header naming the client behind a proxy (``X-Forwarded-For``).
        protect: path prefix (a str starting with ``/``) -> iterable of tokens required there
            (all of them; ``()``: any valid ticket). A prefix covers itself with or without its
            trailing slash.
        login_url: where an anonymous request on a protected path is redirected (303), with
            the original URL in ``back_arg``: a path starting with one ``/`` or an absolute
            ``http(s)://`` URL. Without it such a request gets a 401. A missing token is a 403
            either way.
        back_arg: the query argument carrying the back link (default ``"back"``).
        public_origin: e.g. ``"https://app.example.com"``, put before the path in the back
            link; without it the back link is the path and query alone.
        secure: the cookie's ``Secure`` attribute (default True).
        httponly: the cookie's ``HttpOnly`` attribute (default True).
        samesite: ``"Lax"`` (default), ``"Strict"``, ``"None"`` (any case; needs ``secure``)
            or None to omit it.
        path: the cookie's ``Path``, starting with ``/`` (default ``"/"``).
        domain: the cookie's ``Domain`` (ASCII; one leading dot dropped), default none.
        max_age: the cookie's ``Max-Age`` in seconds (int >= 0); default a session cookie.
        max_cookie_length: longer cookie values are refused unread (default 4096).
        max_cookie_header: a longer ``Cookie`` header (all of them joined) is refused unread
            (default 16384).
        clock_skew: seconds a ticket's issue time may lie in the future (default 60).
        allowed_origins: for websocket handshakes (``origin_allowed``): None (same origin
            only, the default), a list of origins such as ``["https://app.example.com"]``, or
            ``"*"`` (no check).
        clock: the time source (``time.time``), for tests.

    Raises:
        TypeError: an option of the wrong type (a secret for ``factory``, a bare str of
            tokens, a bool for a number...).
        ValueError: an option out of range or malformed.
    """

    __slots__ = (
        "_attributes",
        "_authtkt",
        "_clock",
        "_core",
        "_direct",
        "_expire_attributes",
        "_factory",
        "_origins",
        "_protect",
        "_secure",
        "_transport_warned",
        "back_arg",
        "bind_ip",
        "clock_skew",
        "cookie_name",
        "forwarded_header",
        "lifetime",
        "login_url",
        "max_cookie_header",
        "max_cookie_length",
        "public_origin",
        "reissue_after",
        "reissue_on_fallback",
        "trusted_proxies",
    )

    _core: _CompiledDecision | None  # the compiled decision, or None: the Python rules
    _direct: _CompiledDecision | None  # _core when it decides whole requests (_set_core)

    def __init__(
        self,
        factory: Factory,
        *,
        cookie_name: str = "auth_tkt",
        lifetime: int = 7200,
        reissue_after: int | Literal["half"] | None = "half",
        reissue_on_fallback: bool = True,
        bind_ip: bool = False,
        trusted_proxies: Iterable[str] = (),
        forwarded_header: str = "X-Forwarded-For",
        protect: Mapping[str, Iterable[str]] | None = None,
        login_url: str | None = None,
        back_arg: str = "back",
        public_origin: str | None = None,
        secure: bool = True,
        httponly: bool = True,
        samesite: str | None = "Lax",
        path: str = "/",
        domain: str | None = None,
        max_age: int | None = None,
        max_cookie_length: int = 4096,
        max_cookie_header: int = 16384,
        clock_skew: int = 60,
        allowed_origins: str | Iterable[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.factory = factory
        self.lifetime = _int_option("lifetime", lifetime, 1)
        if reissue_after == "half":
            reissue_after = self.lifetime // 2
        elif reissue_after is not None:
            reissue_after = _int_option("reissue_after (None, 'half' or seconds)", reissue_after, 0)
        self.reissue_after = reissue_after
        self.reissue_on_fallback = _bool_option("reissue_on_fallback", reissue_on_fallback)
        self.bind_ip = _bool_option("bind_ip", bind_ip)
        self.trusted_proxies = _check_trusted_proxies(trusted_proxies)
        if not _is_token(forwarded_header):
            raise (ValueError if isinstance(forwarded_header, str) else TypeError)(
                "forwarded_header must be a header name (an HTTP token) such as 'X-Forwarded-For'"
            )
        self.forwarded_header = forwarded_header
        self._protect = _check_protect(protect)
        self.login_url = _check_login_url(login_url)
        if not isinstance(back_arg, str) or not back_arg or not set(back_arg) <= _UNRESERVED:
            raise ValueError("back_arg must be a non-empty query argument name of letters, digits and -._~")
        self.back_arg = back_arg
        self.public_origin = _check_public_origin(public_origin)
        secure = _bool_option("secure", secure)
        httponly = _bool_option("httponly", httponly)
        samesite = _check_samesite(samesite, secure)
        path = _check_cookie_path(path)
        domain = _check_domain(domain)
        self.cookie_name = _check_cookie_name(cookie_name, secure, domain, path)
        if max_age is not None:
            max_age = _int_option("max_age", max_age, 0)
        self.max_cookie_length = _int_option("max_cookie_length", max_cookie_length, 1)
        self.max_cookie_header = _int_option("max_cookie_header", max_cookie_header, 1)
        self.clock_skew = _int_option("clock_skew", clock_skew, 0)
        self._origins = _check_allowed_origins(allowed_origins)
        if not callable(clock):
            raise TypeError("clock must be a callable returning the time in seconds, such as time.time")
        self._clock = clock
        self._secure = secure
        self._transport_warned = False
        attributes = [f"Path={path}"]
        if domain:
            attributes.append(f"Domain={domain}")
        tail = []
        if secure:
            tail.append("Secure")
        if httponly:
            tail.append("HttpOnly")
        if samesite:
            tail.append(f"SameSite={samesite}")
        max_age_part = [f"Max-Age={max_age}"] if max_age is not None else []
        self._attributes = "; ".join(["", *attributes, *max_age_part, *tail])
        self._expire_attributes = "; ".join(["", *attributes, "Max-Age=0", f"Expires={_EXPIRED_DATE}", *tail])
        self._set_core()

    def __setattr__(self, name: str, value: object) -> None:
        # The compiled decision holds a copy of the settings it reads: a setting assigned after
        # construction (the factory, to rotate secrets, or any other) rebuilds it.
        object.__setattr__(self, name, value)
        if name in _CORE_SETTINGS and hasattr(self, "_core"):
            self._set_core()

    def _set_core(self) -> None:
        """Build the compiled decision (``_core``), and ``_direct``: the same when it reads the
        whole request on its own (no forwarded header to read), for the adapters' shortest
        path; None otherwise."""
        core = _compiled_decision(self)
        object.__setattr__(self, "_core", core)
        direct = core if not (self.bind_ip and self.trusted_proxies) else None
        object.__setattr__(self, "_direct", direct)

    @property
    def factory(self) -> Factory:
        """The factory that checks and mints tickets; assign a new one to rotate secrets."""
        return self._factory

    @factory.setter
    def factory(self, factory: Factory) -> None:
        self._authtkt = _factory_kind(factory)
        self._factory = factory

    def __repr__(self) -> str:
        kind = "AuthTktFactory" if self._authtkt else "TicketFactory"
        return f"<TicketGuard {kind} cookie={self.cookie_name!r} lifetime={self.lifetime}>"

    # -- the client's address -------------------------------------------------------------

    def client_address(self, peer: str | None, forwarded: str | None = None) -> IPAddress | None:
        """The client address for this request (see ``client_address``)."""
        return client_address(peer, forwarded, self.trusted_proxies)

    def _bound_ip(self, address: IPAddress | None) -> str | None:
        if not self.bind_ip:
            return None
        if address is None:
            raise ValueError("bind_ip is on but the client address is unknown")
        return str(address)

    # -- protected paths ------------------------------------------------------------------

    @property
    def protects_paths(self) -> bool:
        """True when ``protect`` names paths (the adapters compute the path only then)."""
        return bool(self._protect)

    def required_tokens(self, path: str) -> tuple[str, ...] | None:
        """The tokens ``path`` requires, or None when it is not protected.

        A prefix covers itself with or without its trailing slash and the paths below it, whole
        segments only: ``"/admin/"`` (or ``"/admin"``) covers ``/admin``, ``/admin/`` and
        ``/admin/x``, not ``/administrator``. The longest matching prefix applies.

        Args:
            path: the request's decoded path.

        Returns:
            The tokens required there (all of them; ``()``: any valid ticket), or None.
        """
        for prefix, tokens in self._protect:
            if path.startswith(prefix) and (
                len(path) == len(prefix) or path[len(prefix)] == "/" or prefix == "/"
            ):
                return tokens
        return None

    def _deny(self, target: str | None) -> tuple[int, str | None]:
        """The refusal of an anonymous request on a protected path: 401, or 303 to login_url."""
        if self.login_url is None:
            return 401, None
        location = self.login_url
        if target is not None:
            location += ("&" if "?" in location else "?") + f"{self.back_arg}={self._back(target)}"
        return 303, location

    def _back(self, target: str) -> str:
        """The back link for ``target``, percent-encoded as a query value; never raises.

        Backslashes count as slashes (browsers read ``/\\host`` as ``//host``) and the path gets
        exactly one leading slash, so the link never names another host. ``target`` follows the
        Cookie header's convention (a character per byte); characters above U+00FF (text, or
        surrogate escapes of bytes) are encoded as UTF-8, surrogate escapes as their bytes.
        """
        path, question, query = target.partition("?")
        path = "/" + path.replace("\\", "/").lstrip("/") + question + query
        try:
            raw = path.encode("latin-1")
        except UnicodeEncodeError:
            try:
                raw = path.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                raw = path.encode("utf-8", "surrogatepass")
        if self.public_origin:
            raw = self.public_origin.encode("ascii") + raw
        return quote(raw, safe="")

    # -- websocket origins and the transport ----------------------------------------------

    def origin_allowed(self, origin: str | None, host: str | None) -> bool:
        """Whether a websocket handshake with this ``Origin`` may go on (``allowed_origins``).

        A browser always sends ``Origin`` on a websocket handshake, and a page of another site
        cannot change it, so checking it stops cross-site websocket hijacking (a page elsewhere
        opening a websocket that the browser sends the user's cookie with). A handshake without
        ``Origin`` comes from a client that is not a browser, which has no victim's cookie to
        send but its own: it is allowed.

        * ``allowed_origins=None`` (the default): same origin only. The Origin's host and port
          must equal the ``Host`` header's, compared case-insensitively; a missing port on
          either side is the default port of the Origin's scheme (80 for ``http``, 443 for
          ``https``). The schemes are not compared (the server cannot always tell its own).
        * A list of origins: the Origin must be one of them (scheme, host and port; the same
          default ports), whatever the Host header says.
        * ``"*"``: every origin is allowed.

        Args:
            origin: the handshake's ``Origin`` header, or None when it has none.
            host: the handshake's ``Host`` header (``host[:port]``), or None.

        Returns:
            True to go on; False to refuse the handshake (reason ``ORIGIN_REFUSED``, 403).
        """
        allowed = self._origins
        if origin is None or allowed is None:
            return True
        try:
            parsed = _parse_origin(origin.strip())
            if parsed is None:
                return False
            if allowed:
                return parsed in allowed
            own = _split_host(host.strip()) if host else None
            if own is None:
                return False
            scheme, origin_host, origin_port = parsed
            own_host, own_port = own
            return origin_host == own_host and origin_port == (
                _DEFAULT_PORTS[scheme] if own_port is None else own_port
            )
        except Exception:  # noqa: BLE001 - whatever the client sent, a refusal rather than a 500
            return False

    def note_transport(self, scheme: str, host: str | None) -> None:
        """Warn once if the guard's ``Secure`` cookie is about to go out over plain HTTP.

        The adapters call this before sending a ``Set-Cookie`` the guard made (``remember``
        and the reissue). When the cookie is ``Secure``, the scheme is ``http`` or ``ws`` and
        the host is not this machine (localhost, ``*.localhost``, 127.0.0.0/8, ::1), it issues
        an ``InsecureCookieWarning`` with ``warnings.warn``, once per guard: the browser would
        keep the cookie but never send it back. Costs one flag test when the cookie is not
        ``Secure`` or the warning was given.

        Args:
            scheme: the request's scheme as the server sees it (``"http"``, ``"https"``,
                ``"ws"``, ``"wss"``).
            host: the request's ``Host`` header, or None.
        """
        if self._transport_warned or not self._secure:
            return
        if scheme.lower() not in ("http", "ws") or _is_local_host(host):
            return
        self._transport_warned = True
        warnings.warn(
            InsecureCookieWarning(
                f"the ticket cookie {self.cookie_name!r} is Secure but this request came over "
                f"{scheme.lower()}:// to {host!r}: browsers never send a Secure cookie back over plain "
                "HTTP, so every login will seem to be forgotten at once. Serve the site over HTTPS; "
                "behind a TLS-terminating proxy make the server report the original scheme "
                "(uvicorn --forwarded-allow-ips, gunicorn --forwarded-allow-ips, werkzeug "
                "ProxyFix(x_proto=1), aiohttp-remotes, Django SECURE_PROXY_SSL_HEADER); or, for "
                "local development only, pass secure=False to TicketGuard."
            ),
            stacklevel=2,
        )

    # -- checking -------------------------------------------------------------------------

    def check(
        self,
        cookie_header: str | None,
        *,
        path: str = "/",
        target: str | None = None,
        peer: str | None = None,
        forwarded: str | None = None,
        now: float | None = None,
    ) -> CheckResult:
        """Check one request; never raises for anything the client sent.

        Args:
            cookie_header: the request's ``Cookie`` header (several joined with ``"; "``), as a
                str in which each character is one byte of the header: the Latin-1 decoding of
                the bytes, as PEP 3333 and ``bytes.decode("latin-1")`` give. A header longer
                than ``max_cookie_header`` is refused unread (``OVERSIZED_COOKIE``); characters
                above U+00FF (not a byte) make the cookie malformed, never an exception.
            path: the decoded path (for ``protect``).
            target: the percent-encoded path and query, for the back link.
            peer: the address of the connection's other end.
            forwarded: the value of ``forwarded_header`` (read only from trusted proxies).
            now: the time to check against (default: the guard's clock).

        Returns:
            The decision, a ``CheckResult``.
        """
        return self._check(cookie_header, path, target, peer, forwarded, now)

    def _check(
        self,
        cookie_header: str | None,
        path: str,
        target: str | None,
        peer: str | None,
        forwarded: str | None,
        now: float | None = None,
    ) -> CheckResult:
        """``check`` with positional arguments: what the adapters call for every request."""
        core = self._core
        if core is not None:
            result = core.check_text(cookie_header, peer, forwarded, now)
        elif cookie_header:
            if len(cookie_header) > self.max_cookie_header:
                result = _OVERSIZED
            else:
                if now is None:
                    now = self._clock()
                result = _new_tuple(
                    CheckResult, (*self._identify(cookie_header, peer, forwarded, now), 0, None)
                )
        else:
            result = _ANONYMOUS
        if not self._protect:
            return result
        return self._decide(result, path, target)

    def _identify_result(
        self, cookie_header: str | None, peer: str | None, forwarded: str | None, now: float | None
    ) -> CheckResult:
        """Who the request is, before ``protect`` applies: a ``CheckResult`` with status 0.

        These are the rules; the compiled decision (``_core``, ``ticket_auth._ticketcore.GuardCore``)
        applies the same ones to the header bytes, and hands here what it does not read itself.
        """
        if not cookie_header:
            return _ANONYMOUS
        if len(cookie_header) > self.max_cookie_header:
            return _OVERSIZED
        if now is None:
            now = self._clock()
        return _new_tuple(CheckResult, (*self._identify(cookie_header, peer, forwarded, now), 0, None))

    def _decide(self, result: CheckResult, path: str, target: str | Callable[[], str] | None) -> CheckResult:
        """``result`` (status 0) once the protection of ``path`` applies: the same result, a
        refusal of an anonymous request (401 or 303), or 403 for a missing token. ``target``
        (for the back link) may be a function giving it, called only for a redirect."""
        required = self.required_tokens(path)
        if required is None:
            return result
        identity = result[0]
        if identity is None:
            status, location = self._deny(target() if callable(target) else target)
            return CheckResult(None, result[1], None, status, location)
        if required:
            tokens = identity[1]
            for token in required:
                if token not in tokens:
                    # Logged in but not allowed: 403 even with login_url (logging in again would
                    # not help, and a login page that sends the user back would loop).
                    return CheckResult(identity, MISSING_TOKEN, result[2], 403, None)
        return result

    def _client_text(self, peer: str | None, forwarded: str | None) -> str | None:
        """The client address a ticket is bound to, as text (None: unknown)."""
        if forwarded is None or not self.trusted_proxies:
            return _peer_text(peer) if peer else None  # the common case, cached
        address = self.client_address(peer, forwarded)
        return _ip_text(address) if address is not None else None

    def _identify(
        self, cookie_header: str, peer: str | None, forwarded: str | None, now: float
    ) -> tuple[Identity | None, str, str | None]:
        try:
            values = _cookie_values(cookie_header, self.cookie_name)
        except Exception:  # noqa: BLE001 - any odd header is a refusal, never a server error
            return None, MALFORMED_COOKIE, None
        if not values:
            return None, NO_COOKIE, None
        if len(values) > 1:
            return None, DUPLICATE_COOKIE, None
        value = values[0]
        if len(value) > self.max_cookie_length:
            return None, OVERSIZED_COOKIE, None
        ticket = _decode_cookie_value(value)
        if ticket is None:
            return None, MALFORMED_COOKIE, None
        client_ip = None
        if self.bind_ip:
            client_ip = self._client_text(peer, forwarded)
            if client_ip is None:
                return None, BAD_CLIENT_ADDRESS, None
        factory = self._factory  # one factory validates and reissues, even while another is assigned
        try:
            info = factory.validate(ticket, client_ip=client_ip, now=now)
        except TicketExpired:
            return None, EXPIRED, None
        except TicketDigestError:
            return None, BAD_DIGEST, None
        except TicketError:
            return None, MALFORMED_TICKET, None
        except ValueError:  # an address the format cannot bind (IPv6 with mod_auth_tkt)
            return None, BAD_CLIENT_ADDRESS, None
        except Exception:  # noqa: BLE001 - whatever the ticket is, it is a refusal, not a 500
            return None, MALFORMED_TICKET, None
        if self._authtkt:
            issued = info[4]
            if now - issued >= self.lifetime:
                return None, EXPIRED, None
        else:
            issued = info[4] - self.lifetime
        if issued - now > self.clock_skew:
            return None, FUTURE_TICKET, None
        fallback = info.fallback_secret_used
        tokens = info.tokens
        if type(tokens) is not tuple:
            tokens = tuple(tokens)
        identity = _new_tuple(Identity, (info.user_id, tokens, info.user_data, issued, fallback))
        set_cookie = None
        if (fallback and self.reissue_on_fallback) or (
            self.reissue_after is not None and now - issued >= self.reissue_after
        ):
            try:
                set_cookie = self._mint(
                    identity.user_id, identity.tokens, identity.user_data, client_ip, now, factory
                )
            except (ValueError, TypeError):
                set_cookie = None  # fields this factory cannot mint: keep the ticket as it is
        return identity, OK, set_cookie

    # -- remember and forget --------------------------------------------------------------

    def _mint(
        self,
        user_id: str,
        tokens: Iterable[str],
        user_data: str,
        client_ip: str | None,
        now: float,
        factory: Factory | None = None,
    ) -> str:
        # A reissue passes the factory that validated the ticket: a factory assigned meanwhile
        # (key rotation in another thread) does not mix into this request's answer.
        if factory is None:
            factory, authtkt = self._factory, self._authtkt
        else:
            authtkt = _factory_kind(factory)
        if authtkt:
            ticket = cast("AuthTktFactory", factory).new(
                user_id, tuple(tokens), user_data, timestamp=int(now), client_ip=client_ip
            )
        else:
            ticket = cast("TicketFactory", factory).new(
                user_id,
                tokens=tuple(tokens),
                user_data=user_data,
                valid_until=int(now) + self.lifetime,
                client_ip=client_ip,
            )
        return f"{self.cookie_name}={_encode_cookie_value(ticket)}{self._attributes}"

    def remember(
        self,
        user_id: str,
        tokens: Iterable[str] = (),
        user_data: str = "",
        *,
        peer: str | None = None,
        forwarded: str | None = None,
        now: float | None = None,
    ) -> str:
        """Log in: a ``Set-Cookie`` header value carrying a fresh ticket for ``user_id``.

        ``peer``/``forwarded`` give the client's address, needed when ``bind_ip`` is on.
        Raises ValueError for fields the ticket format cannot carry.
        """
        if isinstance(tokens, str):
            raise TypeError("tokens must be an iterable of str, not a str")
        now = self._clock() if now is None else now
        address = self.client_address(peer, forwarded) if self.bind_ip else None
        return self._mint(user_id, tokens, user_data, self._bound_ip(address), now)

    def forget(self) -> str:
        """Log out: a ``Set-Cookie`` header value that expires the cookie."""
        return f"{self.cookie_name}={self._expire_attributes}"

    def sets_own_cookie(self, set_cookie_value: str) -> bool:
        """True if a ``Set-Cookie`` value is for this guard's cookie (the application's own
        login or logout), so that the guard does not add a reissued one after it."""
        return set_cookie_value.partition("=")[0].strip() == self.cookie_name
