"""ticket_auth.fastapi: the guard as FastAPI dependencies, on a real uvicorn (h11 and httptools,
chosen explicitly) and in-process (FastAPI's TestClient), with and without the ASGI middleware,
for both cores and both ticket formats; and the OpenAPI document FastAPI generates from them."""

import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Annotated

import pytest

from _guard_helpers import (
    BAD_COOKIE_CASES,
    HTTP_TIMEOUT,
    LIFETIME,
    REISSUE_AFTER,
    SECRET,
    UVICORN_PARSERS,
    AdapterTests,
    Clock,
    UvicornServer,
    bad_cookie_headers,
    check_bad_cookie,
    cookie_value,
    make_factory,
    make_guard,
    raw_get,
    set_cookies,
)

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
websockets_client = pytest.importorskip("websockets.sync.client")

from fastapi import Depends, FastAPI, Request, Response, Security, WebSocket  # noqa: E402
from fastapi.responses import PlainTextResponse, RedirectResponse  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402
from websockets.exceptions import InvalidStatus  # noqa: E402

from ticket_auth import TicketFactory  # noqa: E402
from ticket_auth.fastapi import TicketAuth  # noqa: E402
from ticket_auth.guard import Identity, InsecureCookieWarning, TicketGuard  # noqa: E402
from ticket_auth.guard.asgi import TicketAuthMiddleware  # noqa: E402

MODES = ("deps", "middleware")


# -- the application -------------------------------------------------------------------------


def describe(request, ident):
    """What the routes answer: "user|reason|tokens|user data" (the reason the guard gave)."""
    result = request.scope.get("ticket_auth")
    reason = result.reason if result is not None else "?"
    if ident is None:
        return f"-|{reason}||"
    return f"{ident.user_id}|{reason}|{','.join(ident.tokens)}|{ident.user_data}"


def build_app(auth):
    app = FastAPI()
    text = {"response_class": PlainTextResponse}

    @app.get("/open", **text)
    def open_page(request: Request, ident: Annotated[Identity | None, Depends(auth.current_identity)]) -> str:
        return describe(request, ident)

    # /protected/ and /admin/ are also in the walk's guard's own protected paths.
    @app.get("/protected/", **text)
    def protected(request: Request, ident: Annotated[Identity, Depends(auth.require_identity)]) -> str:
        return describe(request, ident)

    @app.get("/admin/", **text)
    def admin(request: Request, ident: Annotated[Identity, Depends(auth.require_tokens("admin"))]) -> str:
        return describe(request, ident)

    # Paths no guard protects: only the dependencies decide.
    @app.get("/me", **text)
    def me(request: Request, ident: Annotated[Identity, Depends(auth.require_identity)]) -> str:
        return describe(request, ident)

    @app.get("/staff", **text)
    def staff(
        request: Request, ident: Annotated[Identity, Depends(auth.require_tokens("admin", "staff"))]
    ) -> str:
        return describe(request, ident)

    @app.get("/scoped", dependencies=[Security(auth.require_identity, scopes=["staff"])], **text)
    def scoped() -> str:
        return "scoped"

    @app.get("/both", **text)
    def both(
        request: Request,
        maybe: Annotated[Identity | None, Depends(auth.current_identity)],
        ident: Annotated[Identity, Depends(auth.require_tokens("admin"))],
        again: Annotated[Identity, Depends(auth.require_identity)],
    ) -> str:
        assert maybe == ident == again
        return describe(request, ident)

    @app.get("/login", **text)
    def login(request: Request, response: Response, user: str, tokens: str = "", data: str = "") -> str:
        auth.login(response, user, tuple(t for t in tokens.split(",") if t), data, request=request)
        return "logged in"

    @app.get("/logout", **text)
    def logout(response: Response) -> str:
        auth.logout(response)
        return "logged out"

    @app.get("/relogin", **text)
    def relogin(
        request: Request, response: Response, ident: Annotated[Identity, Depends(auth.require_identity)]
    ) -> str:
        auth.login(response, ident.user_id + "2", request=request)
        return "logged in again"

    @app.get("/login-redirect")
    def login_redirect(request: Request) -> Response:
        return auth.login(RedirectResponse("/me", status_code=303), "rita", request=request)

    @app.websocket("/ws/")
    async def ws(websocket: WebSocket, ident: Annotated[Identity, Depends(auth.require_identity)]):
        await websocket.accept()
        await websocket.send_text(ident.user_id)
        await websocket.close()

    @app.websocket("/ws-admin/")
    async def ws_admin(
        websocket: WebSocket, ident: Annotated[Identity, Depends(auth.require_tokens("admin"))]
    ):
        await websocket.accept()
        await websocket.send_text(ident.user_id)
        await websocket.close()

    return app


