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

import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from . import CheckResult, Identity, TicketGuard, _stored_guard
from ._adapter import add_mounted, add_normalized, check_paths, require_guard

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

# A sub-application's mount prefix, found once in its parent's router (applications are
# frozen once they serve, so the prefix never changes).
_PREFIXES: weakref.WeakKeyDictionary[web.Application, str] = weakref.WeakKeyDictionary()


def _cookie_header(request: web.Request, limit: int) -> str | None:
    """The Cookie header(s) joined with "; ", as Latin-1 text (one character per byte, the
    policy's convention).

    Linear and bounded: collecting stops once the lines together exceed ``limit``, and what
    was collected (longer than that) is handed on, for the policy to refuse as oversized.
    ``request.headers`` decodes UTF-8, which is the same text when the lines are ASCII (the
    usual case, read from there); otherwise the lines are read again from the raw bytes."""
    values = request.headers.getall("Cookie", ())
    if not values:
        return None
    if len(values) == 1:
        value: str = values[0]
        if value.isascii():
            return value
        return _raw_cookie_header(request, limit)
    total = -2
    for value in values:
        total += len(value) + 2
        if total > limit or not value.isascii():
            return _raw_cookie_header(request, limit)
    return "; ".join(values)


def _raw_cookie_header(request: web.Request, limit: int) -> str | None:
    """``_cookie_header`` from the raw header bytes (for lines that are not all ASCII, or too
    long together)."""
    values: list[bytes] = []
    total = -2
    for name, value in request.raw_headers:
        if len(name) == 6 and name.lower() == b"cookie":
            values.append(value)
            total += len(value) + 2
            if total > limit:
                break
    if not values:
        return None
    return b"; ".join(values).decode("latin-1") if len(values) > 1 else values[0].decode("latin-1")


def _forwarded(request: web.Request, guard: TicketGuard) -> str | None:
    if not guard.trusted_proxies:
        return None
    values = request.headers.getall(guard.forwarded_header, ())
    return ",".join(values) if values else None


def _mount_prefix(request: web.Request) -> str:
    """The prefix of the application whose middleware is running (``match_info.current_app``):
    "" for the main application, the ``add_subapp`` prefix for a sub-application."""
    match_info = request.match_info
    apps = match_info.apps
    if len(apps) < 2:
        return ""
    try:
        current = match_info.current_app
    except RuntimeError:
        return ""
    prefix = _PREFIXES.get(current)
    if prefix is not None:
        return prefix
    prefix = ""
    index = apps.index(current) if current in apps else 0
    if index > 0:
        for resource in apps[index - 1].router.resources():
            info = resource.get_info()
            if info.get("app") is current:
                prefix = str(info.get("prefix") or "")
                break
    _PREFIXES[current] = prefix
    return prefix


def check_request(guard: TicketGuard, request: web.Request) -> CheckResult:
    """The guard's decision for an aiohttp request.

    ``protect`` is matched against ``request.path`` and, in a sub-application's middleware,
    against the path after the sub-application's prefix (what its routes were declared as),
    and against their forms with empty and dot segments collapsed: the strictest
    requirement applies.

    Args:
        guard: the policy.
        request: the request.

    Returns:
        The ``CheckResult``.
    """
    peer = forwarded = None
    if guard.bind_ip:  # the guard reads the client's address only to bind tickets
        peer = request.remote
        forwarded = _forwarded(request, guard)
    core = guard._core
    result = None
    if core is not None:  # the compiled decision reads the Cookie lines from the raw headers
        result = core.check_raw(request.raw_headers, peer, forwarded)
    if result is None:
        result = guard._identify_result(
            _cookie_header(request, guard.max_cookie_header), peer, forwarded, None
        )
    if not guard.protects_paths:
        return result
    return _protected(guard, request, result)


def _protected(guard: TicketGuard, request: web.Request, result: CheckResult) -> CheckResult:
    """``result`` (the identification) once ``protect`` applies to every path a router may
    route the request on."""
    target = request.raw_path if guard.login_url is not None else None
    path = request.path  # yarl parses it: only when needed
    prefix = _mount_prefix(request)
    if not prefix and "//" not in path and "/." not in path and path[:1] == "/":
        return guard._decide(result, path, target)  # one candidate: the usual case
    paths = [path]
    if prefix:
        add_mounted(paths, path, prefix)
    add_normalized(paths)
    return check_paths(guard, result, paths, target)


def _is_websocket(request: web.Request) -> bool:
    upgrade = request.headers.get("Upgrade")
    return upgrade is not None and "websocket" in upgrade.lower()


def _note_transport(guard: TicketGuard, request: web.Request) -> None:
    guard.note_transport(request.scheme, request.headers.get("Host"))


def check_result(request: web.Request) -> CheckResult | None:
    """The guard's decision for this request.

    Args:
        request: the request.

    Returns:
        The ``CheckResult``, or None outside the middleware.
    """
    result: CheckResult | None = request.get(REQUEST_KEY)
    return result


