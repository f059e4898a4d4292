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

Choices the policy makes (all documented in the README):

* **Factory.** A ``TicketFactory`` (0.1.4-format tickets, as ticket_auth 0.1.4 and
  aiohttp_auth mint them) or an ``AuthTktFactory`` (Apache mod_auth_tkt tickets, always
  written base64, so an Apache site with the same secret shares the login).
* **Age.** An AuthTkt ticket carries its issue time; a 0.1.4-format ticket carries only its
  expiry, so its issue time is taken as ``valid_until - lifetime``. A ticket is reissued (a
  fresh ticket with the same fields) once its age reaches ``reissue_after`` (default: half the
  lifetime, like mod_auth_tkt's ``TKTAuthTimeoutRefresh 0.5``), and whenever it was accepted
  by a fallback secret (key rotation without logging anyone out). An AuthTkt ticket older
  than ``lifetime`` is refused even if the factory's own ``timeout`` is longer or disabled.
* **Cookie header.** Read only from the ``Cookie`` header(s), split strictly on ``;``. More
  than one cookie of the guard's name is refused as a whole (reason ``"duplicate cookie"``):
  a cookie planted for a parent domain cannot win over the user's own. Values longer than
  ``max_cookie_length`` are refused before any decoding. A value is either bare cookie
  characters or a double-quoted string with ``\\ooo`` octal escapes (what Python's
  ``http.cookies`` and so aiohttp write for a ticket containing a comma).
* **Client address.** Only with ``bind_ip=True`` is a ticket bound to the client's address.
  An IPv4-mapped IPv6 address (``::ffff:a.b.c.d``) is the IPv4 address, when minting and
  when checking. A forwarded header (default ``X-Forwarded-For``) is read only when the
  peer is in ``trusted_proxies``; the client is then the rightmost address of that header
  that is not itself a trusted proxy.
* **Protected paths.** ``protect`` maps path prefixes to the tokens they require (the
  longest matching prefix applies; a prefix matches whole path segments). Elsewhere a request
  without a valid ticket passes through anonymous. On a protected path it gets a 401 (a 403
  when the ticket lacks a token), or, with ``login_url``, a 303 redirect to the login URL
  with the original URL URL-encoded in the ``back`` argument (as mod_auth_tkt's
  ``TKTAuthLoginURL`` does). The back link is the request's path and query, prefixed with
  ``public_origin`` when one is configured; it is never built from the request's Host header.
* **Cookie attributes.** ``Path=/``, ``HttpOnly``, ``SameSite=Lax`` and ``Secure`` unless
  ``secure=False``; optional ``Domain`` and ``Max-Age`` (a session cookie by default).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast
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


def _is_authtkt(factory: object) -> bool:
    return type(factory).__name__ == "AuthTktFactory"


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


def _decode_cookie_value(value: str) -> str | None:
    """The ticket in a cookie value (bare, or quoted with octal escapes), or None if malformed."""
    if not value.startswith('"'):
        return value if _is_bare_value(value) else None
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


# What a request without a cookie gets where no path is protected (a NamedTuple: immutable).
_ANONYMOUS = CheckResult(None, NO_COOKIE)


class TicketGuard:
    """The policy: which tickets a request may carry, and what the response then gets.

    Parameters (keyword-only after ``factory``):

    * ``factory``: a ``TicketFactory`` or an ``AuthTktFactory`` (with any fallback secrets).
    * ``cookie_name``: default ``"auth_tkt"`` (aiohttp_auth uses ``"AUTH_TKT"``).
    * ``lifetime``: seconds a ticket is valid (default 7200, mod_auth_tkt's default).
    * ``reissue_after``: age in seconds after which a valid ticket is reissued (default
      half the lifetime; None never reissues for age).
    * ``reissue_on_fallback``: reissue a ticket accepted by a fallback secret (default True).
    * ``bind_ip``: bind tickets to the client's address (default False).
    * ``trusted_proxies``: addresses or networks whose forwarded header is believed.
    * ``forwarded_header``: the header naming the client behind a proxy (``X-Forwarded-For``).
    * ``protect``: path prefix -> tokens required there (all of them).
    * ``login_url``: where a refused request on a protected path is redirected (303), with
      the original URL in ``back_arg``; without it such a request gets a 401 (403 for a
      missing token).
    * ``public_origin``: e.g. ``"https://app.example.com"``, put before the path in the back
      link; without it the back link is the path and query alone.
    * ``secure``, ``httponly``, ``samesite``, ``path``, ``domain``, ``max_age``: the cookie's
      attributes (defaults: Secure, HttpOnly, SameSite=Lax, Path=/, no Domain, no Max-Age).
    * ``max_cookie_length``: longer cookie values are refused unread (default 4096).
    * ``max_cookie_header``: a longer ``Cookie`` header (all of them joined) is refused
      unread (default 16384).
    * ``allowed_origins``: for websocket handshakes (``origin_allowed``): None (same origin
      only, the default), a list of origins, or ``"*"`` (no check).
    * ``clock``: the time source (``time.time``), for tests.
    """

    __slots__ = (
        "_attributes",
        "_authtkt",
        "_clock",
        "_expire_attributes",
        "_factory",
        "_origins",
        "_protect",
        "_secure",
        "_transport_warned",
        "back_arg",
        "bind_ip",
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
        samesite: Literal["Lax", "Strict", "None"] | None = "Lax",
        path: str = "/",
        domain: str | None = None,
        max_age: int | None = None,
        max_cookie_length: int = 4096,
        max_cookie_header: int = 16384,
        allowed_origins: str | Iterable[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not cookie_name or not set(cookie_name) <= _TOKEN_CHARS:
            raise ValueError("cookie_name must be a non-empty HTTP token")
        if lifetime <= 0:
            raise ValueError("lifetime must be a positive number of seconds")
        if reissue_after == "half":
            reissue_after = lifetime // 2
        if reissue_after is not None and reissue_after < 0:
            raise ValueError("reissue_after must be None or a number of seconds >= 0")
        if samesite == "None" and not secure:
            raise ValueError("SameSite=None needs Secure (browsers refuse it otherwise)")
        if samesite not in (None, "Lax", "Strict", "None"):
            raise ValueError("samesite must be 'Lax', 'Strict', 'None' or None")
        for label, value in (("path", path), ("domain", domain or "")):
            if any(c in value for c in ";,\r\n\x00") or not value.isprintable():
                raise ValueError(f"the cookie {label} contains a character a Set-Cookie cannot carry")
        if public_origin is not None and (not public_origin.startswith(("http://", "https://"))):
            raise ValueError("public_origin must be an absolute http:// or https:// origin")
        self.factory = factory
        self.cookie_name = cookie_name
        self.lifetime = int(lifetime)
        self.reissue_after = reissue_after
        self.reissue_on_fallback = reissue_on_fallback
        self.bind_ip = bind_ip
        self.trusted_proxies = tuple(ipaddress.ip_network(net, strict=False) for net in trusted_proxies)
        self.forwarded_header = forwarded_header
        self._protect = sorted(
            ((prefix, tuple(tokens)) for prefix, tokens in (protect or {}).items()),
            key=lambda item: len(item[0]),
            reverse=True,
        )
        self.login_url = login_url
        self.back_arg = back_arg
        self.public_origin = public_origin.rstrip("/") if public_origin else None
        self.max_cookie_length = max_cookie_length
        if type(max_cookie_header) is not int or max_cookie_header <= 0:
            raise TypeError(f"max_cookie_header must be an int > 0 (characters), not {max_cookie_header!r}")
        self.max_cookie_header = max_cookie_header
        self._origins = _check_allowed_origins(allowed_origins)
        self._secure = bool(secure)
        self._transport_warned = False
        self._clock = clock
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
        max_age_part = [f"Max-Age={int(max_age)}"] if max_age is not None else []
        self._attributes = "; ".join(["", *attributes, *max_age_part, *tail])
        self._expire_attributes = "; ".join(["", *attributes, "Max-Age=0", f"Expires={_EXPIRED_DATE}", *tail])

    @property
    def factory(self) -> Factory:
        """The factory that checks and mints tickets; assign a new one to rotate secrets."""
        return self._factory

    @factory.setter
    def factory(self, factory: Factory) -> None:
        self._factory = factory
        self._authtkt = _is_authtkt(factory)

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
        """The tokens ``path`` requires, or None when it is not protected."""
        for prefix, tokens in self._protect:
            if path == prefix or (
                path.startswith(prefix) and (prefix.endswith("/") or path[len(prefix)] == "/")
            ):
                return tokens
        return None

    def _deny(self, status: int, target: str | None) -> tuple[int, str | None]:
        if self.login_url is None:
            return status, None
        location = self.login_url
        if target is not None:
            # One leading slash: "//host/..." would read as another site's URL.
            back = (self.public_origin or "") + "/" + target.lstrip("/")
            location += ("&" if "?" in location else "?") + f"{self.back_arg}={quote(back, safe='')}"
        return 303, location

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
        if cookie_header:
            if len(cookie_header) > self.max_cookie_header:
                identity, reason, set_cookie = None, OVERSIZED_COOKIE, None
            else:
                if now is None:
                    now = self._clock()
                identity, reason, set_cookie = self._identify(cookie_header, peer, forwarded, now)
        elif not self._protect:
            return _ANONYMOUS  # no cookie, nothing protected: the same (immutable) answer
        else:
            identity, reason, set_cookie = None, NO_COOKIE, None
        required = self.required_tokens(path) if self._protect else None
        if required is None:
            return _new_tuple(CheckResult, (identity, reason, set_cookie, 0, None))
        if identity is None:
            status, location = self._deny(401, target)
            return CheckResult(None, reason, None, status, location)
        if not set(required) <= set(identity.tokens):
            status, location = self._deny(403, target)
            return CheckResult(identity, MISSING_TOKEN, set_cookie, status, location)
        return CheckResult(identity, reason, set_cookie)

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
            if forwarded is None or not self.trusted_proxies:
                client_ip = _peer_text(peer) if peer else None  # the common case, cached
            else:
                address = self.client_address(peer, forwarded)
                client_ip = _ip_text(address) if address is not None else None
            if client_ip is None:
                return None, BAD_CLIENT_ADDRESS, None
        try:
            info = self._factory.validate(ticket, client_ip=client_ip, now=now)
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
                set_cookie = self._mint(identity.user_id, identity.tokens, identity.user_data, client_ip, now)
            except (ValueError, TypeError):
                set_cookie = None  # fields this factory cannot mint: keep the ticket as it is
        return identity, OK, set_cookie

    # -- remember and forget --------------------------------------------------------------

    def _mint(
        self, user_id: str, tokens: Iterable[str], user_data: str, client_ip: str | None, now: float
    ) -> str:
        if self._authtkt:
            authtkt = cast("AuthTktFactory", self.factory)
            ticket = authtkt.new(user_id, tuple(tokens), user_data, timestamp=int(now), client_ip=client_ip)
        else:
            ticket = cast("TicketFactory", self.factory).new(
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