class Stack:
    """A FastAPI app with its TicketAuth, alone ("deps") or behind TicketAuthMiddleware
    ("middleware"), both always holding the same guard: setting ``guard`` sets it on both (the
    shared helpers set ``middleware.guard``)."""

    def __init__(self, mode, guard):
        self.mode = mode
        self.auth = TicketAuth(guard)
        self.app = build_app(self.auth)
        self.middleware = TicketAuthMiddleware(self.app, guard) if mode == "middleware" else None
        self.asgi = self.middleware if self.middleware is not None else self.app

    @property
    def guard(self):
        return self.auth.guard

    @guard.setter
    def guard(self, guard):
        self.auth.guard = guard
        if self.middleware is not None:
            self.middleware.guard = guard


class _CountingCore:
    """The compiled decision of a CountingGuard, counting its calls."""

    def __init__(self, guard, core):
        self.guard, self.core = guard, core

    def __getattr__(self, name):  # enter, check_scope, check_text, check_lines, check_raw
        method = getattr(self.core, name)

        def counted(*args):
            result = method(*args)
            if result is not None:  # None: not a request it decides (a lifespan scope, say)
                self.guard.checks += 1
            return result

        return counted


class CountingGuard(TicketGuard):
    """A TicketGuard counting the identifications it makes (by the compiled decision when
    its factory is compiled, by the Python rules otherwise)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.checks = 0
        if self._core is not None:
            self._core = _CountingCore(self, self._core)
        if self._direct is not None:
            self._direct = _CountingCore(self, self._direct)

    def _identify_result(self, *args, **kwargs):
        self.checks += 1
        return super()._identify_result(*args, **kwargs)


def placeholder_guard():
    return TicketGuard(TicketFactory(SECRET), secure=False)


# -- servers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=UVICORN_PARSERS)
def http(request):
    if request.param == "httptools":
        pytest.importorskip("httptools")
    return request.param


@pytest.fixture(scope="module", params=MODES)
def middleware(request):
    """The module's served Stack (named as the shared AdapterTests expect)."""
    return Stack(request.param, placeholder_guard())


@pytest.fixture(scope="module")
def server(middleware, http):
    srv = UvicornServer(middleware.asgi, http=http)
    yield srv
    srv.stop()


@pytest.fixture(params=MODES)
def stack(request):
    """A fresh in-process Stack, for TestClient tests."""
    return Stack(request.param, placeholder_guard())


def client_for(stack):
    return TestClient(stack.asgi, follow_redirects=False)


# -- real servers ----------------------------------------------------------------------------


class TestAdapter(AdapterTests):
    """The walk (login -> protected -> reissue -> rotated secret -> logout -> refused), bad
    cookies, trusted proxy and 0.1.4 cookies: every adapter's tests, here on uvicorn with h11
    and with httptools, the app's dependencies alone or behind the middleware."""

    trusted_proxies = ("127.0.0.0/8",)
    legacy_user_data = "u"
    legacy_body = "legacy|ok||u"


def test_server_runs_the_chosen_http_implementation(server, http):
    expected = {"h11": "H11Protocol", "httptools": "HttpToolsProtocol"}[http]
    assert server.server.config.http_protocol_class.__name__ == expected


