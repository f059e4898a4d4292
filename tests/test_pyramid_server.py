"""ticket_auth.pyramid with real servers: a Pyramid app on ours and one on Pyramid's own
AuthTktCookieHelper, each served by waitress in a thread on 127.0.0.1, sharing one cookie jar
(a mixed fleet during a migration); and the Apache-correct form against a real Apache with
mod_auth_tkt (tests/apache/server.py; skipped without it unless TICKET_AUTH_REQUIRE_APACHE=1).
"""

import base64

import httpx
import pytest

from _guard_helpers import HTTP_TIMEOUT, WaitressServer
from apache.server import DIGESTS, apache_server  # noqa: F401

pyramid_authentication = pytest.importorskip("pyramid.authentication", reason="pyramid is not installed")
ticket_pyramid = pytest.importorskip("ticket_auth.pyramid")

from pyramid.authorization import ALL_PERMISSIONS, ACLHelper, Allow, Authenticated, Deny, Everyone  # noqa: E402
from pyramid.config import Configurator  # noqa: E402
from pyramid.security import forget, remember  # noqa: E402

pytestmark = [
    pytest.mark.slow,  # real servers (waitress, Apache): the slow tier
    pytest.mark.filterwarnings("ignore:Cookie value contains invalid bytes:RuntimeWarning"),
]

SECRET = "pyramid fleet secret: 61aa"
GROUPS = {"alice@example.com": ["group:editors"], "Jörg Müller": ["group:editors"], "bob": []}


class PyramidsPolicy:
    """The security policy Pyramid's documentation builds on AuthTktCookieHelper."""

    def __init__(self, helper):
        self.helper = helper

    def identity(self, request):
        identity = self.helper.identify(request)
        if identity is None or GROUPS.get(identity["userid"]) is None:
            return None
        return identity

    def authenticated_userid(self, request):
        identity = request.identity
        return None if identity is None else identity["userid"]

    def permits(self, request, context, permission):
        identity = request.identity
        principals = [Everyone]
        if identity is not None:
            principals += [Authenticated, identity["userid"], *GROUPS[identity["userid"]]]
        return ACLHelper().permits(context, principals, permission)

    def remember(self, request, userid, **kw):
        return self.helper.remember(request, userid, **kw)

    def forget(self, request, **kw):
        return self.helper.forget(request)


class Root:
    def __init__(self, request):
        self.__acl__ = [(Allow, "group:editors", "edit"), (Deny, Everyone, ALL_PERMISSIONS)]


def make_app(policy):
    def view_login(request):
        tokens = [token for token in request.params.get("tokens", "").split(",") if token]
        request.response.headerlist.extend(remember(request, request.params["user"], tokens=tokens))
        request.response.text = "in"
        return request.response

    def view_logout(request):
        request.response.headerlist.extend(forget(request))
        request.response.text = "out"
        return request.response

    def view_who(request):
        identity = request.identity
        tokens = ",".join(token for token in identity["tokens"] if token) if identity else ""
        request.response.text = f"{request.authenticated_userid}|{tokens}"
        return request.response

    def view_edit(request):
        request.response.text = "edited"
        return request.response

    with Configurator(root_factory=Root) as config:
        config.set_security_policy(policy)
        for name, view, permission in (
            ("login", view_login, None),
            ("logout", view_logout, None),
            ("who", view_who, None),
            ("edit", view_edit, "edit"),
        ):
            config.add_route(name, "/" + name)
            config.add_view(view, route_name=name, permission=permission)
        return config.make_wsgi_app()


@pytest.fixture(params=[False, True], ids=["unbound", "include_ip"])
def include_ip(request):
    return request.param


@pytest.fixture
def fleet(core, include_ip):
    """(our server, Pyramid's server), both on waitress, with the same settings."""
    options = dict(hashalg="sha512", include_ip=include_ip, timeout=1200, reissue_time=600)
    ours = ticket_pyramid.TicketCookieHelper(SECRET, factory_class=core.AuthTktFactory, **options)
    theirs = pyramid_authentication.AuthTktCookieHelper(SECRET, **options)
    callback = GROUPS.get
    servers = [
        WaitressServer(
            make_app(ticket_pyramid.TicketSecurityPolicy(ours, callback=lambda u, r: callback(u)))
        ),
        WaitressServer(make_app(PyramidsPolicy(theirs))),
    ]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.mark.parametrize("user", ["alice@example.com", "Jörg Müller"])
