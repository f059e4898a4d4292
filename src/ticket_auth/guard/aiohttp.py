"""aiohttp middleware: every request passes the ticket guard (``pip install ticket-auth[aiohttp]``).

    from aiohttp import web
    from ticket_auth.guard import TicketGuard
    from ticket_auth.guard.aiohttp import forget, identity, remember, ticket_middleware

    app = web.Application(middlewares=[ticket_middleware(TicketGuard(factory, cookie_name="AUTH_TKT"))])

    # in a handler:
    user = identity(request)                    # an Identity or None
    remember(request, response, "alice", ("admin",))
    forget(request, response)

The check result is ``check_result(request)`` (stored under ``REQUEST_KEY``). A refused request gets the guard's 401, 403 or 303 redirect
without reaching the handler; a reissued ticket is added to the response (also to an
``HTTPException`` the handler raises) unless the handler set the guard's cookie itself.
The client address is ``request.remote`` (the peer, unless something upstream replaced it)
and the forwarded header is read only from the guard's trusted proxies.

With ``TicketGuard(TicketFactory(secret), cookie_name="AUTH_TKT", lifetime=max_age)`` the
cookies aiohttp_auth's ``TktAuthentication`` set with the same secret stay valid (with
``bind_ip=True`` when it was made with ``include_ip=True``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from . import CheckResult, Identity, TicketGuard, _stored_guard, _stored_identity

__all__ = [
    "TicketAuthMiddleware",
    "check_request",
    "check_result",
    "forget",
    "identity",
    "remember",
    "ticket_middleware",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Keys of the request's storage: web.RequestKey objects where aiohttp has them (3.12+; plain
# strings draw a warning there), the strings "ticket_auth" and "ticket_auth.guard" before.
_RequestKey: Any = getattr(web, "RequestKey", None)
REQUEST_KEY: Any = _RequestKey("ticket_auth", CheckResult) if _RequestKey else "ticket_auth"
GUARD_KEY: Any = _RequestKey("ticket_auth.guard", TicketGuard) if _RequestKey else "ticket_auth.guard"
_NO_GUARD = "no TicketGuard on the request: is ticket_middleware installed?"


def _cookie_header(request: web.Request) -> str | None:
    values = request.headers.getall("Cookie", ())
    return "; ".join(values) if values else None


def _forwarded(request: web.Request, guard: TicketGuard) -> str | None:
    if not guard.trusted_proxies:
        return None
    values = request.headers.getall(guard.forwarded_header, ())
    return ",".join(values) if values else None


def check_request(guard: TicketGuard, request: web.Request) -> CheckResult:
    """The guard's decision for an aiohttp request."""
    return guard._check(
        _cookie_header(request),
        request.path if guard.protects_paths else "/",  # yarl parses it: only when needed
        request.raw_path if guard.login_url is not None else None,
        request.remote if guard.bind_ip else None,  # the guard reads the peer only to bind tickets
        _forwarded(request, guard) if guard.bind_ip else None,
    )


def check_result(request: web.Request) -> CheckResult | None:
    """The guard's decision for this request (None outside the middleware)."""
    result: CheckResult | None = request.get(REQUEST_KEY)
    return result


def identity(request: web.Request) -> Identity | None:
    """The identity the middleware found for this request (None: anonymous)."""
    return _stored_identity(request, REQUEST_KEY)


def remember(
    request: web.Request,
    response: web.StreamResponse,
    user_id: str,
    tokens: tuple[str, ...] = (),
    user_data: str = "",
) -> None:
    """Log in: add a ``Set-Cookie`` with a fresh ticket for ``user_id`` to ``response``."""
    guard = _stored_guard(request, GUARD_KEY, _NO_GUARD)
    value = guard.remember(
        user_id, tokens, user_data, peer=request.remote, forwarded=_forwarded(request, guard)
    )
    response.headers.add("Set-Cookie", value)


def forget(request: web.Request, response: web.StreamResponse) -> None:
    """Log out: add a ``Set-Cookie`` that expires the ticket cookie to ``response``."""
    response.headers.add("Set-Cookie", _stored_guard(request, GUARD_KEY, _NO_GUARD).forget())


def _add_reissued(guard: TicketGuard, response: web.StreamResponse, set_cookie: str) -> None:
    if response.prepared:
        return  # headers already sent (a streamed response): nothing can be added
    if not any(guard.sets_own_cookie(value) for value in response.headers.getall("Set-Cookie", ())):
        response.headers.add("Set-Cookie", set_cookie)


class TicketAuthMiddleware:
    """An aiohttp middleware applying a ``TicketGuard`` to every request (``.guard`` may be
    replaced, for example to rotate secrets)."""

    __slots__ = ("guard",)
    __middleware_version__ = 1  # what @web.middleware marks: a current (not old-style) middleware

    def __init__(self, guard: TicketGuard) -> None:
        self.guard = guard

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        guard = self.guard
        result = check_request(guard, request)
        if result.status:
            headers = {"Cache-Control": "no-store"}
            if result.location is not None:
                headers["Location"] = result.location
                return web.Response(status=result.status, headers=headers)
            text = "Unauthorized\n" if result.status == 401 else "Forbidden\n"
            return web.Response(status=result.status, text=text, headers=headers)
        request[REQUEST_KEY] = result
        request[GUARD_KEY] = guard
        set_cookie = result.set_cookie
        if set_cookie is None:
            return await handler(request)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            _add_reissued(guard, exc, set_cookie)
            raise
        _add_reissued(guard, response, set_cookie)
        return response


def ticket_middleware(guard: TicketGuard) -> TicketAuthMiddleware:
    """An aiohttp middleware applying ``guard`` to every request."""
    return TicketAuthMiddleware(guard)