def test_dependencies_refuse_on_unprotected_paths(server, middleware, core, kind):
    """No guard path rule: the dependencies alone give 401 (WWW-Authenticate: APIKey) and 403."""
    middleware.guard = make_guard(core, kind, protect=None)
    guard = middleware.guard
    status, headers, body = raw_get(server.port, "/me")
    assert (status, headers["WWW-Authenticate"], headers["Cache-Control"]) == (401, "APIKey", "no-store")
    assert body == '{"detail":"Not authenticated"}'
    plain = ("Cookie", guard.remember("bob", ("staff",)).split(";")[0])
    admin = ("Cookie", guard.remember("ann", ("staff", "admin"), "d").split(";")[0])
    assert raw_get(server.port, "/me", [plain])[:3:2] == (200, "bob|ok|staff|")
    status, headers, body = raw_get(server.port, "/staff", [plain])
    assert (status, headers["Cache-Control"], body) == (403, "no-store", '{"detail":"Forbidden"}')
    assert "WWW-Authenticate" not in headers
    assert raw_get(server.port, "/staff", [admin])[:3:2] == (200, "ann|ok|staff,admin|d")
    assert raw_get(server.port, "/open")[:3:2] == (200, "-|no cookie||")


@pytest.mark.parametrize("case", BAD_COOKIE_CASES)
def test_hostile_cookie_is_401_never_500(server, middleware, core, kind, case):
    """A hostile, duplicated or expired cookie: 401 from require_identity (no guard path
    rule), anonymous for current_identity; never a server error."""
    clock = Clock()
    middleware.guard = make_guard(core, kind, clock, protect=None, bind_ip=True)
    header = ("Cookie", bad_cookie_headers(core, kind, clock)[case])
    status, headers, _ = raw_get(server.port, "/me", [header])
    assert (status, headers["WWW-Authenticate"]) == (401, "APIKey")
    assert raw_get(server.port, "/staff", [header])[0] == 401
    status, _, body = raw_get(server.port, "/open", [header])
    user, reason = body.split("|")[:2]
    assert (status, user) == (200, "-")
    assert reason not in ("ok", "?")


# Two more bad cookies, which a server's parser may refuse itself (400) before the application.
@pytest.mark.parametrize("case", ["control-chars", "empty"])
def test_more_bad_cookies_are_refused(server, middleware, core, kind, case):
    check_bad_cookie(server.port, middleware, core, kind, case, server_may_refuse=True)


def test_login_binds_the_client_address(server, middleware, core, kind):
    middleware.guard = make_guard(core, kind, protect=None, bind_ip=True)
    _, headers, _ = raw_get(server.port, "/login?user=pat")
    (cookie,) = headers.get_all("set-cookie")
    ticket = cookie_value(cookie)
    assert make_factory(core, kind).validate(ticket, client_ip="127.0.0.1").user_id == "pat"
    assert raw_get(server.port, "/me", [("Cookie", f"auth_tkt={ticket}")])[:3:2] == (200, "pat|ok||")


def test_login_behind_a_trusted_proxy(server, middleware, core, kind):
    """login binds the ticket to the client a trusted proxy forwards (the rightmost untrusted
    hop), as the guard reads it; without the header the client is the peer."""
    middleware.guard = make_guard(core, kind, protect=None, bind_ip=True, trusted_proxies=["127.0.0.0/8"])
    forwarded = ("X-Forwarded-For", "198.51.100.1, 203.0.113.9")
    _, headers, _ = raw_get(server.port, "/login?user=pat", [forwarded])
    ticket = cookie_value(headers.get_all("set-cookie")[0])
    assert make_factory(core, kind).validate(ticket, client_ip="203.0.113.9").user_id == "pat"
    cookie = ("Cookie", f"auth_tkt={ticket}")
    assert raw_get(server.port, "/me", [cookie, forwarded])[:3:2] == (200, "pat|ok||")
    assert raw_get(server.port, "/me", [cookie])[0] == 401


