"""The WSGI guard on a real server: waitress serving a Flask app, httpx over 127.0.0.1, for
both cores and both ticket formats."""

import time

import pytest

from _guard_helpers import (
    KINDS,
    LIFETIME,
    SECRET,
    Clock,
    WaitressServer,
    bad_cookie_headers,
    make_factory,
    make_guard,
    raw_get,
    walk,
)

pytest.importorskip("waitress")
flask = pytest.importorskip("flask")

from ticket_auth import TicketFactory  # noqa: E402
from ticket_auth.guard import TicketGuard  # noqa: E402
from ticket_auth.guard.wsgi import TicketAuthMiddleware, forget, identity, remember  # noqa: E402

app = flask.Flask(__name__)


@app.route("/open")
@app.route("/protected/")
@app.route("/protected/<path:rest>")
@app.route("/admin/")
def whoami(rest=None):
    environ = flask.request.environ
    ident = identity(environ)
    user = ident.user_id if ident else "-"
    tokens = ",".join(ident.tokens) if ident else ""
    data = ident.user_data if ident else ""
    remote = environ.get("REMOTE_USER", "")
    return f"{user}|{environ['ticket_auth'].reason}|{tokens}|{data}|{remote}"


@app.route("/login")
def login():
    args = flask.request.args
    tokens = tuple(t for t in args.get("tokens", "").split(",") if t)
    response = flask.make_response("logged in")
    response.headers.add(
        "Set-Cookie", remember(flask.request.environ, args["user"], tokens, args.get("data", ""))
    )
    return response


@app.route("/logout")
def logout():
    response = flask.make_response("logged out")
    response.headers.add("Set-Cookie", forget(flask.request.environ))
    return response


@pytest.fixture(scope="module")
def middleware():
    return TicketAuthMiddleware(app.wsgi_app, TicketGuard(TicketFactory(SECRET)))


@pytest.fixture(scope="module")
def server(middleware):
    srv = WaitressServer(middleware)
    yield srv
    srv.stop()


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


def test_walk(server, middleware, core, kind):
    walk(server.port, middleware, core, kind)


def test_remote_user_and_tokens(server, middleware, core, kind):
    middleware.guard = make_guard(core, kind)
    cookie = middleware.guard.remember("ann", ("staff", "admin"), "d").split(";")[0]
    status, _, body = raw_get(server.port, "/admin/", [("Cookie", cookie), ("Remote-User", "root")])
    assert (status, body) == (200, "ann|ok|staff,admin|d|ann")
    plain = middleware.guard.remember("bob").split(";")[0]
    assert raw_get(server.port, "/admin/", [("Cookie", plain)])[0] == 403
    # Anonymous: no REMOTE_USER, whatever a client sends.
    status, _, body = raw_get(server.port, "/open", [("Remote-User", "root")])
    assert (status, body) == (200, "-|no cookie|||")


def test_set_cookie_attributes_exact(server, middleware, core):
    middleware.guard = TicketGuard(make_factory(core, "authtkt"), domain="example.org")
    _, headers, _ = raw_get(server.port, "/login?user=zoe")
    (header,) = headers.get_all("set-cookie")
    value = header.split(";")[0].partition("=")[2]
    assert header == f"auth_tkt={value}; Path=/; Domain=example.org; Secure; HttpOnly; SameSite=Lax"


def test_redirect_with_back_link(server, middleware, core):
    middleware.guard = make_guard(core, "ticket", login_url="/login")
    status, headers, _ = raw_get(server.port, "/protected/%C3%A9?a=b")
    assert (status, headers["Location"]) == (303, "/login?back=%2Fprotected%2F%25C3%25A9%3Fa%3Db")
    status, headers, _ = raw_get(server.port, "/protected/100%25")
    assert (status, headers["Location"]) == (303, "/login?back=%2Fprotected%2F100%2525")


def test_trusted_proxy_header(server, middleware, core, kind):
    middleware.guard = make_guard(core, kind, bind_ip=True, trusted_proxies=["127.0.0.1"])
    ticket = make_factory(core, kind).new("pat", client_ip="203.0.113.9")
    cookie = ("Cookie", f"auth_tkt={ticket}")
    assert raw_get(server.port, "/protected/", [cookie, ("X-Forwarded-For", "203.0.113.9")])[0] == 200
    assert raw_get(server.port, "/protected/", [cookie])[0] == 401
    middleware.guard = make_guard(core, kind, bind_ip=True)  # no trusted proxy: the header is ignored
    assert raw_get(server.port, "/protected/", [cookie, ("X-Forwarded-For", "203.0.113.9")])[0] == 401


@pytest.mark.parametrize(
    "case",
    [
        "malformed",
        "bad-quoting",
        "oversized",
        "forged",
        "expired",
        "wrong-address",
        "duplicated",
        "not-latin-1",
    ],
)
def test_bad_cookies_are_anonymous(server, middleware, core, kind, case):
    clock = Clock()
    middleware.guard = make_guard(core, kind, clock, bind_ip=True)
    header = bad_cookie_headers(core, kind, clock)[case]
    status, _, body = raw_get(server.port, "/open", [("Cookie", header)])
    assert status == 200
    assert body.split("|")[0] == "-"
    assert body.split("|")[1] != "ok"
    assert raw_get(server.port, "/protected/", [("Cookie", header)])[0] == 401


def test_014_cookie_accepted(server, middleware, core, ta014):
    middleware.guard = make_guard(core, "ticket")
    ticket = ta014.TicketFactory(SECRET).new("legacy", user_data="u", valid_until=int(time.time()) + LIFETIME)
    status, _, body = raw_get(server.port, "/protected/", [("Cookie", f"auth_tkt={ticket}")])
    assert (status, body) == (200, "legacy|ok||u|legacy")
