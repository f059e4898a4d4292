"""FastAPI dependencies for the ticket guard, declared as an ``APIKeyCookie`` security scheme.

    from fastapi import Depends, FastAPI, Response
    from ticket_auth import TicketFactory
    from ticket_auth.guard import TicketGuard
    from ticket_auth.fastapi import TicketAuth

    auth = TicketAuth(TicketGuard(TicketFactory(secret)))
    app = FastAPI()

    @app.get("/me")
    def me(user=Depends(auth.require_identity)): ...        # 401 without a valid ticket
    @app.get("/admin")
    def admin(user=Depends(auth.require_tokens("admin"))): ...  # 403 without the token
    @app.get("/")
    def home(user=Depends(auth.current_identity)): ...      # an Identity or None
    @app.post("/login")
    def login(response: Response): auth.login(response, "alice", tokens=("admin",))

Every check is the guard's (``ticket_auth.guard.asgi.check_scope``): this module parses no
cookie and applies no rule of its own beyond "an identity is required" and "these tokens are
required". The decisions it makes, in the order a request meets them:

* **With ``TicketAuthMiddleware``** (same guard object): its decision, stored in
  ``scope["ticket_auth"]``, is reused; the guard is not asked again, and the middleware adds a
  reissued cookie to the response. **Without it**, the first dependency of a request asks the
  guard, stores the decision under the same scope keys (so ``ticket_auth.guard.asgi.identity``,
  ``remember`` and ``forget`` work in the view), and adds a reissued cookie to FastAPI's
  ``Response`` (the headers FastAPI merges into the response when the endpoint returns data;
  an endpoint returning a ``Response`` itself sends none of them, so the reissue waits for the
  next request).
* **The guard's own refusals** (its ``protect`` paths) apply too, with its status and redirect.
* **Refusals.** No identity: 401 with ``WWW-Authenticate: APIKey`` (what FastAPI's
  ``APIKeyCookie`` sends; a cookie has no HTTP authentication scheme of its own); an identity
  without a required token: 403. With the guard's ``login_url``, the 401 is the guard's 303
  redirect to it instead (a missing token stays 403, as in the guard: logging in again would
  not help). Every refusal has ``Cache-Control: no-store`` and a detail that names
  no ticket or reason. A websocket handshake is refused with close code 1008 (the server
  answers the handshake with 403); without the middleware, a handshake whose ``Origin`` the
  guard does not allow (``TicketGuard.origin_allowed``) is refused the same way.
* **Transport.** Before a Set-Cookie the guard made (a reissue, ``login`` given the request),
  the guard is told the request's scheme and host (``TicketGuard.note_transport``), so that it
  warns once when its ``Secure`` cookie would go out over plain HTTP.
* **OpenAPI.** One ``apiKey`` scheme in the cookie (default name ``TicketCookie``); every
  operation using a dependency lists it, with the tokens it requires as the requirement's roles
  (OpenAPI 3.1), e.g. ``[{"TicketCookie": ["admin"]}]``. ``Security(auth.require_identity,
  scopes=[...])`` works too: its scopes are required tokens, enforced as documented.
"""

from collections.abc import Callable, Coroutine, Iterable
from typing import Annotated, Any, NoReturn, TypeVar

from fastapi import HTTPException, Security, WebSocketException
from fastapi.security import APIKeyCookie, SecurityScopes
from starlette.requests import HTTPConnection
from starlette.responses import Response

from .guard import CheckResult, Identity, TicketGuard
from .guard.asgi import GUARD_KEY, SCOPE_KEY, _target, check_scope

__all__ = ["TicketAuth"]

# The decision a dependency took itself (no middleware with this guard): (guard, result).
_OWN_KEY = "ticket_auth.fastapi"
_NO_STORE = {"Cache-Control": "no-store"}
_UNAUTHORIZED = {"WWW-Authenticate": "APIKey", **_NO_STORE}
_POLICY_VIOLATION = 1008

ResponseT = TypeVar("ResponseT", bound=Response)


class _TicketCookie(APIKeyCookie):
    """The security scheme FastAPI shows at ``/docs``; calling it runs the guard's check.

    ``auto_error`` is True for the required identity (refusal: 401) and False for the optional
    one (anonymous: None). In both, an identity lacking a required token is refused with 403.
    """

    def __init__(self, auth: "TicketAuth", *, required: bool, scheme_name: str, description: str) -> None:
        super().__init__(
            name=auth.guard.cookie_name, scheme_name=scheme_name, description=description, auto_error=required
        )
        self._auth = auth

    async def __call__(  # type: ignore[override]  # an Identity, not the raw cookie text
        self, connection: HTTPConnection, response: Response, security_scopes: SecurityScopes
    ) -> Identity | None:
        return self._auth._identify(connection, response, security_scopes.scopes, required=self.auto_error)

    def __repr__(self) -> str:
        kind = "require_identity" if self.auto_error else "current_identity"
        return f"<TicketAuth.{kind} scheme={self.scheme_name!r} cookie={self.model.name!r}>"