def identity(request: web.Request) -> Identity | None:
    """The identity the middleware found for this request.

    Args:
        request: the request.

    Returns:
        The ``Identity``, or None (anonymous, or no middleware ran).
    """
    # The request's own item lookup (Mapping.get would add a Python frame per call).
    try:
        result: CheckResult = request[REQUEST_KEY]
    except KeyError:
        return None
    return result[0]


def remember(
    request: web.Request,
    response: web.StreamResponse,
    user_id: str,
    tokens: tuple[str, ...] = (),
    user_data: str = "",
) -> None:
    """Log in: add a ``Set-Cookie`` with a fresh ticket for ``user_id`` to ``response``.

    Args:
        request: the request (the middleware's guard is on it).
        response: the response to add the cookie to.
        user_id: the user.
        tokens: the user's tokens.
        user_data: free text carried in the ticket.

    Raises:
        RuntimeError: the middleware did not run for this request.
        ValueError: fields the ticket format cannot carry.
    """
    guard = _stored_guard(request, GUARD_KEY, _NO_GUARD)
    value = guard.remember(
        user_id, tokens, user_data, peer=request.remote, forwarded=_forwarded(request, guard)
    )
    _note_transport(guard, request)
    response.headers.add("Set-Cookie", value)


def forget(request: web.Request, response: web.StreamResponse) -> None:
    """Log out: add a ``Set-Cookie`` that expires the ticket cookie to ``response``.

    Args:
        request: the request.
        response: the response to add the cookie to.

    Raises:
        RuntimeError: the middleware did not run for this request.
    """
    response.headers.add("Set-Cookie", _stored_guard(request, GUARD_KEY, _NO_GUARD).forget())


def _add_reissued(
    guard: TicketGuard, request: web.Request, response: web.StreamResponse, set_cookie: str
) -> None:
    if response.prepared:
        return  # headers already sent (a streamed response): nothing can be added
    if not any(guard.sets_own_cookie(value) for value in response.headers.getall("Set-Cookie", ())):
        _note_transport(guard, request)
        response.headers.add("Set-Cookie", set_cookie)


class TicketAuthMiddleware:
    """An aiohttp middleware applying a ``TicketGuard`` to every request.

    A websocket upgrade request is first checked with ``guard.origin_allowed(Origin, Host)``:
    a foreign origin gets a 403.

    Args:
        guard: the policy (``.guard`` may be replaced later, for example to rotate secrets).

    Raises:
        TypeError: ``guard`` is not a ``TicketGuard`` (a factory must be wrapped in
            ``TicketGuard(...)``).
    """

    __slots__ = ("_guard",)
    __middleware_version__ = 1  # what @web.middleware marks: a current (not old-style) middleware

    def __init__(self, guard: TicketGuard) -> None:
        self.guard = guard

    @property
    def guard(self) -> TicketGuard:
        """The ``TicketGuard`` applied to every request."""
        return self._guard

    @guard.setter
    def guard(self, guard: TicketGuard) -> None:
        self._guard = require_guard(guard)

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Check the request, then call the handler (or answer the refusal).

        Args:
            request: the request.
            handler: the next handler.

        Returns:
            The response.
        """
        guard = self._guard
        direct = guard._direct
        result: CheckResult | None = None
        if direct is not None:
            # The shortest path, for a guard whose compiled decision reads the whole request
            # (TicketGuard._set_core): one call over the raw headers (then protect); None for a
            # request with an Upgrade header (the websocket check below comes first) or headers
            # in an odd form.
            result = direct.check_plain_raw(request.raw_headers, request.remote)
            if result is not None and guard._protect:
                result = _protected(guard, request, result)
        if result is None:
            if _is_websocket(request) and not guard.origin_allowed(
                request.headers.get("Origin"), request.headers.get("Host")
            ):
                return web.Response(status=403, text="Forbidden\n", headers={"Cache-Control": "no-store"})
            result = check_request(guard, request)
        if result[3]:  # the status
            headers = {"Cache-Control": "no-store"}
            if result.location is not None:
                headers["Location"] = result.location
                return web.Response(status=result.status, headers=headers)
            text = "Unauthorized\n" if result.status == 401 else "Forbidden\n"
            return web.Response(status=result.status, text=text, headers=headers)
        request[REQUEST_KEY] = result
        request[GUARD_KEY] = guard
        set_cookie = result[2]
        if set_cookie is None:
            return await handler(request)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            _add_reissued(guard, request, exc, set_cookie)
            raise
        _add_reissued(guard, request, response, set_cookie)
        return response


def ticket_middleware(guard: TicketGuard) -> TicketAuthMiddleware:
    """An aiohttp middleware applying ``guard`` to every request.

    Args:
        guard: the policy.

    Returns:
        The middleware, for ``web.Application(middlewares=[...])``.

    Raises:
        TypeError: ``guard`` is not a ``TicketGuard``.
    """
    return TicketAuthMiddleware(guard)
