"""The aiohttp guard on aiohttp's own server, httpx over 127.0.0.1, for both cores and both
ticket formats; and aiohttp_auth (running on ticket_auth 0.1.4) sharing its logins with it."""

import httpx
import pytest

from _guard_helpers import (
    HTTP_TIMEOUT,
    LIFETIME,
    SECRET,
    AdapterTests,
    AiohttpServer,
    Clock,
    make_factory,
    make_guard,
    raw_get,
    server_fixture,
)

web = pytest.importorskip("aiohttp.web")

# aiohttp_auth (2017) keys the request's storage with strings, which current aiohttp warns of.
pytestmark = [
    pytest.mark.slow,  # a real server (aiohttp): the slow tier
    pytest.mark.filterwarnings("ignore:It is recommended to use web.RequestKey"),
]

import _aiohttp_auth  # noqa: E402
from ticket_auth import TicketFactory  # noqa: E402
from ticket_auth.guard import TicketGuard  # noqa: E402
from ticket_auth.guard.aiohttp import TicketAuthMiddleware, check_result, forget, identity, remember  # noqa: E402


async def whoami(request):
    ident = identity(request)
    user = ident.user_id if ident else "-"
    tokens = ",".join(ident.tokens) if ident else ""
    return web.Response(
        text=f"{user}|{check_result(request).reason}|{tokens}|{ident.user_data if ident else ''}"
    )


async def login(request):
    query = request.query
    tokens = tuple(t for t in query.get("tokens", "").split(",") if t)
    response = web.Response(text="logged in")
    remember(request, response, query["user"], tokens, query.get("data", ""))
    return response


async def logout(request):
    response = web.Response(text="logged out")
    forget(request, response)
    return response


async def forbidden(request):
    raise web.HTTPForbidden(text="nope")


def make_app(middleware):
    app = web.Application(middlewares=[middleware])
    for path in ("/open", "/protected/", "/protected/{rest:.*}", "/admin/"):
        app.router.add_get(path, whoami)
    app.router.add_get("/login", login)
    app.router.add_get("/logout", logout)
    app.router.add_get("/raises", forbidden)
    return app


@pytest.fixture(scope="module")
def middleware():
    return TicketAuthMiddleware(TicketGuard(TicketFactory(SECRET)))


server = server_fixture(lambda middleware: AiohttpServer(make_app(middleware)))


class TestAdapter(AdapterTests):
    """The tests every adapter takes alike."""

    trusted_proxies = ("127.0.0.1/32",)
    legacy_body = "legacy|ok||"


def test_tokens_redirect_and_attributes(server, middleware, core, kind):
    middleware.guard = TicketGuard(
        make_factory(core, kind), protect={"/admin/": ("admin",)}, login_url="/login"
    )
    guard = middleware.guard
    _, headers, _ = raw_get(server.port, "/login?user=zoe")
    (header,) = headers.get_all("set-cookie")
    assert header == f"{header.split(';')[0]}; Path=/; Secure; HttpOnly; SameSite=Lax"
    status, headers, _ = raw_get(server.port, "/admin/?q=1")
    assert (status, headers["Location"]) == (303, "/login?back=%2Fadmin%2F%3Fq%3D1")
    plain = guard.remember("bob").split(";")[0]
    assert raw_get(server.port, "/admin/", [("Cookie", plain)])[0] == 403  # a missing token: no redirect
    admin = guard.remember("ann", ("admin",)).split(";")[0]
    assert raw_get(server.port, "/admin/", [("Cookie", admin)])[:3:2] == (200, "ann|ok|admin|")


def test_reissue_added_to_raised_http_exception(server, middleware, core, kind):
    clock = Clock()
    middleware.guard = make_guard(core, kind, clock)
    cookie = middleware.guard.remember("rita").split(";")[0]
    clock.advance(700)
    status, headers, _ = raw_get(server.port, "/raises", [("Cookie", cookie)])
    assert status == 403
    assert len(headers.get_all("set-cookie")) == 1


# -- aiohttp_auth on 0.1.4: switching without logging anyone out ---------------------------


@pytest.fixture(scope="module")
def aiohttp_auth(ta014):
    module, error = _aiohttp_auth.load(ta014)
    if module is None:
        pytest.fail(f"aiohttp_auth could not be loaded: {error}", pytrace=False)
    return module


@pytest.fixture(scope="module", params=[False, True], ids=["ip-free", "include-ip"])
def legacy_server(request, aiohttp_auth):
    """An aiohttp_auth application (CookieTktAuthentication on 0.1.4)."""
    include_ip = request.param
    policy = aiohttp_auth.auth.CookieTktAuthentication(
        SECRET, LIFETIME, reissue_time=60, include_ip=include_ip
    )

    async def legacy_login(req):
        await aiohttp_auth.auth.remember(req, req.query["user"])
        return web.Response(text="logged in")

    async def legacy_whoami(req):
        return web.Response(text=str(await aiohttp_auth.auth.get_auth(req)))

    app = web.Application(middlewares=[_aiohttp_auth.middleware(aiohttp_auth, policy)])
    app.router.add_get("/login", legacy_login)
    app.router.add_get("/whoami", legacy_whoami)
    srv = AiohttpServer(app)
    yield srv, include_ip
    srv.stop()


def test_aiohttp_auth_logins_survive_the_switch(server, middleware, legacy_server, core):
    legacy, include_ip = legacy_server
    middleware.guard = make_guard(core, "ticket", cookie_name="AUTH_TKT", bind_ip=include_ip)
    with httpx.Client(timeout=HTTP_TIMEOUT) as client:
        resp = client.get(f"http://127.0.0.1:{legacy.port}/login", params={"user": "old-user@example.com"})
        assert resp.status_code == 200
        cookie = client.cookies.get("AUTH_TKT")
        assert cookie
        assert client.get(f"http://127.0.0.1:{legacy.port}/whoami").text == "old-user@example.com"
        resp = client.get(
            f"http://127.0.0.1:{server.port}/protected/", headers={"Cookie": f"AUTH_TKT={cookie}"}
        )
        assert (resp.status_code, resp.text) == (200, "old-user@example.com|ok||")
        # ... and the other way: aiohttp_auth reads the guard's cookie (with tokens: quoted).
        ours = middleware.guard.remember("new-user", ("a", "b"), peer="127.0.0.1").split(";")[0]
        resp = client.get(f"http://127.0.0.1:{legacy.port}/whoami", headers={"Cookie": ours})
        assert resp.text == "new-user"
