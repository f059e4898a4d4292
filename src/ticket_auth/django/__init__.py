"""Django integration: a middleware, an authentication backend, and login/logout helpers.

    # settings.py
    MIDDLEWARE = [
        ...,
        "django.contrib.sessions.middleware.SessionMiddleware",       # optional
        "django.contrib.auth.middleware.AuthenticationMiddleware",    # optional, before ours
        "ticket_auth.django.TicketAuthMiddleware",
        ...,
    ]
    AUTHENTICATION_BACKENDS = [
        "ticket_auth.django.backends.TicketBackend",
        "django.contrib.auth.backends.ModelBackend",       # password logins (the login view)
    ]
    TICKET_AUTH = {"SECRET": os.environ["TICKET_AUTH_SECRET"], "LIFETIME": 3600}

    # views.py
    from ticket_auth.django import login, logout

    def login_view(request):
        user = authenticate(request, username=..., password=...)
        response = redirect("/")
        login(request, response, user, tokens=("editor",))
        return response

The middleware runs the framework-neutral policy (``ticket_auth.guard.TicketGuard``) on every
request, under WSGI and ASGI alike (it reads the request, never ``REMOTE_USER``), matching
``protect`` prefixes against ``request.path_info``. A valid ticket makes ``request.user`` the
user its backend finds (looked up lazily, on first use); ``request.ticket_identity`` is the
ticket's ``Identity`` (user id, tokens, user data) or None. A reissued ticket is added to the
response. Django's ``login_required``, ``permission_required`` and ``user_passes_test`` work
on top; ``TOKEN_PERMISSIONS`` maps ticket tokens to Django permissions.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from http.cookies import Morsel
from typing import TYPE_CHECKING, Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django import conf as django_conf  # not `settings` itself: a lazy object autodoc would evaluate
from django.contrib import auth
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.middleware.csrf import rotate_token
from django.utils.functional import SimpleLazyObject

from ..guard import _TOKEN_CHARS, CheckResult, Identity, TicketGuard
from ..mod_auth_tkt import AuthTktFactory
from ..ticket_factory import TicketFactory

if TYPE_CHECKING:
    from .backends import TicketBackend

__all__ = [
    "SETTING",
    "TicketAuthMiddleware",
    "alogin",
    "alogout",
    "guard_from_settings",
    "login",
    "logout",
    "token_permissions",
]

#: The name of the Django setting read by ``guard_from_settings`` (a dict; see the Django guide).
SETTING = "TICKET_AUTH"
_GUARD_ATTRIBUTE = "_ticket_auth_guard"
_USER_ATTRIBUTE = "_ticket_auth_user"
_AUTHENTICATION_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
_NO_MIDDLEWARE = (
    "no TicketGuard on this request: add 'ticket_auth.django.TicketAuthMiddleware' to MIDDLEWARE "
    "(after 'django.contrib.auth.middleware.AuthenticationMiddleware' if you use it)"
)
_BODIES = {401: b"Unauthorized\n", 403: b"Forbidden\n", 303: b""}

# Every key TICKET_AUTH may hold, and what it sets (the guard's parameter of the same name
# in lower case, unless noted).
_KEYS = (
    "SECRET",  # required: str (UTF-8 encoded) or bytes
    "FALLBACK_SECRETS",  # old secrets still accepted (the ticket is then reissued)
    "FORMAT",  # "ticket" (TicketFactory, the default) or "authtkt" (AuthTktFactory)
    "HASHALG",  # "ticket": default "sha512"; "authtkt": required ("md5", "sha256", "sha512")
    "COOKIE_NAME",
    "LIFETIME",
    "REISSUE_AFTER",
    "SECURE",
    "HTTPONLY",
    "SAMESITE",
    "DOMAIN",
    "MAX_AGE",
    "BIND_IP",
    "TRUSTED_PROXIES",
    "FORWARDED_HEADER",
    "PROTECT",
    "LOGIN_URL",
    "BACK_ARG",
    "PUBLIC_ORIGIN",
    "MAX_COOKIE_LENGTH",
    "MAX_COOKIE_HEADER",  # a longer Cookie header (all cookies) is refused unread
    "TOKEN_PERMISSIONS",  # token -> Django permissions ("app_label.codename") it grants
)


def _fail(key: str, what: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{SETTING}[{key!r}] {what}")


def _secret(key: str, value: object) -> bytes:
    """A secret as bytes; the message never shows the value."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes):
        raise _fail(key, f"must be a str or bytes, not {type(value).__name__}")
    if not value:
        raise _fail(key, "must not be empty: use a long random value, e.g. from secrets.token_urlsafe(32)")
    return value