def test_websocket_handshake(server, middleware, core, kind):
    """A websocket route's dependency refuses the handshake (close 1008 before accept: the
    server answers 403) without a ticket or without the token, and accepts it with one."""
    clock = Clock()
    middleware.guard = make_guard(core, kind, clock, protect=None)
    base = f"ws://127.0.0.1:{server.port}"
    plain = middleware.guard.remember("wendy").split(";")[0]
    admin = middleware.guard.remember("ada", ("admin",)).split(";")[0]
    for path, cookie in (("/ws/", None), ("/ws-admin/", None), ("/ws-admin/", plain)):
        with pytest.raises(InvalidStatus) as refused:
            websockets_client.connect(
                base + path,
                additional_headers={"Cookie": cookie} if cookie else None,
                open_timeout=HTTP_TIMEOUT,
            ).close()
        assert refused.value.response.status_code == 403, (path, cookie)
    for path, cookie, user in (("/ws/", plain, "wendy"), ("/ws-admin/", admin, "ada")):
        with websockets_client.connect(
            base + path, additional_headers={"Cookie": cookie}, open_timeout=HTTP_TIMEOUT
        ) as ws:
            assert ws.recv(timeout=HTTP_TIMEOUT) == user
    # After the reissue age: the middleware adds the new ticket to the handshake response; the
    # dependencies alone cannot (FastAPI gives them no handle on it) and accept the old one.
    clock.advance(REISSUE_AFTER + 5)
    with websockets_client.connect(
        base + "/ws/", additional_headers={"Cookie": plain}, open_timeout=HTTP_TIMEOUT
    ) as ws:
        assert ws.recv(timeout=HTTP_TIMEOUT) == "wendy"
        reissued = ws.response.headers.get_all("Set-Cookie")
    assert len(reissued) == (1 if middleware.mode == "middleware" else 0)


def test_openapi_served(server, middleware):
    status, _, body = raw_get(server.port, "/openapi.json")
    assert status == 200 and '"TicketCookie"' in body
    assert raw_get(server.port, "/docs")[0] == 200


# -- in-process (TestClient) -----------------------------------------------------------------


def test_walk_in_process(stack, core, kind):
    """login -> protected -> reissue -> logout -> refused, through FastAPI's TestClient."""
    clock = Clock()
    stack.guard = make_guard(core, kind, clock, protect=None)
    with client_for(stack) as client:
        assert client.get("/me").status_code == 401
        resp = client.get("/login", params={"user": "alice", "tokens": "admin,staff", "data": "d"})
        (login,) = set_cookies(resp)
        resp = client.get("/staff")
        assert (resp.status_code, resp.text, set_cookies(resp)) == (200, "alice|ok|admin,staff|d", [])
        clock.advance(REISSUE_AFTER + 5)
        resp = client.get("/me")
        (reissued,) = set_cookies(resp)
        assert resp.status_code == 200 and cookie_value(reissued) != cookie_value(login)
        assert client.cookies.get("auth_tkt") == cookie_value(reissued)
        clock.advance(LIFETIME - 10)  # the first ticket has expired; the reissued one has not
        assert client.get("/me").status_code == 200
        resp = client.get("/logout")
        (logout,) = set_cookies(resp)
        assert "Max-Age=0" in logout
        assert client.get("/me").status_code == 401
        first = {"Cookie": f"auth_tkt={cookie_value(login)}"}
        assert client.get("/me", headers=first).status_code == 401
        assert client.get("/open", headers=first).text == "-|expired||"


def test_one_guard_check_per_request(stack, core):
    """Three dependencies in one request: one check (the middleware's, or the first
    dependency's), and a reissued ticket sent once."""
    clock = Clock()
    guard = CountingGuard(
        make_factory(core, "ticket"), secure=False, clock=clock, reissue_after=REISSUE_AFTER
    )
    stack.guard = guard
    cookie = guard.remember("ann", ("admin",)).split(";")[0]
    with client_for(stack) as client:
        resp = client.get("/both", headers={"Cookie": cookie})
        assert (resp.status_code, resp.text, guard.checks) == (200, "ann|ok|admin|", 1)
        clock.advance(REISSUE_AFTER + 5)
        resp = client.get("/both", headers={"Cookie": cookie})
        assert (resp.status_code, guard.checks) == (200, 2)
        assert len(set_cookies(resp)) == 1


def test_login_replaces_a_pending_reissue(stack, core, kind):
    """A view logging in again while the request's ticket is due for reissue sends one cookie:
    its own."""
    clock = Clock()
    stack.guard = make_guard(core, kind, clock, protect=None)
    cookie = stack.guard.remember("bob").split(";")[0]
    clock.advance(REISSUE_AFTER + 5)
    with client_for(stack) as client:
        assert len(set_cookies(client.get("/me", headers={"Cookie": cookie}))) == 1  # due for reissue
        resp = client.get("/relogin", headers={"Cookie": cookie})
        (only,) = set_cookies(resp)
        assert stack.guard.check(only.split(";")[0]).identity.user_id == "bob2"


