"""WSGI middleware: every request passes the ticket guard.

    from ticket_auth.guard import TicketGuard
    from ticket_auth.guard.wsgi import TicketAuthMiddleware, forget, identity, remember

    app.wsgi_app = TicketAuthMiddleware(app.wsgi_app, TicketGuard(factory))   # Flask
    application = TicketAuthMiddleware(get_wsgi_application(), guard)         # Django

    # in a view (Flask: request.environ; Django: request.META):
    user = identity(request.environ)                                  # an Identity or None
    response.headers.add("Set-Cookie", remember(request.environ, "alice", ("admin",)))
    response.headers.add("Set-Cookie", forget(request.environ))

For a valid ticket the environ gets ``REMOTE_USER`` (the user id), ``REMOTE_USER_TOKENS``
(comma-separated) and ``REMOTE_USER_DATA``, as mod_auth_tkt sets them; any such keys the
server put there are removed first, so only the guard sets them. The check result is in
``environ["ticket_auth"]`` and the guard in ``environ["ticket_auth.guard"]``. A refused
request gets the guard's 401, 403 or 303 redirect without reaching the application; a
reissued ticket is added to the response unless the application sets the guard's cookie
itself. Needs no dependency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from . import CheckResult, Identity, TicketGuard, _stored_guard, _stored_identity
from ._adapter import add_normalized, check_paths, require_guard

__all__ = ["TicketAuthMiddleware", "check_environ", "forget", "identity", "remember"]

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

ENVIRON_KEY = "ticket_auth"
GUARD_KEY = "ticket_auth.guard"
_NO_GUARD = "no TicketGuard in the environ: is TicketAuthMiddleware installed?"
_STATUS = {401: "401 Unauthorized", 403: "403 Forbidden", 303: "303 See Other"}
_REMOTE_KEYS = ("REMOTE_USER", "REMOTE_USER_TOKENS", "REMOTE_USER_DATA")


def _forwarded_key(guard: TicketGuard) -> str:
    return "HTTP_" + guard.forwarded_header.upper().replace("-", "_")


def _decoded(raw: str) -> str:
    """A PEP 3333 path (the request's bytes as Latin-1) decoded as UTF-8 where it is UTF-8."""
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return raw


def _paths(environ: Environ) -> list[str]:
    """The paths ``protect`` is matched against: ``SCRIPT_NAME + PATH_INFO`` (the request's
    path), ``PATH_INFO`` (what Flask, Django and werkzeug route on), and their forms with
    empty and dot segments collapsed (werkzeug routes ``//admin/`` as ``/admin/``)."""
    script_name: str = environ.get("SCRIPT_NAME", "")
    path_info: str = environ.get("PATH_INFO", "")
    full = _decoded(script_name + path_info)
    paths = [full]
    if script_name:
        route = _decoded(path_info) or "/"
        if route not in paths:
            paths.append(route)
    add_normalized(paths)
    return paths


def _target(environ: Environ) -> str:
    raw = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    try:
        path = quote(raw.encode("latin-1"), safe="/:@!$&'()*+,;=~-._")
    except UnicodeError:
        path = "/"
    query = environ.get("QUERY_STRING", "")
    return path + ("?" + query if query else "")


def check_environ(guard: TicketGuard, environ: Environ) -> CheckResult:
    """The guard's decision for a WSGI environ.

    ``protect`` is matched against ``SCRIPT_NAME + PATH_INFO`` and against ``PATH_INFO``
    alone (the path the application routes on), and against their forms with empty and dot
    segments collapsed: the strictest requirement applies.

    Args:
        guard: the policy.
        environ: the WSGI environ (``HTTP_COOKIE`` is Latin-1 text, as PEP 3333 makes it).

    Returns:
        The ``CheckResult``.
    """
    cookie = environ.get("HTTP_COOKIE")
    peer = forwarded = None
    if guard.bind_ip:  # the guard reads the client's address only to bind tickets
        peer = environ.get("REMOTE_ADDR")
        forwarded = environ.get(_forwarded_key(guard)) if guard.trusted_proxies else None
    core = guard._core
    if core is not None:  # the compiled decision reads HTTP_COOKIE's characters as bytes
        result = core.check_text(cookie, peer, forwarded, None)
    else:
        result = guard._identify_result(cookie, peer, forwarded, None)
    if not guard.protects_paths:
        return result
    target = _target(environ) if guard.login_url is not None else None
    return check_paths(guard, result, _paths(environ), target)


def _note_transport(guard: TicketGuard, environ: Environ) -> None:
    guard.note_transport(environ.get("wsgi.url_scheme") or "http", environ.get("HTTP_HOST"))


def identity(environ: Environ) -> Identity | None:
    """The identity the middleware found for this request.

    Args:
        environ: the WSGI environ the application received.

    Returns:
        The ``Identity``, or None (anonymous, or no middleware ran).
    """
    return _stored_identity(environ, ENVIRON_KEY)


def remember(environ: Environ, user_id: str, tokens: tuple[str, ...] = (), user_data: str = "") -> str:
    """Log in: a ``Set-Cookie`` header value with a fresh ticket for ``user_id``.

    Args:
        environ: the WSGI environ the application received (the middleware's guard is in it).
        user_id: the user.
        tokens: the user's tokens.
        user_data: free text carried in the ticket.

    Returns:
        The ``Set-Cookie`` value to add to the response.

    Raises:
        RuntimeError: no ``TicketAuthMiddleware`` ran for this environ.
        ValueError: fields the ticket format cannot carry.
    """
    guard = _stored_guard(environ, GUARD_KEY, _NO_GUARD)
    forwarded = environ.get(_forwarded_key(guard)) if guard.trusted_proxies else None
    value = guard.remember(user_id, tokens, user_data, peer=environ.get("REMOTE_ADDR"), forwarded=forwarded)
    _note_transport(guard, environ)
    return value


def forget(environ: Environ) -> str:
    """Log out: a ``Set-Cookie`` header value that expires the ticket cookie.

    Args:
        environ: the WSGI environ the application received.

    Returns:
        The ``Set-Cookie`` value to add to the response.

    Raises:
        RuntimeError: no ``TicketAuthMiddleware`` ran for this environ.
    """
    return _stored_guard(environ, GUARD_KEY, _NO_GUARD).forget()


class TicketAuthMiddleware:
    """WSGI middleware applying a ``TicketGuard`` to every request.

    Args:
        app: the WSGI application to protect.
        guard: the policy (``.guard`` may be replaced later, for example to rotate secrets).

    Raises:
        TypeError: ``app`` is not callable, or ``guard`` is not a ``TicketGuard`` (a factory
            must be wrapped in ``TicketGuard(...)``).
    """

    __slots__ = ("_guard", "app")

    def __init__(self, app: WSGIApp, guard: TicketGuard) -> None:
        if not callable(app):
            raise TypeError(f"app must be a WSGI application (a callable), not a {type(app).__name__}")
        self.app = app
        self.guard = guard

    @property
    def guard(self) -> TicketGuard:
        """The ``TicketGuard`` applied to every request."""
        return self._guard

    @guard.setter
    def guard(self, guard: TicketGuard) -> None:
        self._guard = require_guard(guard)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Check the request, then call the application (or answer the refusal).

        Args:
            environ: the WSGI environ.
            start_response: the WSGI start_response callable.

        Returns:
            The response body iterable.
        """
        guard = self._guard
        for key in _REMOTE_KEYS:
            environ.pop(key, None)
        direct = guard._direct
        if direct is not None and not guard._protect:
            # The shortest path (TicketGuard._set_core): one call, nothing protected.
            result = direct.check_text(environ.get("HTTP_COOKIE"), environ.get("REMOTE_ADDR"), None, None)
        else:
            result = check_environ(guard, environ)
        if result[3]:  # the status
            body = (
                b"Unauthorized\n" if result.status == 401 else b"Forbidden\n" if result.status == 403 else b""
            )
            headers = [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ]
            if result.location is not None:
                headers.append(("Location", result.location))
            start_response(_STATUS[result.status], headers)
            return [body]
        environ[ENVIRON_KEY] = result
        environ[GUARD_KEY] = guard
        ident = result[0]
        if ident is not None:
            environ["REMOTE_USER"] = ident[0]
            environ["REMOTE_USER_TOKENS"] = ",".join(ident[1])
            environ["REMOTE_USER_DATA"] = ident[2]
        set_cookie = result[2]
        if set_cookie is None:
            return self.app(environ, start_response)

        def start_with_cookie(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if not any(
                name.lower() == "set-cookie" and guard.sets_own_cookie(value) for name, value in headers
            ):
                headers = [*headers, ("Set-Cookie", set_cookie)]
                _note_transport(guard, environ)
            if exc_info is not None:
                return start_response(status, headers, exc_info)
            return start_response(status, headers)

        return self.app(environ, start_with_cookie)