def test_mixed_fleet_walk(fleet, user):
    """login -> protected -> the other implementation's server -> its login read by ours ->
    logout -> refused, through real HTTP with one cookie jar for both servers."""
    ours, theirs = (f"http://127.0.0.1:{server.port}" for server in fleet)
    with httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False) as client:
        assert client.get(ours + "/edit").status_code == 403
        resp = client.get(ours + "/login", params={"user": user, "tokens": "a,b"})
        assert resp.status_code == 200
        (cookie,) = resp.headers.get_list("set-cookie")
        assert cookie.startswith('auth_tkt="') and "\\054b!userid_type:b64unicode" in cookie
        assert client.get(ours + "/edit").text == "edited"
        assert client.get(ours + "/who").text == f"{user}|a,b"
        # A server still on Pyramid's helper reads our cookie ...
        assert client.get(theirs + "/who").text == f"{user}|a,b"
        assert client.get(theirs + "/edit").text == "edited"
        # ... and we read the one it writes.
        resp = client.get(theirs + "/login", params={"user": "bob"})
        assert resp.status_code == 200 and len(resp.headers.get_list("set-cookie")) == 1
        assert client.get(ours + "/who").text == "bob|"
        assert client.get(ours + "/edit").status_code == 403  # bob is not an editor
        resp = client.get(ours + "/logout")
        (expired,) = resp.headers.get_list("set-cookie")
        assert "Max-Age=0" in expired
        assert "auth_tkt" not in client.cookies
        assert client.get(ours + "/who").text == "None|"
        assert client.get(theirs + "/who").text == "None|"


def test_forged_and_malformed_cookies_are_anonymous_over_http(fleet):
    ours = f"http://127.0.0.1:{fleet[0].port}"
    good = httpx.get(ours + "/login", params={"user": "bob"}, timeout=HTTP_TIMEOUT).headers["set-cookie"]
    value = good.split(";", 1)[0].partition("=")[2]
    forged = value[:10] + ("0" if value[10] != "0" else "1") + value[11:]
    for header in (
        f"auth_tkt={forged}",
        'auth_tkt="unterminated',
        f"auth_tkt={value}; auth_tkt={forged}",
        "auth_tkt=" + "x" * 5000,
    ):
        resp = httpx.get(ours + "/who", headers={"Cookie": header}, timeout=HTTP_TIMEOUT)
        assert (resp.status_code, resp.text) == (200, "None|"), header[:40]


# -- against the real Apache ----------------------------------------------------------------


@pytest.mark.parametrize("digest", DIGESTS)
@pytest.mark.parametrize("userid", ["alice", "alice@example.com", "Jörg Müller", 42])
def test_apache_reads_the_apache_form_only(core, apache_server, digest, userid):  # noqa: F811
    """Pyramid's form (and so Pyramid's helper) is refused by Apache whenever the base64 user id
    has '=' padding or a '+' (quoted as %3D / %2B but hashed unquoted) or the ticket has two
    tokens (WebOb's \\054); write_form="apache" is accepted, with REMOTE_USER the written id."""
    site = apache_server.sites[digest]
    secret = site.secret.decode()
    helper = ticket_pyramid.TicketCookieHelper(
        secret, hashalg=digest, write_form="apache", factory_class=core.AuthTktFactory
    )
    request = pyramid_request()
    value = helper.remember(request, userid, tokens=["admin", "staff"])[0][1].split(";")[0].partition("=")[2]
    resp = site.get("ignoreip", value)
    written = base64.b64decode(value).decode()
    assert resp.status == 200, resp.describe()
    assert resp.remote_user_tokens == "admin,staff"
    assert resp.remote_user_data == f"userid_type:{'int' if isinstance(userid, int) else 'b64unicode'}"
    assert resp.remote_user in written
    # The same login in Pyramid's form.
    pyramid_form = ticket_pyramid.TicketCookieHelper(
        secret, hashalg=digest, factory_class=core.AuthTktFactory
    )
    theirs = pyramid_form.remember(request, userid, tokens=["admin"])[0][1].split(";")[0].partition("=")[2]
    quoted = "%3D" in theirs or "%2B" in theirs
    assert site.get("ignoreip", theirs).status == (307 if quoted else 200)


def pyramid_request():
    from pyramid.request import Request

    return Request.blank("/", environ={"HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1"})