def test_login_on_a_returned_response(stack, core, kind):
    stack.guard = make_guard(core, kind, protect=None)
    with client_for(stack) as client:
        resp = client.get("/login-redirect")
        assert (resp.status_code, resp.headers["location"]) == (303, "/me")
        (cookie,) = set_cookies(resp)
        assert cookie.startswith("auth_tkt=") and "HttpOnly" in cookie
        assert client.get("/me").text == "rita|ok||"


def test_guard_login_url_redirects(stack, core):
    stack.guard = make_guard(core, "ticket", protect=None, login_url="/signin")
    plain = stack.guard.remember("bob").split(";")[0]
    with client_for(stack) as client:
        resp = client.get("/me?x=1")
        assert (resp.status_code, resp.headers["location"]) == (303, "/signin?back=%2Fme%3Fx%3D1")
        assert resp.headers["cache-control"] == "no-store"
        resp = client.get("/staff", headers={"Cookie": plain})  # logging in again would not help
        assert (resp.status_code, "location" in resp.headers) == (403, False)
        assert client.get("/open").status_code == 200


def test_guard_path_rules_apply(stack, core):
    """The guard's own protected paths refuse with or without the middleware."""
    stack.guard = make_guard(core, "ticket", protect={"/open": ("admin",)})
    plain = stack.guard.remember("bob").split(";")[0]
    with client_for(stack) as client:
        assert client.get("/open").status_code == 401
        assert client.get("/open", headers={"Cookie": plain}).status_code == 403
        assert client.get("/me", headers={"Cookie": plain}).status_code == 200


def test_security_scopes_are_required_tokens(stack, core):
    stack.guard = make_guard(core, "ticket", protect=None)
    with client_for(stack) as client:
        assert client.get("/scoped").status_code == 401
        cookie = stack.guard.remember("bob", ("admin",)).split(";")[0]
        assert client.get("/scoped", headers={"Cookie": cookie}).status_code == 403
        cookie = stack.guard.remember("sam", ("staff",)).split(";")[0]
        assert client.get("/scoped", headers={"Cookie": cookie}).text == "scoped"


def test_websocket_in_process(stack, core, kind):
    stack.guard = make_guard(core, kind, protect=None)
    with client_for(stack) as client:
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/ws/"):
            pass
        assert refused.value.code == 1008
        cookie = stack.guard.remember("wendy").split(";")[0]
        with client.websocket_connect("/ws/", headers={"Cookie": cookie}) as ws:
            assert ws.receive_text() == "wendy"
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("/ws-admin/", headers={"Cookie": cookie}),
        ):
            pass
        assert refused.value.code == 1008


# -- the OpenAPI document --------------------------------------------------------------------


def test_openapi_security(stack):
    with client_for(stack) as client:
        document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"] == {
        "TicketCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": "auth_tkt",
            "description": "A signed ticket in the auth_tkt cookie, set by the login endpoint.",
        }
    }
    security = {path: item["get"].get("security") for path, item in document["paths"].items()}
    assert security == {
        "/open": [{"TicketCookie": []}],
        "/protected/": [{"TicketCookie": []}],
        "/admin/": [{"TicketCookie": ["admin"]}],
        "/me": [{"TicketCookie": []}],
        "/staff": [{"TicketCookie": ["admin", "staff"]}],
        "/scoped": [{"TicketCookie": ["staff"]}],
        "/both": [{"TicketCookie": ["admin"]}],
        "/login": None,
        "/logout": None,
        "/relogin": [{"TicketCookie": []}],
        "/login-redirect": None,
    }
    # The scheme reads no parameter of its own: no "auth_tkt" cookie parameter is listed.
    for item in document["paths"].values():
        assert all(param["in"] != "cookie" for param in item["get"].get("parameters", []))


