"""ASGI 3 middleware: every HTTP request and websocket handshake passes the ticket guard.

    from ticket_auth.guard import TicketGuard
    from ticket_auth.guard.asgi import TicketAuthMiddleware, forget, identity, remember

    app = TicketAuthMiddleware(app, TicketGuard(factory, protect={"/admin/": ("admin",)}))

    # in a view (Starlette: request.scope):
    user = identity(request.scope)                        # an Identity or None
    response.headers.append("set-cookie", remember(request.scope, "alice", ("admin",)))
    response.headers.append("set-cookie", forget(request.scope))

The check result is in ``scope["ticket_auth"]`` (a ``CheckResult``) and the guard in
``scope["ticket_auth.guard"]``. A refused HTTP request gets the guard's 401, 403 or 303
redirect without reaching the application; a refused websocket handshake is closed with
code 1008 (the server answers the handshake with 403). A reissued ticket is added to the
response's headers (``websocket.accept`` headers for a websocket), unless the application
sets the guard's cookie itself. Needs no dependency.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from . import CheckResult, Identity, TicketGuard, _stored_guard
from ._adapter import add_mounted, add_normalized, check_paths, require_guard

__all__ = ["TicketAuthMiddleware", "check_scope", "forget", "identity", "remember"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SCOPE_KEY = "ticket_auth"
GUARD_KEY = "ticket_auth.guard"
_NO_GUARD = "no TicketGuard in the scope: is TicketAuthMiddleware installed?"
_BODIES = {401: b"Unauthorized\n", 403: b"Forbidden\n", 303: b"See Other\n"}
_TRANSPORT = {"ws": "http", "wss": "https"}
# How many ``.app`` links the middleware follows into the application it wraps, looking for a
# declared ``root_path`` (FastAPI's), which that application applies only after the guard ran.
_APP_DEPTH = 16


def _peer(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


def _header(scope: Scope, name: bytes) -> str | None:
    """The first header ``name`` (lower-case bytes) of the scope, as Latin-1 text, or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _headers(scope: Scope, guard: TicketGuard) -> tuple[str | None, str | None]:
    """The Cookie header(s) joined with "; " (Latin-1 text, one character per byte) and the
    forwarded header(s) joined with ",".

    The work is linear and bounded: collecting stops once the Cookie lines together exceed
    ``guard.max_cookie_header``, and what was collected (longer than that) is handed on, for
    the policy to refuse as oversized.
    """
    limit = guard.max_cookie_header
    cookies: list[bytes] = []
    total = -2
    forwarded: list[bytes] = []
    want = guard.forwarded_header.lower().encode("latin-1") if guard.trusted_proxies else None
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            cookies.append(value)
            total += len(value) + 2
            if total > limit:
                break
        elif want is not None and name == want:
            forwarded.append(value)
    return (
        b"; ".join(cookies).decode("latin-1") if cookies else None,
        b",".join(forwarded).decode("latin-1") if forwarded else None,
    )


def _target(scope: Scope) -> str:
    raw: bytes | None = scope.get("raw_path")
    path: str
    if raw:
        path = raw.decode("latin-1")
    else:
        from urllib.parse import quote

        path = quote((scope.get("root_path") or "") + scope.get("path", "/"))
    query: bytes = scope.get("query_string", b"")
    return path + ("?" + query.decode("latin-1") if query else "")


def _declared_root_paths(app: object) -> tuple[object, ...]:
    """The applications in ``app``'s ``.app`` chain that declare a ``root_path`` (FastAPI)."""
    found = []
    seen: set[int] = set()
    for _ in range(_APP_DEPTH):
        if app is None or id(app) in seen:
            break
        seen.add(id(app))
        if isinstance(getattr(app, "root_path", None), str):
            found.append(app)
        app = getattr(app, "app", None)
    return tuple(found)


