"""Pyramid's auth_tkt cookies, read and written by this package's codec (``pip install ticket-auth[pyramid]``).

    config.include("ticket_auth.pyramid")          # settings: ticket_auth.secret = ..., see below

or, in code::

    helper = TicketCookieHelper(secret, hashalg="sha512", timeout=1200, reissue_time=120)
    config.set_security_policy(TicketSecurityPolicy(helper, callback=groupfinder))

``TicketCookieHelper`` takes the arguments of Pyramid's ``AuthTktCookieHelper`` and reads every
cookie that helper writes with the same settings (so nobody is logged out by the switch); by
default it also writes what Pyramid's helper reads (a fleet can run both during a migration).
With ``write_form="apache"`` it writes base64 mod_auth_tkt cookies instead, which Apache reads
and Pyramid's helper does not. The guide is docs/guides/pyramid.md.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.exceptions import ConfigurationError
from pyramid.settings import asbool, aslist
from webob.cookies import make_cookie

from ._core import AuthTktFactory
from ._pyramid_format import HASHALGS, WRITE_FORMS, PyramidTickets, Reading, UserId, encode_cookie_value

__all__ = [
    "TicketCookieHelper",
    "TicketSecurityPolicy",
    "helper_from_settings",
    "includeme",
    "policy_from_settings",
]

Headers = list[tuple[str, str]]
Callback = Callable[[Any, Any], "Sequence[Any] | None"]

_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_REISSUED = "_ticket_auth_reissued"
_REVOKED = "_ticket_auth_reissue_revoked"


def _seconds(name: str, value: int | None, allow_none: bool = True, unit: str = "seconds") -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise (ValueError if isinstance(value, int) and not isinstance(value, bool) else TypeError)(
            f"{name} must be an int number of {unit} >= 0" + (" or None" if allow_none else "")
        )
    return value


def _secret_bytes(secret: object, what: str) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")  # as Pyramid encodes a str secret
    if not isinstance(secret, bytes):
        raise TypeError(f"{what} must be str or bytes")
    if not secret:
        raise ValueError(f"{what} must not be empty")
    return secret


class TicketCookieHelper:
    """Drop-in for Pyramid's ``AuthTktCookieHelper``: ``identify``, ``remember``, ``forget``.

    The first argument and the keyword arguments up to ``samesite`` are Pyramid's, with its
    defaults and meaning; the rest are this package's.

    Args:
        secret: the signing secret (``str``, encoded as UTF-8 as Pyramid does, or ``bytes``).
        cookie_name: the cookie's name.
        secure: the cookie's ``Secure`` attribute.
        include_ip: bind tickets to ``REMOTE_ADDR`` (IPv4 as mod_auth_tkt; IPv6 in Pyramid's
            own form).
        timeout: seconds after its issue a ticket is refused (None: never).
        reissue_time: age in seconds after which a valid ticket is replaced by a fresh one in
            the response (None: never; 0: on every request).
        max_age: the cookie's ``Max-Age`` (None: a session cookie).
        http_only: the cookie's ``HttpOnly`` attribute.
        path: the cookie's ``Path``.
        wild_domain: set ``Domain`` to the request's host.
        hashalg: ``"md5"``, ``"sha256"`` or ``"sha512"`` (Pyramid's default; Pyramid allows any
            hashlib name, mod_auth_tkt these three).
        parent_domain: set ``Domain`` to the host without its first label (``www.a.org`` ->
            ``a.org``); wins over ``wild_domain``.
        domain: a fixed ``Domain``; wins over both.
        samesite: ``"Lax"``, ``"Strict"``, ``"None"`` or None (no attribute).
        fallback_secrets: older secrets still accepted; a ticket they signed is reissued with
            ``secret``.
        write_form: ``"pyramid"`` (default: byte for byte what Pyramid's helper writes) or
            ``"apache"`` (base64 mod_auth_tkt cookies, which Apache reads).
        max_cookie_length: longer cookie values are refused unread.
        max_cookie_header: a longer ``Cookie`` header (all of them joined) is refused unread,
            as the guard refuses it (default 16384).
        clock_skew: tickets issued more than this many seconds in the future are refused.
        clock: the time source (``time.time``).
        factory_class: the ``AuthTktFactory`` class of the core to use (default: the active core).

    Raises:
        TypeError: an argument of the wrong type.
        ValueError: an argument out of range (the message names it, never the secret).
    """

    def __init__(
        self,
        secret: str | bytes,
        *,
        cookie_name: str = "auth_tkt",
        secure: bool = False,
        include_ip: bool = False,
        timeout: int | None = None,
        reissue_time: int | None = None,
        max_age: int | None = None,
        http_only: bool = False,
        path: str = "/",
        wild_domain: bool = True,
        hashalg: str = "sha512",
        parent_domain: bool = False,
        domain: str | None = None,
        samesite: str | None = "Lax",
        fallback_secrets: Iterable[str | bytes] = (),
        write_form: Literal["pyramid", "apache"] = "pyramid",
        max_cookie_length: int = 4096,
        max_cookie_header: int = 16384,
        clock_skew: int = 60,
        clock: Callable[[], float] = time.time,
        factory_class: type[AuthTktFactory] | None = None,
    ) -> None:
        secrets = [_secret_bytes(secret, "secret")]
        if isinstance(fallback_secrets, (str, bytes)):
            raise TypeError("fallback_secrets must be a list of secrets, not a single one")
        secrets += [_secret_bytes(old, "each fallback secret") for old in fallback_secrets]
        if not isinstance(hashalg, str) or hashalg.lower() not in HASHALGS:
            raise ValueError("hashalg must be one of 'md5', 'sha256', 'sha512'")
        hashalg = hashalg.lower()
        if not isinstance(cookie_name, str) or not cookie_name or not set(cookie_name) <= _TOKEN_CHARS:
            raise ValueError("cookie_name must be a non-empty HTTP token")
        if write_form not in WRITE_FORMS:
            raise ValueError("write_form must be 'pyramid' or 'apache'")
        if samesite is not None and samesite not in ("Lax", "Strict", "None"):
            raise ValueError("samesite must be 'Lax', 'Strict', 'None' or None")
        if samesite == "None" and not secure:
            raise ValueError("samesite 'None' needs secure=True (browsers refuse it otherwise)")
        for label, text in (("path", path), ("domain", domain or "")):
            if not isinstance(text, str) or not text.isprintable() or any(c in text for c in ";,\x00"):
                raise ValueError(f"{label} contains a character a Set-Cookie header cannot carry")
        if not path.startswith("/"):
            raise ValueError("path must start with '/'")
        for name, flag in (
            ("secure", secure),
            ("include_ip", include_ip),
            ("http_only", http_only),
            ("wild_domain", wild_domain),
            ("parent_domain", parent_domain),
        ):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be True or False")
        self.timeout = _seconds("timeout", timeout)
        self.reissue_time = _seconds("reissue_time", reissue_time)
        self.max_age = _seconds("max_age", max_age)
        length_cap = _seconds("max_cookie_length", max_cookie_length, allow_none=False, unit="bytes")
        header_cap = _seconds("max_cookie_header", max_cookie_header, allow_none=False, unit="bytes")
        skew = _seconds("clock_skew", clock_skew, allow_none=False)
        assert length_cap is not None and header_cap is not None and skew is not None
        if length_cap == 0:
            raise ValueError("max_cookie_length must be an int number of bytes > 0")
        if header_cap == 0:
            raise ValueError("max_cookie_header must be an int number of bytes > 0")
        factory = factory_class or AuthTktFactory
        self.cookie_name = cookie_name
        self.secure = secure
        self.include_ip = include_ip
        self.http_only = http_only
        self.path = path
        self.wild_domain = wild_domain
        self.parent_domain = parent_domain
        self.domain = domain or None
        self.samesite = samesite
        self.hashalg = hashalg
        self.write_form = write_form
        self.clock = clock
        self.tickets = PyramidTickets(
            factory(secrets[0], hashalg, fallback_secrets=secrets[1:], timeout=0),
            secrets,
            hashalg,
            cookie_name=cookie_name,
            include_ip=include_ip,
            timeout=self.timeout,
            reissue_time=self.reissue_time,
            write_form=write_form,
            max_cookie_length=length_cap,
            max_cookie_header=header_cap,
            clock_skew=skew,
        )

    def __repr__(self) -> str:
        return f"<TicketCookieHelper {self.hashalg} cookie={self.cookie_name!r} writes={self.write_form}>"

    # -- reading ---------------------------------------------------------------------------

    def read(self, request: Any) -> Reading:
        """The verdict on the request's cookie, with the reason (for logging or debugging).

        Args:
            request: a Pyramid (WebOb) request.

        Returns:
            A ``Reading(identity, reason, reissue)``; ``reason`` never contains the ticket.
        """
        environ = request.environ
        return self.tickets.read(environ.get("HTTP_COOKIE"), environ.get("REMOTE_ADDR"), self.clock())

    def identify(self, request: Any) -> dict[str, Any] | None:
        """The identity in the request's auth_tkt cookie, as Pyramid's helper returns it.

        A dict with ``timestamp`` (the issue time), ``userid`` (decoded by its
        ``userid_type``), ``tokens`` (a list, empty when there are none) and ``userdata``; or
        None when there is no valid cookie. Like Pyramid's helper, it sets
        ``REMOTE_USER_TOKENS``, ``REMOTE_USER_DATA`` and ``AUTH_TYPE`` in the environ, and
        schedules a reissued cookie on the response when the ticket is older than
        ``reissue_time`` (or was signed by a fallback secret).

        Args:
            request: a Pyramid (WebOb) request.

        Returns:
            The identity dict, or None.
        """
        identity, _reason, reissue = self.read(request)
        if identity is None:
            return None
        if reissue and not hasattr(request, _REISSUED):
            self._schedule_reissue(request, identity)
        environ = request.environ
        environ["REMOTE_USER_TOKENS"] = identity["tokens"]
        environ["REMOTE_USER_DATA"] = identity["userdata"]
        environ["AUTH_TYPE"] = "cookie"
        return identity

    def _schedule_reissue(self, request: Any, identity: dict[str, Any]) -> None:
        try:
            headers = self.remember(request, identity["userid"], tokens=identity["tokens"])
        except (TypeError, ValueError):
            return  # fields this form cannot mint (a foreign token): keep the ticket as it is

        def reissue(request: Any, response: Any) -> None:
            if not hasattr(request, _REVOKED):
                response.headerlist.extend(headers)

        request.add_response_callback(reissue)
        setattr(request, _REISSUED, True)

    # -- writing ---------------------------------------------------------------------------

    def _cookie_domain(self, request: Any) -> str | None:
        if self.domain:
            return self.domain
        host = request.domain
        if not isinstance(host, str) or not _HOST.fullmatch(host):
            return None  # an IPv6 literal or an odd Host header: a host-only cookie
        if self.parent_domain and host.count(".") > 1:
            return host.split(".", 1)[1]
        return host if self.wild_domain else None

    def _headers(self, request: Any, value: str | None, max_age: int | None) -> Headers:
        # WebOb writes the attributes; the value is put in here, quoted as WebOb quotes it
        # (WebOb itself warns, for every ticket with two tokens, about the comma it escapes).
        header = make_cookie(
            self.cookie_name,
            None if value is None else b"x",
            max_age=max_age,
            path=self.path,
            domain=self._cookie_domain(request),
            secure=self.secure,
            httponly=self.http_only,
            samesite=self.samesite,
        )
        if not isinstance(header, str):
            header = header.decode("latin-1")
        if value is not None:
            prefix = self.cookie_name + "=x"
            assert header.startswith(prefix)
            header = f"{self.cookie_name}={encode_cookie_value(value)}{header[len(prefix) :]}"
        return [("Set-Cookie", header)]

    def remember(
        self, request: Any, userid: UserId, max_age: int | None = None, tokens: Iterable[str] = ()
    ) -> Headers:
        """Log in: the ``Set-Cookie`` headers carrying a fresh ticket for ``userid``.

        Args:
            request: the Pyramid request (its ``REMOTE_ADDR`` with ``include_ip``, its host
                for the cookie's domain).
            userid: ``str``, ``bytes`` or ``int``; ``identify`` gives it back with that type.
            max_age: the cookie's ``Max-Age`` (default: the helper's ``max_age``).
            tokens: tokens matching ``[A-Za-z][A-Za-z0-9+_-]*``, as Pyramid requires.

        Returns:
            A list of ``("Set-Cookie", value)`` pairs.

        Raises:
            TypeError: ``userid`` of another type (Pyramid converts it to str with a warning).
            ValueError: an invalid token, or ``include_ip`` without a usable ``REMOTE_ADDR``.
        """
        max_age = self.max_age if max_age is None else _seconds("max_age", max_age)
        value = self.tickets.mint(userid, tokens, request.environ.get("REMOTE_ADDR"), self.clock())
        if hasattr(request, _REISSUED):
            setattr(request, _REVOKED, True)  # this login replaces a scheduled reissue
        return self._headers(request, value, max_age)

    def forget(self, request: Any) -> Headers:
        """Log out: ``Set-Cookie`` headers that expire the cookie (and cancel a reissue).

        Args:
            request: the Pyramid request.

        Returns:
            A list of ``("Set-Cookie", value)`` pairs.
        """
        setattr(request, _REVOKED, True)
        return self._headers(request, None, None)


class TicketSecurityPolicy:
    """A Pyramid security policy on a ``TicketCookieHelper``.

    ``permits`` applies the context's ACL (Pyramid's ``ACLHelper``) to the principals
    ``Everyone``, and for a valid ticket ``Authenticated``, the user id and what ``callback``
    returns.

    Args:
        helper: the ``TicketCookieHelper``.
        callback: optional ``callback(userid, request)``, as Pyramid's ``groupfinder``: None
            when the user no longer exists (the request is then anonymous), else a sequence of
            extra principals (groups).
    """

    def __init__(self, helper: TicketCookieHelper, *, callback: Callback | None = None) -> None:
        if not isinstance(helper, TicketCookieHelper):
            raise TypeError("helper must be a TicketCookieHelper")
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable(userid, request) or None")
        self.helper = helper
        self.callback = callback
        self.acl = ACLHelper()

    def identity(self, request: Any) -> dict[str, Any] | None:
        """The ticket's identity (``helper.identify``) plus ``groups`` (the callback's
        principals, or ``[]``); None for an anonymous request or a user the callback refused.

        Args:
            request: the Pyramid request.

        Returns:
            The identity dict, or None.
        """
        identity = self.helper.identify(request)
        if identity is None:
            return None
        groups: Sequence[Any] = ()
        if self.callback is not None:
            found = self.callback(identity["userid"], request)
            if found is None:
                return None
            groups = found
        identity["groups"] = list(groups)
        return identity

    def authenticated_userid(self, request: Any) -> Any:
        """The user id of ``request.identity``, or None.

        Args:
            request: the Pyramid request.

        Returns:
            The user id, or None.
        """
        identity = request.identity
        return None if identity is None else identity["userid"]

    def principals(self, request: Any) -> list[Any]:
        """The principals ``permits`` checks the ACL with.

        Args:
            request: the Pyramid request.

        Returns:
            ``[Everyone]``, or ``[Everyone, Authenticated, userid, *groups]``.
        """
        identity = request.identity
        if identity is None:
            return [Everyone]
        return [Everyone, Authenticated, identity["userid"], *identity["groups"]]

    def permits(self, request: Any, context: Any, permission: str) -> Any:
        """Whether the context's ACL grants ``permission`` to the request's principals.

        Args:
            request: the Pyramid request.
            context: the context (its ``__acl__``, or its parents').
            permission: the permission asked for.

        Returns:
            Pyramid's ``ACLAllowed`` or ``ACLDenied`` (truthy when allowed).
        """
        return self.acl.permits(context, self.principals(request), permission)

    def remember(self, request: Any, userid: UserId, **kw: Any) -> Headers:
        """Log in (``helper.remember``; keywords ``max_age`` and ``tokens``).

        Args:
            request: the Pyramid request.
            userid: ``str``, ``bytes`` or ``int``.
            **kw: ``max_age``, ``tokens``.

        Returns:
            The ``Set-Cookie`` headers.
        """
        return self.helper.remember(request, userid, **kw)

    def forget(self, request: Any, **kw: Any) -> Headers:
        """Log out (``helper.forget``).

        Args:
            request: the Pyramid request.
            **kw: ignored (the security policy interface allows keywords).

        Returns:
            The ``Set-Cookie`` headers.
        """
        return self.helper.forget(request)


# -- configuration from settings ---------------------------------------------------------

_BOOL_SETTINGS = ("secure", "include_ip", "http_only", "wild_domain", "parent_domain")
_INT_SETTINGS = ("timeout", "reissue_time", "max_age", "max_cookie_length", "max_cookie_header", "clock_skew")
_STR_SETTINGS = ("cookie_name", "path", "domain", "hashalg", "write_form")
KNOWN_SETTINGS = frozenset(
    ("secret", "fallback_secrets", "samesite", "callback", *_BOOL_SETTINGS, *_INT_SETTINGS, *_STR_SETTINGS)
)


def helper_from_settings(settings: Mapping[str, Any], prefix: str = "ticket_auth.") -> TicketCookieHelper:
    """A ``TicketCookieHelper`` from Pyramid settings (``prefix`` + the helper's argument names).

    ``secret`` is required; ``fallback_secrets`` holds one secret per line; booleans are read
    with ``pyramid.settings.asbool``; ``timeout``, ``reissue_time`` and ``max_age`` are ints or
    empty (None); ``samesite`` empty means no attribute. An unknown ``ticket_auth.*`` setting
    is an error (a typo would otherwise be a silent default).

    Args:
        settings: the application's settings.
        prefix: the settings' prefix.

    Returns:
        The helper.

    Raises:
        ConfigurationError: a missing, unknown or invalid setting (the message names the
            setting, never the secret).
    """
    options: dict[str, Any] = {}
    for key in settings:
        if isinstance(key, str) and key.startswith(prefix) and key[len(prefix) :] not in KNOWN_SETTINGS:
            known = ", ".join(sorted(prefix + name for name in KNOWN_SETTINGS))
            raise ConfigurationError(f"unknown setting {key!r}; the settings are {known}")
    secret = settings.get(prefix + "secret")
    if not isinstance(secret, (str, bytes)) or not secret.strip():
        raise ConfigurationError(f"{prefix}secret is required: a long random string")
    fallback = settings.get(prefix + "fallback_secrets")
    if fallback:
        options["fallback_secrets"] = (
            fallback if isinstance(fallback, (list, tuple)) else aslist(fallback, False)
        )
    for name in _BOOL_SETTINGS:
        if prefix + name in settings:
            options[name] = asbool(settings[prefix + name])
    for name in _INT_SETTINGS:
        value = settings.get(prefix + name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        try:
            options[name] = int(value)
        except (TypeError, ValueError):
            raise ConfigurationError(
                f"{prefix}{name} must be a whole number of seconds, not {value!r}"
            ) from None
    for name in _STR_SETTINGS:
        value = settings.get(prefix + name)
        if value is not None:
            if not isinstance(value, str):
                raise ConfigurationError(f"{prefix}{name} must be a string")
            options[name] = value.strip()
    if prefix + "samesite" in settings:
        samesite = settings[prefix + "samesite"]
        options["samesite"] = samesite.strip() or None if isinstance(samesite, str) else samesite
    try:
        return TicketCookieHelper(secret.strip(), **options)
    except (TypeError, ValueError) as exc:  # the messages name arguments, never the secret
        raise ConfigurationError(f"ticket_auth settings ({prefix}*): {exc}") from None


def policy_from_settings(
    settings: Mapping[str, Any], prefix: str = "ticket_auth.", callback: Callback | None = None
) -> TicketSecurityPolicy:
    """A ``TicketSecurityPolicy`` from Pyramid settings (see ``helper_from_settings``).

    Args:
        settings: the application's settings.
        prefix: the settings' prefix.
        callback: the groupfinder (else none).

    Returns:
        The policy.

    Raises:
        ConfigurationError: a missing, unknown or invalid setting.
    """
    return TicketSecurityPolicy(helper_from_settings(settings, prefix), callback=callback)


def includeme(config: Any) -> None:
    """``config.include("ticket_auth.pyramid")``: set the security policy from the settings.

    ``ticket_auth.callback``, if set, is a dotted name of the groupfinder
    (``callback(userid, request)``).

    Args:
        config: the Pyramid ``Configurator``.

    Raises:
        ConfigurationError: a missing, unknown or invalid setting.
    """
    settings = config.get_settings()
    callback = settings.get("ticket_auth.callback")
    if callback is not None:
        try:
            callback = config.maybe_dotted(callback)
        except ImportError as exc:
            raise ConfigurationError(f"ticket_auth.callback: cannot import {callback!r}") from exc
    config.set_security_policy(policy_from_settings(settings, callback=callback))