def test_openapi_names_the_guards_cookie_and_the_scheme():
    auth = TicketAuth(
        TicketGuard(TicketFactory(SECRET), cookie_name="sid"), scheme_name="Session", description="d"
    )
    app = FastAPI()

    @app.get("/x")
    def x(ident: Annotated[Identity, Depends(auth.require_tokens("a", "b", "a"))]) -> str:
        return ident.user_id

    document = app.openapi()
    assert document["components"]["securitySchemes"] == {
        "Session": {"type": "apiKey", "in": "cookie", "name": "sid", "description": "d"}
    }
    assert document["paths"]["/x"]["get"]["security"] == [{"Session": ["a", "b"]}]


# -- configuration ---------------------------------------------------------------------------


def test_bad_configuration_is_refused_at_construction():
    guard = placeholder_guard()
    with pytest.raises(TypeError, match="TicketGuard"):
        TicketAuth(TicketFactory(SECRET))
    with pytest.raises(TypeError, match="scheme_name"):
        TicketAuth(guard, scheme_name=None)
    with pytest.raises(ValueError, match="scheme_name"):
        TicketAuth(guard, scheme_name="")
    with pytest.raises(TypeError, match="description"):
        TicketAuth(guard, description=b"x")
    auth = TicketAuth(guard)
    with pytest.raises(ValueError, match="require_identity"):
        auth.require_tokens()
    with pytest.raises(TypeError, match="not a list"):
        auth.require_tokens(["admin"])
    with pytest.raises(ValueError, match="non-empty"):
        auth.require_tokens("")
    with pytest.raises(ValueError, match="cookie_name"):
        auth.guard = TicketGuard(TicketFactory(SECRET), cookie_name="other")
    with pytest.raises(TypeError, match="TicketGuard"):
        auth.guard = None
    auth.guard = TicketGuard(TicketFactory(b"another secret"))  # same cookie: fine
    bound = TicketAuth(TicketGuard(TicketFactory(SECRET), bind_ip=True))
    with pytest.raises(TypeError, match="request=request"):
        bound.login(Response(), "alice")
    with pytest.raises(TypeError, match="not a str"):
        auth.login(Response(), "alice", tokens="admin")


def test_reprs_show_no_secret():
    auth = TicketAuth(TicketGuard(TicketFactory(SECRET)))
    for text in (repr(auth), repr(auth.require_identity), repr(auth.current_identity)):
        assert SECRET.decode() not in text
        assert "auth_tkt" in text


def test_login_and_logout_on_plain_starlette_responses():
    guard = placeholder_guard()
    auth = TicketAuth(guard)
    response = PlainTextResponse("x")
    response.headers.append("set-cookie", "other=1; Path=/")
    assert auth.login(response, "alice", ("a",)) is response
    assert auth.logout(response) is response
    cookies = response.headers.getlist("set-cookie")
    assert cookies == ["other=1; Path=/", guard.forget()]