class TicketAuth:
    """FastAPI dependencies that apply a ``TicketGuard``, with or without the ASGI middleware.

    Attributes:
        current_identity: Dependency: the request's ``Identity``, or None when it carries no
            valid ticket (a bad ticket is anonymous, never an error).
        require_identity: Dependency: the request's ``Identity``; without one, 401 (or the
            guard's 303 redirect to its ``login_url``).
        scheme_name: The OpenAPI security scheme's name.

    Both dependencies are ``APIKeyCookie`` security schemes: FastAPI lists them in the OpenAPI
    document (the lock at ``/docs``). Share one ``TicketAuth`` per guard in an application.
    """

    __slots__ = ("_guard", "current_identity", "require_identity", "scheme_name")

    def __init__(
        self, guard: TicketGuard, *, scheme_name: str = "TicketCookie", description: str | None = None
    ) -> None:
        """Build the dependencies for ``guard``.

        Args:
            guard: The policy (``ticket_auth.guard.TicketGuard``). With ``TicketAuthMiddleware``
                installed, pass the middleware's own guard object so that its decision is reused.
            scheme_name: The security scheme's name in the OpenAPI document; two ``TicketAuth``
                with different cookies in one application need different names.
            description: The scheme's description at ``/docs`` (default: names the cookie).

        Raises:
            TypeError: ``guard`` is not a ``TicketGuard``, or a name is not a str.
            ValueError: ``scheme_name`` is empty.
        """
        if not isinstance(guard, TicketGuard):
            raise TypeError(
                "TicketAuth needs a ticket_auth.guard.TicketGuard, e.g. TicketAuth(TicketGuard(TicketFactory(secret)))"
            )
        if not isinstance(scheme_name, str):
            raise TypeError("scheme_name must be a str, e.g. 'TicketCookie'")
        if not scheme_name:
            raise ValueError("scheme_name must be a non-empty str, e.g. 'TicketCookie'")
        if description is not None and not isinstance(description, str):
            raise TypeError("description must be a str or None")
        self._guard = guard
        self.scheme_name = scheme_name
        if description is None:
            description = f"A signed ticket in the {guard.cookie_name} cookie, set by the login endpoint."
        self.require_identity = _TicketCookie(
            self, required=True, scheme_name=scheme_name, description=description
        )
        self.current_identity = _TicketCookie(
            self, required=False, scheme_name=scheme_name, description=description
        )

    @property
    def guard(self) -> TicketGuard:
        """The guard every dependency asks.

        It can be replaced (e.g. by one with a rotated factory) by one with the same cookie
        name, which the OpenAPI document names; setting one with another name is a ValueError.
        """
        return self._guard

    @guard.setter
    def guard(self, guard: TicketGuard) -> None:
        if not isinstance(guard, TicketGuard):
            raise TypeError("TicketAuth.guard must be a ticket_auth.guard.TicketGuard")
        if guard.cookie_name != self._guard.cookie_name:
            raise ValueError(
                "the new guard's cookie_name differs from the one the OpenAPI scheme names: "
                "build a new TicketAuth (and a new application) for another cookie"
            )
        self._guard = guard

    def __repr__(self) -> str:
        return f"<TicketAuth scheme={self.scheme_name!r} guard={self._guard!r}>"

    def require_tokens(self, *tokens: str) -> Callable[..., Coroutine[Any, Any, Identity]]:
        """A dependency requiring an identity whose ticket carries all of ``tokens``.

        No identity: 401 (with the guard's ``login_url``: its 303 redirect); an identity
        without one of the tokens: 403. The OpenAPI document lists the tokens as
        the security requirement's roles.

        Args:
            *tokens: The tokens required, each a non-empty str: ``require_tokens("admin")``.

        Returns:
            An async dependency for ``Depends(...)`` that returns the ``Identity``.

        Raises:
            TypeError: a token is not a str (pass tokens as separate arguments, not a list).
            ValueError: no token, or an empty one (use ``require_identity`` for none).
        """
        if not tokens:
            raise ValueError("require_tokens needs at least one token; use require_identity for none")
        for token in tokens:
            if not isinstance(token, str):
                raise TypeError("each token must be a str: require_tokens('admin', 'staff'), not a list")
            if not token:
                raise ValueError("a required token must be a non-empty str")
        scopes = list(dict.fromkeys(tokens))

        async def require_tokens(
            identity: Annotated[Identity, Security(self.require_identity, scopes=scopes)],
        ) -> Identity:
            return identity

        require_tokens.__qualname__ = f"TicketAuth.require_tokens({', '.join(map(repr, scopes))})"
        return require_tokens

    # -- login and logout ------------------------------------------------------------------

    def login(
        self,
        response: ResponseT,
        user_id: str,
        tokens: Iterable[str] = (),
        user_data: str = "",
        *,
        request: HTTPConnection | None = None,
    ) -> ResponseT:
        """Log in: set a fresh ticket cookie for ``user_id`` on ``response``.

        Any ticket cookie already set on the response (a pending reissue) is replaced.

        Args:
            response: A Starlette/FastAPI response: the one the endpoint returns, or FastAPI's
                ``Response`` parameter.
            user_id: The user id the ticket carries.
            tokens: Its tokens (an iterable of str, not a str).
            user_data: Its user data.
            request: The request; needed when the guard binds tickets to the client address
                (``bind_ip=True``), whose address (or a trusted proxy's forwarded one) it gives.
                With it, the guard also warns (once) if its ``Secure`` cookie is set over plain
                HTTP (``TicketGuard.note_transport``).

        Returns:
            ``response``, for ``return auth.login(RedirectResponse("/"), "alice")``.

        Raises:
            TypeError: ``bind_ip`` is on and no ``request`` is given, or ``tokens`` is a str.
            ValueError: fields the ticket format cannot carry (see ``TicketGuard.remember``).
        """
        guard = self._guard
        peer = forwarded = None
        if guard.bind_ip:
            if request is None:
                raise TypeError(
                    "this guard binds tickets to the client address (bind_ip=True): "
                    "call auth.login(response, user_id, ..., request=request)"
                )
            peer = request.client.host if request.client is not None else None
            if guard.trusted_proxies:
                forwarded = ",".join(request.headers.getlist(guard.forwarded_header)) or None
        set_cookie = guard.remember(user_id, tokens, user_data, peer=peer, forwarded=forwarded)
        if request is not None:
            _note_transport(guard, request)
        _set_own_cookie(response, guard, set_cookie)
        return response

    def logout(self, response: ResponseT) -> ResponseT:
        """Log out: expire the ticket cookie on ``response`` (replacing any ticket set on it).

        Args:
            response: A Starlette/FastAPI response (or FastAPI's ``Response`` parameter).

        Returns:
            ``response``.
        """
        _set_own_cookie(response, self._guard, self._guard.forget())
        return response

    # -- the check -------------------------------------------------------------------------

    def _decision(self, connection: HTTPConnection, response: Response) -> CheckResult:
        """The guard's decision for this request: the middleware's, an earlier dependency's,
        or a new one (then stored in the scope, and a reissued cookie added to ``response``)."""
        scope = connection.scope
        guard = self._guard
        if scope.get(GUARD_KEY) is guard:
            stored = scope.get(SCOPE_KEY)
            if isinstance(stored, CheckResult):
                return stored
        own = scope.get(_OWN_KEY)
        if own is not None and own[0] is guard:
            result: CheckResult = own[1]
            return result
        if scope["type"] == "websocket" and not guard.origin_allowed(
            connection.headers.get("origin"), connection.headers.get("host")
        ):
            raise WebSocketException(code=_POLICY_VIOLATION)  # cross-site websocket hijacking
        result = check_scope(guard, scope)
        scope[_OWN_KEY] = (guard, result)
        if GUARD_KEY not in scope:  # never hide a middleware's own decision
            scope[SCOPE_KEY] = result
            scope[GUARD_KEY] = guard
        if result.set_cookie is not None and scope["type"] == "http":
            _note_transport(guard, connection)
            response.headers.append("set-cookie", result.set_cookie)
        return result

    def _identify(
        self, connection: HTTPConnection, response: Response, tokens: list[str], *, required: bool
    ) -> Identity | None:
        scope = connection.scope
        result = self._decision(connection, response)
        if result.status:  # the guard's own rule for this path (no middleware applied it)
            self._refuse(scope, result.status, result.location)
        identity = result.identity
        if identity is None:
            if required:
                self._refuse(scope, 401)
            return None
        if tokens and not set(tokens) <= set(identity.tokens):
            self._refuse(scope, 403)
        return identity

    def _refuse(self, scope: Any, status: int, location: str | None = None) -> NoReturn:
        if scope["type"] == "websocket":
            raise WebSocketException(code=_POLICY_VIOLATION)
        if status == 401 and location is None and self._guard.login_url is not None:
            status, location = self._guard._deny(_target(scope))  # the guard's 303 and back link
        if location is not None:
            raise HTTPException(status, headers={"Location": location, **_NO_STORE})
        if status == 401:
            raise HTTPException(401, "Not authenticated", headers=_UNAUTHORIZED)
        raise HTTPException(status, "Forbidden" if status == 403 else None, headers=_NO_STORE)


def _note_transport(guard: TicketGuard, connection: HTTPConnection) -> None:
    """Let the guard warn (once) that its Secure cookie is about to go out over plain HTTP."""
    guard.note_transport(connection.scope.get("scheme") or "http", connection.headers.get("host"))


def _set_own_cookie(response: Response, guard: TicketGuard, set_cookie: str) -> None:
    """Replace the guard's cookie among ``response``'s Set-Cookie headers by ``set_cookie``."""
    raw = response.headers.raw  # the response's own header list
    raw[:] = [
        (name, value)
        for name, value in raw
        if not (name == b"set-cookie" and guard.sets_own_cookie(value.decode("latin-1")))
    ]
    response.headers.append("set-cookie", set_cookie)
