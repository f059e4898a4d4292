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

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from . import CheckResult, Identity, TicketGuard, _stored_guard, _stored_identity

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


def _peer(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


def _headers(scope: Scope, guard: TicketGuard) -> tuple[str | None, str | None]:
    """The Cookie header(s) joined with "; " and the forwarded header(s) joined with ","."""
    cookies: list[str] = []
    forwarded: list[str] = []
    want = guard.forwarded_header.lower().encode("latin-1") if guard.trusted_proxies else None
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            cookies.append(value.decode("latin-1"))
        elif want is not None and name == want:
            forwarded.append(value.decode("latin-1"))
    return ("; ".join(cookies) if cookies else None, ",".join(forwarded) if forwarded else None)


def _target(scope: Scope) -> str:
    raw: bytes | None = scope.get("raw_path")
    path: str
    if raw:
        path = raw.decode("latin-1")
    else:
        from urllib.parse import quote

        path = quote(scope.get("root_path", "") + scope.get("path", "/"))
    query: bytes = scope.get("query_string", b"")
    return path + ("?" + query.decode("latin-1") if query else "")


def check_scope(guard: TicketGuard, scope: Scope) -> CheckResult:
    """The guard's decision for an HTTP or websocket scope."""
    if guard.trusted_proxies:
        cookie, forwarded = _headers(scope, guard)
    else:  # the usual case: only the Cookie header(s), joined as _headers joins them
        cookie = forwarded = None
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                text = value.decode("latin-1")
                cookie = text if cookie is None else cookie + "; " + text
    return guard._check(
        cookie,
        scope.get("path", "/"),
        _target(scope) if guard.login_url is not None else None,
        _peer(scope) if guard.bind_ip else None,  # the guard reads the peer only to bind tickets
        forwarded,
    )


def identity(scope: Scope) -> Identity | None:
    """The identity the middleware found for this request (None: anonymous)."""
    return _stored_identity(scope, SCOPE_KEY)


def remember(scope: Scope, user_id: str, tokens: tuple[str, ...] = (), user_data: str = "") -> str:
    """Log in: a ``Set-Cookie`` header value with a fresh ticket for ``user_id``."""
    guard = _stored_guard(scope, GUARD_KEY, _NO_GUARD)
    forwarded = _headers(scope, guard)[1] if guard.bind_ip else None
    return guard.remember(user_id, tokens, user_data, peer=_peer(scope), forwarded=forwarded)


def forget(scope: Scope) -> str:
    """Log out: a ``Set-Cookie`` header value that expires the ticket cookie."""
    return _stored_guard(scope, GUARD_KEY, _NO_GUARD).forget()


class TicketAuthMiddleware:
    """ASGI 3 middleware applying a ``TicketGuard`` to HTTP and websocket connections."""

    __slots__ = ("app", "guard")

    def __init__(self, app: ASGIApp, guard: TicketGuard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        guard = self.guard
        result = check_scope(guard, scope)
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