def test_import_ticket_auth_loads_no_framework():
    code = (
        "import sys, ticket_auth, ticket_auth.guard, ticket_auth.guard.asgi\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'starlette', 'pydantic', 'anyio', 'ticket_auth.fastapi'))\n"
        "assert not bad and 'ticket_auth.fastapi' not in sys.modules, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_middleware_with_another_guard(core):
    """Behind a middleware with another guard (another cookie), the dependencies check their
    own guard once per request and leave the middleware's decision in the scope."""
    outer = make_guard(core, "ticket", protect=None)
    inner = CountingGuard(make_factory(core, "authtkt"), cookie_name="sid", secure=False)
    auth = TicketAuth(inner, scheme_name="Sid")
    app = build_app(auth)
    cookies = "; ".join(
        [outer.remember("outer").split(";")[0], inner.remember("inner", ("admin",)).split(";")[0]]
    )
    with TestClient(TicketAuthMiddleware(app, outer)) as client:
        resp = client.get("/both", headers={"Cookie": cookies})
    # The user is the dependencies' (sid); the reason shown is the middleware's decision.
    assert (resp.status_code, resp.text, inner.checks) == (200, "inner|ok|admin|", 1)


# -- the guide -------------------------------------------------------------------------------

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guides" / "starlette-fastapi.md"
FENCE = re.compile(r"^```(\S*)[^\n]*\n(.*?)^```\s*$", re.M | re.S)


def test_guide_runs_as_written():
    """docs/guides/starlette-fastapi.md: its ```python blocks, top to bottom in one namespace
    (not as __main__, so the block that starts uvicorn does not run)."""
    text = GUIDE.read_text(encoding="utf-8")
    blocks = [match for match in FENCE.finditer(text) if match.group(1) == "python"]
    assert len(blocks) >= 5
    namespace = {"__name__": "guide_example"}
    for match in blocks:
        line = text.count("\n", 0, match.start()) + 2
        exec(compile(match.group(2), f"{GUIDE.name}, block at line {line}", "exec"), namespace)  # noqa: S102
    assert namespace["document"]["paths"]["/me"]["get"]["security"] == [{"TicketCookie": []}]


def test_websocket_origin(stack, core):
    """A handshake from another site's page is refused even with the user's cookie (by the
    dependencies when no middleware checked it); the same origin, and no Origin, go on."""
    stack.guard = make_guard(core, "ticket", protect=None)
    cookie = stack.guard.remember("wendy").split(";")[0]
    with client_for(stack) as client:
        for origin in ("https://evil.example", "http://testserver.evil.example", "null"):
            with (
                pytest.raises(WebSocketDisconnect) as refused,
                client.websocket_connect("/ws/", headers={"Cookie": cookie, "Origin": origin}),
            ):
                pass
            assert refused.value.code == 1008, origin
        for headers in ({"Cookie": cookie, "Origin": "http://testserver"}, {"Cookie": cookie}):
            with client.websocket_connect("/ws/", headers=headers) as ws:
                assert ws.receive_text() == "wendy"
    stack.guard = make_guard(core, "ticket", protect=None, allowed_origins=["https://app.example"])
    with client_for(stack) as client:
        with client.websocket_connect(
            "/ws/", headers={"Cookie": cookie, "Origin": "https://app.example"}
        ) as ws:
            assert ws.receive_text() == "wendy"


def test_secure_cookie_over_plain_http_warns_once(stack, core):
    """login and the reissue tell the guard the transport: a Secure cookie set over http:// to
    a host that is not local gives one InsecureCookieWarning per guard."""
    clock = Clock()
    stack.guard = make_guard(core, "ticket", clock, protect=None, secure=True)
    with client_for(stack) as client:
        with pytest.warns(InsecureCookieWarning):
            client.get("/login", params={"user": "alice"})
        cookie = stack.guard.remember("bob").split(";")[0]
        clock.advance(REISSUE_AFTER + 5)
        with warnings.catch_warnings():
            warnings.simplefilter("error", InsecureCookieWarning)
            assert len(set_cookies(client.get("/me", headers={"Cookie": cookie}))) == 1  # warned already
    stack.guard = make_guard(core, "ticket", clock, protect=None, secure=True)
    cookie = stack.guard.remember("bob").split(";")[0]
    clock.advance(REISSUE_AFTER + 5)
    with client_for(stack) as client, pytest.warns(InsecureCookieWarning):
        assert len(set_cookies(client.get("/me", headers={"Cookie": cookie}))) == 1


@pytest.mark.parametrize("mode", MODES)
def test_guard_path_rules_under_a_root_path(core, mode):
    """FastAPI(root_path=...): the guard's protect prefixes match the path the router routes
    on, whether the dependencies or the middleware ask the guard."""
    guard = make_guard(core, "ticket", protect={"/admin/": ("admin",)})
    auth = TicketAuth(guard)
    app = FastAPI(root_path="/api")

    @app.get("/admin/x")
    async def admin_x(ident: Annotated[Identity | None, Depends(auth.current_identity)]) -> str:
        return ident.user_id

    asgi = TicketAuthMiddleware(app, guard) if mode == "middleware" else app
    plain = {"Cookie": guard.remember("bob").split(";")[0]}
    admin = {"Cookie": guard.remember("ann", ("admin",)).split(";")[0]}
    with TestClient(asgi) as client:
        for path in ("/admin/x", "/api/admin/x", "/api/./admin/x"):
            assert client.get(path).status_code == 401, path
            assert client.get(path, headers=plain).status_code == 403, path
            assert client.get(path, headers=admin).json() == "ann", path
