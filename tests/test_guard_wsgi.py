"""The WSGI guard on a real server: waitress serving a Flask app, httpx over 127.0.0.1, for
both cores and both ticket formats."""

import pytest

from _guard_helpers import (
    SECRET,
    AdapterTests,
    WaitressServer,
    make_factory,
    make_guard,
    raw_get,
    server_fixture,
)

pytestmark = pytest.mark.slow  # a real server (waitress): the slow tier

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


server = server_fixture(WaitressServer)


class TestAdapter(AdapterTests):
    """The tests every adapter takes alike."""

    trusted_proxies = ("127.0.0.1",)
    legacy_user_data = "u"
    legacy_body = "legacy|ok||u|legacy"


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
