"""The ASGI guard on a real server: uvicorn serving a Starlette app, httpx and websockets
clients over 127.0.0.1, for both cores and both ticket formats; and a real Apache with
mod_auth_tkt sharing the login with it."""

import asyncio
import base64
import time

import httpx
import pytest

from _guard_helpers import (
    HTTP_TIMEOUT,
    LIFETIME,
    SECRET,
    UVICORN_PARSERS,
    AdapterTests,
    Clock,
    UvicornServer,
    check_bad_cookie,
    cookie_value,
    make_factory,
    make_guard,
    raw_get,
    server_fixture,
)
from apache.server import apache_server  # noqa: F401

pytestmark = pytest.mark.slow  # real servers (uvicorn, Apache): the slow tier

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")
websockets_client = pytest.importorskip("websockets.sync.client")

from starlette.applications import Starlette  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402
from starlette.routing import Route, WebSocketRoute  # noqa: E402
from websockets.exceptions import InvalidStatus  # noqa: E402

from ticket_auth.guard import TicketGuard  # noqa: E402
from ticket_auth.guard.asgi import TicketAuthMiddleware, forget, identity, remember  # noqa: E402


def whoami(request):
    ident = identity(request.scope)
    result = request.scope["ticket_auth"]
    user = ident.user_id if ident else "-"
    tokens = ",".join(ident.tokens) if ident else ""
    return PlainTextResponse(f"{user}|{result.reason}|{tokens}|{ident.user_data if ident else ''}")


def login(request):
    tokens = tuple(t for t in request.query_params.get("tokens", "").split(",") if t)
    response = PlainTextResponse("logged in")
    response.headers.append(
        "set-cookie",
        remember(request.scope, request.query_params["user"], tokens, request.query_params.get("data", "")),
    )
    return response


def logout(request):
    response = PlainTextResponse("logged out")
    response.headers.append("set-cookie", forget(request.scope))
    return response


def crash(request):
    raise RuntimeError("never reached for a refused request")


async def ws_endpoint(websocket):
    await websocket.accept()
    ident = identity(websocket.scope)
    await websocket.send_text(ident.user_id if ident else "-")
    await websocket.close()


starlette_app = Starlette(
    routes=[
        Route("/open", whoami),
        Route("/protected/", whoami),
        Route("/protected/{rest:path}", whoami),
        Route("/admin/", whoami),
        Route("/login", login),
        Route("/logout", logout),
        WebSocketRoute("/ws/", ws_endpoint),
    ]
)


@pytest.fixture(scope="module")
def middleware():
    return TicketAuthMiddleware(starlette_app, TicketGuard(make_factory_placeholder()))


def make_factory_placeholder():
    from ticket_auth import TicketFactory

    return TicketFactory(SECRET)


server = server_fixture(UvicornServer)


class TestAdapter(AdapterTests):
    """The tests every adapter takes alike."""

    trusted_proxies = ("127.0.0.0/8",)
    legacy_user_data = "u"
    legacy_body = "legacy|ok||u"


def test_set_cookie_attributes_exact(server, middleware, core):
    middleware.guard = TicketGuard(make_factory(core, "authtkt"), cookie_name="sid")
    status, headers, _ = raw_get(server.port, "/login?user=zoe")
    assert status == 200
    (header,) = headers.get_all("set-cookie")
    value = cookie_value(header)
    assert header == f"sid={value}; Path=/; Secure; HttpOnly; SameSite=Lax"
    _, headers, _ = raw_get(server.port, "/logout")
    assert headers.get_all("set-cookie") == [
        "sid=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; SameSite=Lax"
    ]
    middleware.guard = TicketGuard(
        make_factory(core, "ticket"),
        secure=False,
        samesite="Strict",
        httponly=False,
        domain="example.org",
        path="/app",
        max_age=600,
    )
    _, headers, _ = raw_get(server.port, "/login?user=zoe")
    (header,) = headers.get_all("set-cookie")
    assert (
        header
        == f"auth_tkt={cookie_value(header)}; Path=/app; Domain=example.org; Max-Age=600; SameSite=Strict"
    )


def test_tokens_required(server, middleware, core, kind):
    middleware.guard = make_guard(core, kind)
    guard = middleware.guard
    plain = guard.remember("bob").split(";")[0]
    admin = guard.remember("ann", ("staff", "admin")).split(";")[0]
    assert raw_get(server.port, "/admin/", [("Cookie", plain)])[0] == 403
    status, _, body = raw_get(server.port, "/admin/", [("Cookie", admin)])
    assert (status, body) == (200, "ann|ok|staff,admin|")
    assert raw_get(server.port, "/protected/", [("Cookie", plain)])[0] == 200