def _int(config: Mapping[str, Any], key: str, default: int | None, minimum: int, what: str) -> int | None:
    value = config.get(key, default)
    if value is None:
        if default is None:
            return None
        raise _fail(key, f"must be {what}, not None")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(key, f"must be {what} (an int), not {type(value).__name__}")
    if value < minimum:
        raise _fail(key, f"must be {what}, not {value}")
    return value


def _bool(config: Mapping[str, Any], key: str, default: bool) -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise _fail(key, f"must be True or False, not {type(value).__name__}")
    return value


def _str(config: Mapping[str, Any], key: str, default: str | None, what: str) -> str | None:
    value = config.get(key, default)
    if value is None and default is None:
        return None
    if not isinstance(value, str) or not value:
        raise _fail(
            key, f"must be {what}, not {type(value).__name__ if not isinstance(value, str) else 'empty'}"
        )
    return value


def _strings(key: str, value: object, what: str) -> tuple[str, ...]:
    """A list or tuple of non-empty str (a bare str is refused: it is not a list of them)."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) and item for item in value):
        raise _fail(key, f"must be a list of {what}, not {type(value).__name__}")
    return tuple(value)


def _protect(config: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    value = config.get("PROTECT", {})
    if not isinstance(value, Mapping):
        raise _fail("PROTECT", f"must be a dict of path prefix -> list of tokens, not {type(value).__name__}")
    protect = {}
    for prefix, tokens in value.items():
        if not isinstance(prefix, str) or not prefix.startswith("/"):
            raise _fail("PROTECT", "keys must be path prefixes starting with '/' (as request.path_info)")
        protect[prefix] = _strings("PROTECT", tokens, f"tokens (for {prefix!r}; [] for any valid ticket)")
    return protect


def token_permissions(config: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """The ``TOKEN_PERMISSIONS`` of a ``TICKET_AUTH`` dict, checked.

    Args:
        config: the ``TICKET_AUTH`` dict.

    Returns:
        token -> the Django permissions (``"app_label.codename"``) a ticket with it grants.

    Raises:
        ImproperlyConfigured: the value is not a dict of token -> list of permission names.
    """
    value = config.get("TOKEN_PERMISSIONS", {})
    if not isinstance(value, Mapping):
        raise _fail(
            "TOKEN_PERMISSIONS",
            f"must be a dict of token -> list of 'app_label.codename', not {type(value).__name__}",
        )
    mapping = {}
    for token, perms in value.items():
        if not isinstance(token, str) or not token:
            raise _fail("TOKEN_PERMISSIONS", "keys must be tokens (non-empty str)")
        names = _strings("TOKEN_PERMISSIONS", perms, f"permission names 'app_label.codename' (for {token!r})")
        for name in names:
            app_label, dot, codename = name.partition(".")
            if not (dot and app_label and codename):
                raise _fail("TOKEN_PERMISSIONS", f"{name!r} (for {token!r}) is not 'app_label.codename'")
        mapping[token] = frozenset(names)
    return mapping


def guard_from_settings(config: Mapping[str, Any] | None = None) -> TicketGuard:
    """The ``TicketGuard`` a ``TICKET_AUTH`` dict describes, every key checked.

    Args:
        config: the settings dict; by default ``settings.TICKET_AUTH``.

    Returns:
        A configured guard (with its ``TicketFactory`` or ``AuthTktFactory``).

    Raises:
        ImproperlyConfigured: a key is unknown, missing or has a wrong value; the message
            names the key and what to put there (never the secret).
    """
    if config is None:
        config = getattr(django_conf.settings, SETTING, None)
        if config is None:
            raise ImproperlyConfigured(
                f"settings.{SETTING} is missing: set it to a dict with at least 'SECRET' "
                "(see ticket_auth.django)"
            )
    if not isinstance(config, Mapping):
        raise ImproperlyConfigured(f"settings.{SETTING} must be a dict, not {type(config).__name__}")
    unknown = sorted(str(key) for key in config if key not in _KEYS)
    if unknown:
        raise ImproperlyConfigured(
            f"{SETTING} has unknown key(s) {', '.join(map(repr, unknown))}; the keys are {', '.join(_KEYS)}"
        )
    if "SECRET" not in config:
        raise _fail(
            "SECRET", "is required: a long random str or bytes, the same wherever tickets are checked"
        )
    secret = _secret("SECRET", config["SECRET"])
    fallback = config.get("FALLBACK_SECRETS", ())
    if not isinstance(fallback, (list, tuple)):
        raise _fail("FALLBACK_SECRETS", f"must be a list of str or bytes, not {type(fallback).__name__}")
    fallback_secrets = [_secret("FALLBACK_SECRETS", item) for item in fallback]

    kind = config.get("FORMAT", "ticket")
    if kind not in ("ticket", "authtkt"):
        raise _fail("FORMAT", "must be 'ticket' (0.1.4 format, TicketFactory) or 'authtkt' (mod_auth_tkt)")
    lifetime = _int(config, "LIFETIME", 7200, 1, "a positive number of seconds")
    assert lifetime is not None
    hashalg = config.get("HASHALG", "sha512" if kind == "ticket" else None)
    if not isinstance(hashalg, str):
        if kind == "authtkt" and hashalg is None:
            raise _fail(
                "HASHALG", "is required with FORMAT 'authtkt': 'sha256' or 'sha512' (as TKTAuthDigestType)"
            )
        raise _fail("HASHALG", f"must be a hash name such as 'sha512', not {type(hashalg).__name__}")
    factory: TicketFactory | AuthTktFactory
    try:
        if kind == "ticket":
            factory = TicketFactory(secret, hashalg, fallback_secrets=fallback_secrets)
        else:
            factory = AuthTktFactory(secret, hashalg, fallback_secrets=fallback_secrets, timeout=lifetime)
    except (TypeError, ValueError):
        raise _fail("HASHALG", f"{hashalg!r} is not a hash this format can use (e.g. 'sha512')") from None

    cookie_name = _str(config, "COOKIE_NAME", "auth_tkt", "a cookie name (an HTTP token)")
    assert cookie_name is not None
    if not set(cookie_name) <= _TOKEN_CHARS:
        raise _fail("COOKIE_NAME", "must be a cookie name: letters, digits and !#$%&'*+-.^_`|~ only")
    reissue: int | str | None = "half"
    if "REISSUE_AFTER" in config:
        reissue = _int(config, "REISSUE_AFTER", None, 0, "None or a number of seconds >= 0")
    samesite = config.get("SAMESITE", "Lax")
    if samesite not in ("Lax", "Strict", "None", None):
        raise _fail("SAMESITE", "must be 'Lax', 'Strict', 'None' or None")
    secure = _bool(config, "SECURE", True)
    if samesite == "None" and not secure:
        raise _fail("SAMESITE", "'None' needs SECURE True (browsers refuse it otherwise)")
    domain = _str(config, "DOMAIN", None, "a domain (str) or None")
    if domain is not None and (any(c in domain for c in ";,\r\n\x00 ") or not domain.isprintable()):
        raise _fail("DOMAIN", "contains a character a Set-Cookie cannot carry")
    trusted = _strings("TRUSTED_PROXIES", config.get("TRUSTED_PROXIES", []), "addresses or networks")
    for net in trusted:
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            raise _fail("TRUSTED_PROXIES", f"{net!r} is not an IP address or network") from None
    forwarded_header = _str(config, "FORWARDED_HEADER", "X-Forwarded-For", "a header name")
    assert forwarded_header is not None
    if not set(forwarded_header) <= _TOKEN_CHARS:
        raise _fail("FORWARDED_HEADER", "must be a header name (an HTTP token)")
    login_url = _str(config, "LOGIN_URL", None, "a URL path or absolute URL, or None")
    if login_url is not None and (
        not login_url.startswith(("/", "http://", "https://"))
        or login_url.startswith("//")
        or any(c in login_url for c in "\r\n\x00")
    ):
        raise _fail("LOGIN_URL", "must be a path starting with '/' or an http(s):// URL")
    public_origin = _str(
        config, "PUBLIC_ORIGIN", None, "an origin such as 'https://app.example.com', or None"
    )
    if public_origin is not None and not public_origin.startswith(("http://", "https://")):
        raise _fail("PUBLIC_ORIGIN", "must start with 'http://' or 'https://'")
    back_arg = _str(config, "BACK_ARG", "back", "a query argument name")
    assert back_arg is not None
    token_permissions(config)  # checked here, read by TicketBackend
    return TicketGuard(
        factory,
        cookie_name=cookie_name,
        lifetime=lifetime,
        reissue_after=reissue,  # type: ignore[arg-type]  # "half" or an int or None
        bind_ip=_bool(config, "BIND_IP", False),
        trusted_proxies=trusted,
        forwarded_header=forwarded_header,
        protect=_protect(config),
        login_url=login_url,
        back_arg=back_arg,
        public_origin=public_origin,
        secure=secure,
        httponly=_bool(config, "HTTPONLY", True),
        samesite=samesite,
        path="/",
        domain=domain,
        max_age=_int(config, "MAX_AGE", None, 0, "None or a number of seconds >= 0"),
        max_cookie_length=_int(config, "MAX_COOKIE_LENGTH", 4096, 64, "a length >= 64") or 4096,
        max_cookie_header=_int(config, "MAX_COOKIE_HEADER", 16384, 64, "a length >= 64") or 16384,
    )


def _ticket_backend() -> tuple[TicketBackend, str]:
    """The first ``TicketBackend`` in AUTHENTICATION_BACKENDS, and its path."""
    from .backends import TicketBackend

    for path in django_conf.settings.AUTHENTICATION_BACKENDS:
        backend = auth.load_backend(path)
        if isinstance(backend, TicketBackend):
            return backend, path
    raise ImproperlyConfigured(
        "TicketAuthMiddleware needs 'ticket_auth.django.backends.TicketBackend' (or a subclass) in "
        "AUTHENTICATION_BACKENDS"
    )


def _check_order(middleware: type) -> None:
    """AuthenticationMiddleware, when used, must run first: it would replace request.user."""
    names = list(django_conf.settings.MIDDLEWARE)
    own = f"{middleware.__module__}.{middleware.__qualname__}"
    if own in names and _AUTHENTICATION_MIDDLEWARE in names:
        if names.index(_AUTHENTICATION_MIDDLEWARE) > names.index(own):
            raise ImproperlyConfigured(
                f"MIDDLEWARE: put '{own}' after '{_AUTHENTICATION_MIDDLEWARE}' (which would "
                "otherwise replace the user the ticket gives)"
            )


# -- the middleware --------------------------------------------------------------------------


def _peer(request: Any) -> str | None:
    peer = request.META.get("REMOTE_ADDR")
    return peer if isinstance(peer, str) and peer else None


def _forwarded(request: Any, guard: TicketGuard) -> str | None:
    if not guard.trusted_proxies:
        return None
    value = request.META.get("HTTP_" + guard.forwarded_header.upper().replace("-", "_"))
    return value if isinstance(value, str) else None


def _cookie_header(request: Any) -> str | None:
    """The Cookie header(s). Under ASGI, Django joins repeated headers with ',' (HTTP/2 sends
    one Cookie header per cookie): read them from the scope and join them with '; '."""
    scope = getattr(request, "scope", None)
    if isinstance(scope, Mapping):
        cookies = [value.decode("latin-1") for name, value in scope.get("headers", ()) if name == b"cookie"]
        return "; ".join(cookies) if cookies else None
    value = request.META.get("HTTP_COOKIE")
    return value if isinstance(value, str) else None


class _RawMorsel(Morsel[str]):
    """A cookie whose Set-Cookie text is exactly the guard's (``remember``/``forget``)."""

    def __init__(self, name: str, set_cookie: str) -> None:
        super().__init__()
        coded = set_cookie.split(";", 1)[0].partition("=")[2]
        self.set(name, coded, coded)
        self._set_cookie = set_cookie
        if "Max-Age=0" in set_cookie:
            self["max-age"] = 0

    def OutputString(self, attrs: Any = None) -> str:  # noqa: N802 - Morsel's name
        set_cookie: str | None = getattr(self, "_set_cookie", None)  # None in a copy: Morsel's own text
        return set_cookie if set_cookie is not None else super().OutputString(attrs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key}=...>"  # never the ticket