def check_scope(guard: TicketGuard, scope: Scope, *, mounted_at: tuple[str, ...] = ()) -> CheckResult:
    """The guard's decision for an HTTP or websocket scope.

    ``protect`` is matched against ``scope["path"]``, against the path a router mounted at
    ``scope["root_path"]`` (or at one of ``mounted_at``) routes on, and against the path with
    empty and dot segments collapsed; the strictest requirement applies.

    Args:
        guard: the policy.
        scope: the ASGI connection scope.
        mounted_at: further mount prefixes the application applies after the guard ran (the
            middleware passes a wrapped FastAPI app's ``root_path``).

    Returns:
        The ``CheckResult``.
    """
    result = _identify_scope(guard, scope)
    if not guard.protects_paths:
        return result
    return _protected(guard, scope, result, mounted_at)


def _protected(
    guard: TicketGuard, scope: Scope, result: CheckResult, mounted_at: tuple[str, ...]
) -> CheckResult:
    """``result`` (the identification) once ``protect`` applies to every path a router behind
    the guard may route the scope on."""
    path: str = scope.get("path", "/")
    target = functools.partial(_target, scope) if guard.login_url is not None else None
    root_path = scope.get("root_path")
    if not root_path and not mounted_at and path[:1] == "/" and "//" not in path and "/." not in path:
        return guard._decide(result, path, target)  # one candidate: the usual case
    paths = [path]
    if root_path:
        add_mounted(paths, path, root_path)
    for prefix in mounted_at:
        add_mounted(paths, path, prefix)
    add_normalized(paths)
    return check_paths(guard, result, paths, target)


def _identify_scope(guard: TicketGuard, scope: Scope) -> CheckResult:
    """Who the connection is (status 0, before ``protect``): the compiled decision on the
    scope's header list when the guard has one, the Python rules otherwise."""
    forwarded = None
    if guard.bind_ip and guard.trusted_proxies:
        forwarded = _headers(scope, guard)[1]
    core = guard._core
    if core is not None:
        result: CheckResult | None
        if forwarded is None:
            result = core.check_scope(scope)  # reads the headers and the client itself
        else:
            result = core.check_lines(scope.get("headers", ()), scope.get("client"), forwarded)
        if result is not None:
            return result
    # The usual case: only the Cookie line(s), joined as _headers joins them.
    total = 0
    first: bytes | None = None
    more: list[bytes] | None = None
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            if first is None:
                first = value
            elif more is None:
                more = [first, value]
                total = len(first) + len(value) + 2
            else:
                more.append(value)
                total += len(value) + 2
                if total > guard.max_cookie_header:
                    break
    cookie: str | None
    if more is not None:
        cookie = b"; ".join(more).decode("latin-1")
    else:
        cookie = first.decode("latin-1") if first is not None else None
    peer = _peer(scope) if guard.bind_ip else None  # the guard reads the peer only to bind tickets
    return guard._identify_result(cookie, peer, forwarded, None)


def _note_transport(guard: TicketGuard, scope: Scope) -> None:
    scheme = scope.get("scheme") or "http"
    guard.note_transport(_TRANSPORT.get(scheme, scheme), _header(scope, b"host"))


def identity(scope: Scope) -> Identity | None:
    """The identity the middleware found for this request.

    Args:
        scope: the ASGI scope the application received.

    Returns:
        The ``Identity``, or None (anonymous, or no middleware ran).
    """
    result: CheckResult | None = scope.get(SCOPE_KEY)
    return result[0] if result is not None else None


def remember(scope: Scope, user_id: str, tokens: tuple[str, ...] = (), user_data: str = "") -> str:
    """Log in: a ``Set-Cookie`` header value with a fresh ticket for ``user_id``.

    Args:
        scope: the ASGI scope the application received (the middleware's guard is in it).
        user_id: the user.
        tokens: the user's tokens.
        user_data: free text carried in the ticket.

    Returns:
        The ``Set-Cookie`` value to add to the response.

    Raises:
        RuntimeError: no ``TicketAuthMiddleware`` ran for this scope.
        ValueError: fields the ticket format cannot carry.
    """
    guard = _stored_guard(scope, GUARD_KEY, _NO_GUARD)
    forwarded = _headers(scope, guard)[1] if guard.bind_ip else None
    value = guard.remember(user_id, tokens, user_data, peer=_peer(scope), forwarded=forwarded)
    _note_transport(guard, scope)
    return value