def test_redirect_with_back_link(server, middleware, core):
    middleware.guard = make_guard(core, "ticket", login_url="https://login.example.org/login?app=1")
    status, headers, _ = raw_get(server.port, "/protected/a%20b/c?x=1&y=%C3%A9")
    assert status == 303
    assert headers["Location"] == (
        "https://login.example.org/login?app=1&back=%2Fprotected%2Fa%2520b%2Fc%3Fx%3D1%26y%3D%25C3%25A9"
    )
    # The back link never comes from the Host header; with public_origin it is absolute.
    middleware.guard = make_guard(core, "ticket", login_url="/login", public_origin="https://app.example.org")
    status, headers, _ = raw_get(server.port, "/protected/", [("Host", "evil.example")])
    assert (status, headers["Location"]) == (303, "/login?back=https%3A%2F%2Fapp.example.org%2Fprotected%2F")
    # A missing token is a 403 even with login_url (logging in again would not help).
    cookie = middleware.guard.remember("bob").split(";")[0]
    status, headers, _ = raw_get(server.port, "/admin/", [("Cookie", cookie)])
    assert (status, headers["Location"]) == (403, None)


def test_trusted_proxy_login_and_hops(server, middleware, core, kind):
    middleware.guard = make_guard(core, kind, bind_ip=True, trusted_proxies=["127.0.0.0/8"])
    forwarded = [("X-Forwarded-For", "198.51.100.1, 203.0.113.9")]
    _status, headers, _ = raw_get(server.port, "/login?user=pat", forwarded)
    cookie = headers.get_all("set-cookie")[0].split(";")[0]
    info = make_factory(core, kind).validate(cookie.partition("=")[2], client_ip="203.0.113.9")
    assert info.user_id == "pat"
    assert raw_get(server.port, "/protected/", [("Cookie", cookie), *forwarded])[2].startswith("pat|ok")
    # Without the header, the client is the peer (127.0.0.1): not the address bound.
    assert raw_get(server.port, "/protected/", [("Cookie", cookie)])[0] == 401
    # Spoofed entries left of the last trusted hop do not matter.
    assert (
        raw_get(
            server.port, "/protected/", [("Cookie", cookie), ("X-Forwarded-For", "1.1.1.1, 203.0.113.9")]
        )[0]
        == 200
    )


def test_untrusted_proxy_header_ignored(server, middleware, core, kind):
    middleware.guard = make_guard(core, kind, bind_ip=True, trusted_proxies=["10.0.0.0/8"])
    spoofed = make_factory(core, kind).new("mallory", client_ip="203.0.113.9")
    headers = [("Cookie", f"auth_tkt={spoofed}"), ("X-Forwarded-For", "203.0.113.9")]
    status, _, _body = raw_get(server.port, "/protected/", headers)
    assert status == 401
    # A login through the untrusted "proxy" binds to the peer, 127.0.0.1.
    _, resp_headers, _ = raw_get(server.port, "/login?user=pat", [("X-Forwarded-For", "203.0.113.9")])
    cookie = resp_headers.get_all("set-cookie")[0].split(";")[0].partition("=")[2]
    assert make_factory(core, kind).validate(cookie, client_ip="127.0.0.1").user_id == "pat"


def test_ipv4_mapped_client(middleware, core, kind):
    """A dual-stack server sees an IPv4 client as ::ffff:127.0.0.1: the guard binds and checks
    the ticket to 127.0.0.1, so a ticket minted for 127.0.0.1 elsewhere is accepted."""
    try:
        srv = UvicornServer(middleware, dual_stack=True)
    except OSError as exc:  # a kernel without IPv6
        pytest.skip(f"no dual-stack socket on ::ffff:127.0.0.1 here: {exc}")
    try:
        middleware.guard = make_guard(core, kind, bind_ip=True)
        _, headers, _ = raw_get(srv.port, "/login?user=v4")
        cookie = headers.get_all("set-cookie")[0].split(";")[0].partition("=")[2]
        assert make_factory(core, kind).validate(cookie, client_ip="127.0.0.1").user_id == "v4"
        elsewhere = make_factory(core, kind).new("v4b", client_ip="127.0.0.1")
        status, _, body = raw_get(srv.port, "/protected/", [("Cookie", f"auth_tkt={elsewhere}")])
        assert (status, body.split("|")[0]) == (200, "v4b")
    finally:
        srv.stop()