def _set_cookie(request: Any, response: Any, guard: TicketGuard, set_cookie: str) -> None:
    """Put the guard's Set-Cookie on the response (warning once if a Secure cookie is about to
    go out over plain HTTP: ``TicketGuard.note_transport``)."""
    host = request.META.get("HTTP_HOST")
    guard.note_transport(request.scheme, host if isinstance(host, str) else None)
    response.cookies[guard.cookie_name] = _RawMorsel(guard.cookie_name, set_cookie)


def _refusal(result: CheckResult) -> HttpResponse:
    response = HttpResponse(_BODIES.get(result.status, b""), status=result.status, content_type="text/plain")
    response["Cache-Control"] = "no-store"
    if result.location is not None:
        response["Location"] = result.location
    return response


class TicketAuthMiddleware:
    """Django middleware: the ticket guard on every request (sync and async).

    Configured from ``settings.TICKET_AUTH`` when Django loads its middleware (so a bad
    setting stops the server at startup with ``ImproperlyConfigured``). Put it after
    ``AuthenticationMiddleware`` when you use that one, or use it without
    ``SessionMiddleware``/``AuthenticationMiddleware`` for a site with no session login.

    For each request: ``request.ticket_auth`` is the guard's ``CheckResult`` and
    ``request.ticket_identity`` its identity (or None). With a valid ticket,
    ``request.user`` (and ``request.auser()``) is the user ``TicketBackend`` authenticates,
    looked up on first use, or ``AnonymousUser`` when the backend refuses it (unknown with
    ``create_unknown_user`` False, or inactive). Without one, ``request.user`` is left as
    ``AuthenticationMiddleware`` set it (a session login), or is ``AnonymousUser``. A request
    the guard refuses (a ``PROTECT`` prefix) gets 401, 403 or a 303 to ``LOGIN_URL``. A
    reissued ticket is set on the response unless the view set the cookie itself (``login``,
    ``logout``).

    Args:
        get_response: the next handler (Django passes it).

    Raises:
        ImproperlyConfigured: a bad ``TICKET_AUTH``, no ``TicketBackend`` in
            ``AUTHENTICATION_BACKENDS``, or ``AuthenticationMiddleware`` after this one.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self.guard = guard_from_settings()
        self.backend, self.backend_path = _ticket_backend()
        _check_order(type(self))
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.guard!r}>"

    def _check(self, request: Any) -> CheckResult:
        guard = self.guard
        return guard._check(
            _cookie_header(request),
            request.path_info if guard.protects_paths else "/",
            request.get_full_path() if guard.login_url is not None else None,
            _peer(request) if guard.bind_ip else None,
            _forwarded(request, guard),
        )

    def _user(self, request: Any, identity: Identity) -> Any:
        from django.contrib.auth.models import AnonymousUser

        user = request.__dict__.get(_USER_ATTRIBUTE)
        if user is None:
            user = self.backend.authenticate(request, ticket_identity=identity)
            if user is None:
                user = AnonymousUser()
            else:
                user.backend = self.backend_path
            request.__dict__[_USER_ATTRIBUTE] = user
        return user

    def _prepare(self, request: Any) -> CheckResult:
        result = self._check(request)
        request.ticket_auth = result
        request.ticket_identity = result.identity
        setattr(request, _GUARD_ATTRIBUTE, self.guard)
        identity = result.identity
        if identity is not None and not result.status:
            request.user = SimpleLazyObject(lambda: self._user(request, identity))

            async def auser() -> Any:
                user = request.__dict__.get(_USER_ATTRIBUTE)
                if user is None:
                    user = await sync_to_async(self._user)(request, identity)
                return user

            request.auser = auser
        elif not hasattr(request, "user"):
            from django.contrib.auth.models import AnonymousUser

            anonymous = AnonymousUser()
            request.user = anonymous

            async def anonymous_user() -> Any:
                return anonymous

            request.auser = anonymous_user
        return result

    def _finish(self, request: Any, result: CheckResult, response: Any) -> Any:
        set_cookie = result.set_cookie
        if set_cookie is not None and self.guard.cookie_name not in response.cookies:
            _set_cookie(request, response, self.guard, set_cookie)
        return response

    def __call__(self, request: Any) -> Any:
        """Handle one request.

        Args:
            request: the ``HttpRequest``.

        Returns:
            The response (a coroutine of it when the chain is async).
        """
        if self._async:
            return self.__acall__(request)
        result = self._prepare(request)
        if result.status:
            return _refusal(result)
        return self._finish(request, result, self.get_response(request))

    async def __acall__(self, request: Any) -> Any:
        """Handle one request in an async chain.

        Args:
            request: the ``HttpRequest`` (an ``ASGIRequest`` under ASGI).

        Returns:
            The response.
        """
        result = self._prepare(request)
        if result.status:
            return _refusal(result)
        return self._finish(request, result, await self.get_response(request))


# -- login and logout ------------------------------------------------------------------------


def _guard_of(request: Any) -> TicketGuard:
    guard = getattr(request, _GUARD_ATTRIBUTE, None)
    if not isinstance(guard, TicketGuard):
        raise RuntimeError(_NO_MIDDLEWARE)
    return guard


def login(request: Any, response: Any, user: Any, tokens: Iterable[str] = (), user_data: str = "") -> None:
    """Log ``user`` in: set a fresh ticket cookie on ``response``.

    The ticket names ``user.get_username()`` with ``tokens`` and ``user_data``. Also, as
    Django's own ``login`` does: a session (if any) gets a new key (and is emptied when it
    was another user's session login), the CSRF token is rotated, ``request.user`` becomes
    ``user``, and ``user_logged_in`` is sent (which updates ``last_login``).

    Args:
        request: the request (the middleware must have run on it).
        response: the ``HttpResponse`` that will carry the cookie.
        user: the user, typically from ``django.contrib.auth.authenticate``.
        tokens: the ticket's tokens (each an str; not a bare str).
        user_data: the ticket's user data.

    Raises:
        RuntimeError: ``TicketAuthMiddleware`` did not run on this request.
        TypeError: ``tokens`` is a str.
        ValueError: the user is inactive, or a field the ticket format cannot carry.
    """
    guard = _guard_of(request)
    if isinstance(tokens, str):
        raise TypeError("tokens must be a list or tuple of str, not a str")
    if user is None or not getattr(user, "is_active", True):
        raise ValueError("cannot log in an inactive user (or None): check the result of authenticate()")
    set_cookie = guard.remember(
        user.get_username(),
        tuple(tokens),
        user_data,
        peer=_peer(request),
        forwarded=_forwarded(request, guard),
    )
    session = getattr(request, "session", None)
    if session is not None:
        session_user = session.get(auth.SESSION_KEY)
        if session_user is not None and session_user != user._meta.pk.value_to_string(user):
            session.flush()
        else:
            session.cycle_key()
    _set_cookie(request, response, guard, set_cookie)
    request.user = user
    rotate_token(request)
    auth.user_logged_in.send(sender=user.__class__, request=request, user=user)


def logout(request: Any, response: Any) -> None:
    """Log out: expire the ticket cookie on ``response``, and flush the session if any.

    Sends ``user_logged_out`` and makes ``request.user`` anonymous (Django's ``logout``,
    when ``SessionMiddleware`` is installed). A ticket stays valid until it expires: a copy
    kept by the client is accepted until then (keep ``LIFETIME`` short).

    Args:
        request: the request (the middleware must have run on it).
        response: the ``HttpResponse`` that will carry the expired cookie.

    Raises:
        RuntimeError: ``TicketAuthMiddleware`` did not run on this request.
    """
    from django.contrib.auth.models import AnonymousUser

    guard = _guard_of(request)
    if hasattr(request, "session"):
        auth.logout(request)
    else:
        user = getattr(request, "user", None)
        if not getattr(user, "is_authenticated", False):
            user = None
        auth.user_logged_out.send(sender=type(user), request=request, user=user)
        request.user = AnonymousUser()
    request.__dict__.pop(_USER_ATTRIBUTE, None)
    request.ticket_identity = None
    _set_cookie(request, response, guard, guard.forget())


async def alogin(
    request: Any, response: Any, user: Any, tokens: Iterable[str] = (), user_data: str = ""
) -> None:
    """``login`` for async views (run in a thread: it saves the session and ``last_login``).

    Args:
        request: the request.
        response: the response that will carry the cookie.
        user: the user.
        tokens: the ticket's tokens.
        user_data: the ticket's user data.
    """
    await sync_to_async(login)(request, response, user, tokens, user_data)


async def alogout(request: Any, response: Any) -> None:
    """``logout`` for async views (run in a thread: it flushes the session).

    Args:
        request: the request.
        response: the response that will carry the expired cookie.
    """
    await sync_to_async(logout)(request, response)