def forget(scope: Scope) -> str:
    """Log out: a ``Set-Cookie`` header value that expires the ticket cookie.

    Args:
        scope: the ASGI scope the application received.

    Returns:
        The ``Set-Cookie`` value to add to the response.

    Raises:
        RuntimeError: no ``TicketAuthMiddleware`` ran for this scope.
    """
    return _stored_guard(scope, GUARD_KEY, _NO_GUARD).forget()


class TicketAuthMiddleware:
    """ASGI 3 middleware applying a ``TicketGuard`` to HTTP and websocket connections.

    A websocket handshake is first checked with ``guard.origin_allowed(Origin, Host)``: a
    foreign origin is refused (close 1008 before accept: the server answers 403).

    Args:
        app: the ASGI application to protect.
        guard: the policy (``.guard`` may be replaced later, for example to rotate secrets).

    Raises:
        TypeError: ``app`` is not callable, or ``guard`` is not a ``TicketGuard`` (a factory
            must be wrapped in ``TicketGuard(...)``).
    """

    __slots__ = ("_guard", "_mounted", "app")

    def __init__(self, app: ASGIApp, guard: TicketGuard) -> None:
        if not callable(app):
            raise TypeError(f"app must be an ASGI application (a callable), not a {type(app).__name__}")
        self.app = app
        self.guard = guard
        self._mounted = _declared_root_paths(app)

    @property
    def guard(self) -> TicketGuard:
        """The ``TicketGuard`` applied to every connection."""
        return self._guard

    @guard.setter
    def guard(self, guard: TicketGuard) -> None:
        self._guard = require_guard(guard)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the connection, then call the application (or refuse it).

        Args:
            scope: the ASGI scope.
            receive: the ASGI receive callable.
            send: the ASGI send callable.
        """
        guard = self._guard
        direct = guard._direct
        mounted = self._mounted
        result: CheckResult | None = None
        if direct is not None and not (mounted and guard._protect):
            # The shortest path, for a guard whose compiled decision reads the whole request
            # (TicketGuard._set_core; with protect, no mounted app that moves the path): an HTTP
            # request that simply goes on gets its scope, the decision stored in it, from one call.
            entered = direct.enter(scope, SCOPE_KEY, GUARD_KEY, guard)
            if isinstance(entered, dict):
                await self.app(entered, receive, send)
                return
            result = entered  # the decision before protect (to go on with), or None
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        if kind == "websocket" and not guard.origin_allowed(
            _header(scope, b"origin"), _header(scope, b"host")
        ):
            await _refuse_websocket(receive, send)
            return
        if not mounted:
            if result is None:
                result = check_scope(guard, scope)
            elif guard._protect:
                result = _protected(guard, scope, result, ())
        else:
            prefixes = tuple(p for app in mounted if (p := getattr(app, "root_path", None)))
            if result is None:
                result = check_scope(guard, scope, mounted_at=prefixes)
            elif guard._protect:
                result = _protected(guard, scope, result, prefixes)
        if result.status:
            if kind == "http":
                await _refuse_http(result, send)
            else:
                await _refuse_websocket(receive, send)
            return
        scope = dict(scope)
        scope[SCOPE_KEY] = result
        scope[GUARD_KEY] = guard
        set_cookie = result.set_cookie
        if set_cookie is None:
            await self.app(scope, receive, send)
            return
        cookie_header = (b"set-cookie", set_cookie.encode("latin-1"))

        async def send_with_cookie(message: Message) -> None:
            mtype = message["type"]
            if mtype == "http.response.start" or mtype == "websocket.accept":
                headers = list(message.get("headers", ()))
                if not any(
                    name.lower() == b"set-cookie" and guard.sets_own_cookie(value.decode("latin-1"))
                    for name, value in headers
                ):
                    headers.append(cookie_header)
                    message = dict(message)
                    message["headers"] = headers
                    _note_transport(guard, scope)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


async def _refuse_http(result: CheckResult, send: Send) -> None:
    body = _BODIES.get(result.status, b"")
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"cache-control", b"no-store"),
    ]
    if result.location is not None:
        headers.append((b"location", result.location.encode("latin-1")))
    await send({"type": "http.response.start", "status": result.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _refuse_websocket(receive: Receive, send: Send) -> None:
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": 1008})