def test_websocket_handshake(server, middleware, core, kind):
    clock = Clock()
    middleware.guard = make_guard(core, kind, clock)
    url = f"ws://127.0.0.1:{server.port}/ws/"
    with pytest.raises(InvalidStatus) as refused:
        websockets_client.connect(url, open_timeout=HTTP_TIMEOUT).close()
    assert refused.value.response.status_code == 403
    cookie = middleware.guard.remember("wendy").split(";")[0]
    with websockets_client.connect(
        url, additional_headers={"Cookie": cookie}, open_timeout=HTTP_TIMEOUT
    ) as ws:
        assert ws.recv(timeout=HTTP_TIMEOUT) == "wendy"
        assert ws.response.headers.get_all("Set-Cookie") == []
    clock.advance(700)  # past the reissue age: the handshake response carries the new cookie
    with websockets_client.connect(
        url, additional_headers={"Cookie": cookie}, open_timeout=HTTP_TIMEOUT
    ) as ws:
        assert ws.recv(timeout=HTTP_TIMEOUT) == "wendy"
        (reissued,) = ws.response.headers.get_all("Set-Cookie")
        assert reissued.startswith("auth_tkt=") and cookie_value(reissued) != cookie.partition("=")[2]


@pytest.fixture(scope="module", params=UVICORN_PARSERS)
def parser_server(request, middleware):
    """The same app under uvicorn with each HTTP parser, for the tests about what the parser
    lets through."""
    srv = UvicornServer(middleware, http=request.param)
    yield srv
    srv.stop()


# Two more bad cookies, tried through this server only, with both parsers: httptools refuses
# a control character itself (400, the app never runs), h11 hands it to the guard.
@pytest.mark.parametrize("case", ["control-chars", "empty"])
def test_more_bad_cookies_are_anonymous(parser_server, middleware, core, kind, case):
    check_bad_cookie(parser_server.port, middleware, core, kind, case, server_may_refuse=True)


def test_014_quoted_cookie_accepted(server, middleware, core, ta014):
    middleware.guard = make_guard(core, "ticket")
    ticket = ta014.TicketFactory(SECRET).new(
        "legacy", tokens=["a", "b"], user_data="u", valid_until=int(time.time()) + LIFETIME
    )
    with httpx.Client(timeout=HTTP_TIMEOUT) as client:
        resp = client.get(
            f"http://127.0.0.1:{server.port}/protected/",
            headers={"Cookie": f'auth_tkt="{ticket.replace(",", chr(92) + "054")}"'},
        )
    assert (resp.status_code, resp.text) == (200, "legacy|ok|a,b|u")


# -- sharing a login with Apache mod_auth_tkt ----------------------------------------------


def test_apache_shares_the_login(apache_server, server, middleware, core):  # noqa: F811
    site = apache_server.sites["sha256"]
    factory = core.module.AuthTktFactory(site.secret, "sha256", fallback_secrets=[site.old_secret])
    middleware.guard = TicketGuard(factory, secure=False, protect={"/protected/": ()})

    # A cookie set by the ASGI app is accepted by Apache.
    _, headers, _ = raw_get(server.port, "/login?user=shared&tokens=admin&data=x")
    ours = cookie_value(headers.get_all("set-cookie")[0])
    resp = site.get("ignoreip", ours)
    assert (resp.status, resp.remote_user, resp.remote_user_tokens, resp.remote_user_data) == (
        200,
        "shared",
        "admin",
        "x",
    )
    assert site.get("token", ours).status == 200

    # A cookie minted by Apache (its reissue of a ticket signed with TKTAuthSecretOld) is
    # accepted by the ASGI app.
    old = core.module.AuthTktFactory(site.old_secret, "sha256").new("from-apache", ("t1",), "y")
    resp = site.get("ignoreip", old)
    assert resp.status == 200
    apache_cookie = resp.cookie_value()
    assert apache_cookie and apache_cookie != old
    base64.b64decode(apache_cookie, validate=True)
    status, _, body = raw_get(server.port, "/protected/", [("Cookie", f"auth_tkt={apache_cookie}")])
    assert (status, body) == (200, "from-apache|ok|t1|y")
    # ... and the old-secret ticket is accepted too, and reissued by the guard as Apache would.
    status, headers, body = raw_get(server.port, "/protected/", [("Cookie", f"auth_tkt={old}")])
    assert (status, body) == (200, "from-apache|ok|t1|y")
    assert site.get("ignoreip", cookie_value(headers.get_all("set-cookie")[0])).remote_user == "from-apache"


def test_refused_request_never_reaches_app_and_reason_is_clean(core):
    """In-process (no server): a refused request is answered by the middleware itself."""
    messages = []

    async def app(scope, receive, send):
        raise AssertionError("the application must not be called")

    guard = make_guard(core, "ticket")
    mw = TicketAuthMiddleware(app, guard)
    scope = {
        "type": "http",
        "path": "/admin/",
        "headers": [(b"cookie", b"auth_tkt=zzz")],
        "client": ("127.0.0.1", 1),
    }

    async def receive():
        return {"type": "http.request"}

    async def send(message):
        messages.append(message)

    asyncio.run(mw(scope, receive, send))
    assert messages[0]["status"] == 401
