"""ticket_auth.django in the test process: Django's test clients (WSGI handler: ``Client``; ASGI
handler: ``AsyncClient``) on the project of _django_project, on every core and both ticket
formats; the backend's choices; the settings' validation.

Django's settings can be configured once per process: this module configures them (a sqlite
database in a temporary directory) unless they already are, and varies TICKET_AUTH,
MIDDLEWARE and AUTHENTICATION_BACKENDS with ``override_settings`` (Django builds the
middleware again for each new client). The real servers are in test_django_servers.py.
"""

import asyncio
import re
import time
from http.cookies import Morsel
from pathlib import Path

import pytest

django = pytest.importorskip("django")

from django.conf import settings  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.test import AsyncClient, Client, RequestFactory, override_settings  # noqa: E402

import _django_project  # noqa: E402
import ticket_auth.django as ticket_django  # noqa: E402
from _django_project import OLD_SECRET, REISSUE_AFTER, make_config  # noqa: E402
from _guard_helpers import BAD_COOKIE_CASES, Clock, bad_cookie_headers  # noqa: E402
from ticket_auth.django import (  # noqa: E402
    TicketAuthMiddleware,
    guard_from_settings,
    login,
    logout,
)


@pytest.fixture(scope="module")
def django_project(tmp_path_factory):
    if not settings.configured:
        db = tmp_path_factory.mktemp("django") / "db.sqlite3"
        settings.configure(**_django_project.settings_dict(db, make_config("ticket")))
        django.setup()
        _django_project.create_database()
    if settings.ROOT_URLCONF != "_django_project":
        pytest.skip("Django settings were configured by something else in this process")


@pytest.fixture
def active(django_project, core, kind, monkeypatch):
    """The core under test is the one ticket_auth.django builds its factories with; returns
    the TICKET_AUTH of ``kind``."""
    monkeypatch.setattr(ticket_django, "TicketFactory", core.module.TicketFactory)
    monkeypatch.setattr(ticket_django, "AuthTktFactory", core.module.AuthTktFactory)
    return make_config(kind)


class AsyncAsSync:
    """An AsyncClient driven from a synchronous test (one event loop per request)."""

    def __init__(self, **defaults):
        self.client = AsyncClient(**defaults)

    @property
    def cookies(self):
        return self.client.cookies

    def get(self, *args, **kwargs):
        return asyncio.run(self.client.get(*args, **kwargs))

    def post(self, *args, **kwargs):
        return asyncio.run(self.client.post(*args, **kwargs))


CLIENTS = {"wsgi": Client, "asgi": AsyncAsSync}


@pytest.fixture(params=sorted(CLIENTS))
def client_cls(request):
    return CLIENTS[request.param]


def ticket_cookie(response):
    """The auth_tkt Set-Cookie text a response carries, or None."""
    morsel = response.cookies.get("auth_tkt")
    return None if morsel is None else morsel.OutputString()


def put_cookie(client, set_cookie):
    """Put the cookie of a Set-Cookie text into the client's jar, as a browser would."""
    value = set_cookie.split(";", 1)[0].partition("=")[2]
    morsel = Morsel()
    morsel.set("auth_tkt", value, value)
    client.cookies["auth_tkt"] = morsel


def ticket_of(set_cookie):
    value = set_cookie.split(";", 1)[0].partition("=")[2]
    if value.startswith('"'):
        value = value[1:-1].replace("\\054", ",")
    return value


def log_in(client, user="alice", tokens="editor", data="d"):
    return client.post(
        "/login",
        {"username": user, "password": _django_project.PASSWORDS[user], "tokens": tokens, "data": data},
    )


# -- the walk ----------------------------------------------------------------------------------


def test_walk(active, client_cls):
    """login -> login_required, permission_required, user_passes_test, async views -> reissue
    after the reissue age -> a ticket of the old secret (reissued) -> logout (cookie expired,
    session flushed) -> refused."""
    config = active
    with override_settings(TICKET_AUTH=config):
        client = client_cls()
        resp = client.get("/protected/")
        assert (resp.status_code, resp["Location"]) == (302, "/login?next=/protected/")

        resp = log_in(client)
        assert resp.status_code == 200, resp.content
        login_cookie = ticket_cookie(resp)
        assert login_cookie.startswith("auth_tkt=")
        assert {"Path=/", "HttpOnly", "SameSite=Lax"} <= set(login_cookie.split("; "))
        assert "Secure" not in login_cookie.split("; ")

        for path in ("/protected/", "/async-protected/", "/open", "/async-open", "/perm/"):
            resp = client.get(path)
            assert (resp.status_code, resp.content) == (200, b"alice|ok|editor|d"), path
            assert ticket_cookie(resp) is None
        assert client.get("/session").content == b"note of alice"
        assert client.get("/perm-change/").status_code == 403  # "editor" grants view_user only
        assert client.get("/admin-token/").status_code == 302  # no "admin" token

        guard = guard_from_settings(config)
        aged = guard.remember("alice", ("editor",), "d", now=time.time() - REISSUE_AFTER - 5)
        put_cookie(client, aged)
        resp = client.get("/protected/")
        assert (resp.status_code, resp.content) == (200, b"alice|ok|editor|d")
        refreshed = ticket_cookie(resp)
        assert refreshed is not None and ticket_of(refreshed) != ticket_of(aged)
        info = guard.factory.validate(ticket_of(refreshed))
        assert (info.user_id, tuple(info.tokens), info.user_data) == ("alice", ("editor",), "d")
        put_cookie(client, refreshed)
        assert ticket_cookie(client.get("/protected/")) is None

        # A ticket of the previous secret: accepted, and reissued with the current one.
        old_guard = guard_from_settings({**config, "SECRET": OLD_SECRET, "FALLBACK_SECRETS": []})
        put_cookie(client, old_guard.remember("alice", ("boss",)))
        resp = client.get("/perm-change/")
        assert (resp.status_code, resp.content) == (200, b"alice|ok|boss|")
        rotated = ticket_cookie(resp)
        current_only = guard_from_settings({**config, "FALLBACK_SECRETS": []})
        assert current_only.factory.validate(ticket_of(rotated)).user_id == "alice"
        put_cookie(client, rotated)

        resp = client.get("/logout")
        assert resp.status_code == 200
        logout_cookie = ticket_cookie(resp)
        assert logout_cookie.startswith("auth_tkt=;") and "Max-Age=0" in logout_cookie
        assert client.get("/session").content == b"-"  # the session was flushed
        resp = client.get("/protected/")
        assert (resp.status_code, resp["Location"]) == (302, "/login?next=/protected/")
        assert client.get("/open").content.startswith(b"-|")


def test_async_login_view(active):
    with override_settings(TICKET_AUTH=active):
        client = AsyncAsSync()
        resp = client.post("/alogin", {"username": "alice", "password": _django_project.PASSWORDS["alice"]})
        assert resp.status_code == 200
        assert client.get("/async-protected/").content == b"alice|ok|editor|"


@pytest.mark.parametrize("case", [*BAD_COOKIE_CASES, "control-chars", "empty"])
def test_hostile_cookie_is_anonymous(active, client_cls, core, kind, case):
    """A bad cookie: anonymous, never a server error; a login_required view redirects."""
    header = bad_cookie_headers(core, kind, Clock())[case].decode("latin-1")
    with override_settings(TICKET_AUTH=active):
        client = client_cls(raise_request_exception=True)
        resp = client.get("/open", headers={"Cookie": header})
        assert resp.status_code == 200
        user, reason = resp.content.decode().split("|")[:2]
        assert (user, reason != "ok", "auth_tkt" in reason) == ("-", True, False)
        assert client.get("/protected/", headers={"Cookie": header}).status_code == 302


# -- the backend ----------------------------------------------------------------------------


def _visit(client, config, user_id, tokens=(), user_data="", path="/open"):
    cookie = guard_from_settings(config).remember(user_id, tokens, user_data)
    put_cookie(client, cookie)
    return client.get(path)


def test_unknown_user_is_created(active, core, kind):
    name = f"carol-{core.name}-{core.hash_path}-{kind}"
    from django.contrib.auth.models import User

    with override_settings(TICKET_AUTH=active):
        assert _visit(Client(), active, name).content == f"{name}|ok||".encode()
    assert User.objects.filter(username=name).exists()


def test_unknown_user_stays_anonymous_without_create(active):
    from django.contrib.auth.models import User

    backends = ["_django_backends.StrictTicketBackend", "django.contrib.auth.backends.ModelBackend"]
    with override_settings(TICKET_AUTH=active, AUTHENTICATION_BACKENDS=backends):
        client = Client()
        assert _visit(client, active, "dave").content == b"-|ok||"  # a valid ticket, no such user
        assert client.get("/protected/").status_code == 302
        assert _visit(client, active, "alice", ("editor",)).content == b"alice|ok|editor|"
    assert not User.objects.filter(username="dave").exists()


def test_inactive_user_is_refused(active):
    with override_settings(TICKET_AUTH=active):
        client = Client()
        assert _visit(client, active, "bob", ("editor",)).content == b"-|ok|editor|"
        assert client.get("/protected/").status_code == 302
        assert client.get("/perm/").status_code == 403
        assert log_in(client, "bob").status_code == 403  # ModelBackend refuses the password login


def test_login_refuses_an_inactive_user(django_project):
    from django.contrib.auth.models import User
    from django.http import HttpResponse

    with override_settings(TICKET_AUTH=make_config("ticket")):
        request = RequestFactory().get("/")
        TicketAuthMiddleware(lambda r: HttpResponse())(request)
        response = HttpResponse()
        with pytest.raises(ValueError, match="inactive"):
            login(request, response, User.objects.get(username="bob"))
        with pytest.raises(TypeError, match="not a str"):
            login(request, response, User.objects.get(username="alice"), tokens="editor")
        assert "auth_tkt" not in response.cookies


def test_clean_username_and_configure_user(django_project):
    from django.contrib.auth.models import User

    config = make_config("ticket")
    backends = ["_django_backends.CleaningTicketBackend"]
    with override_settings(TICKET_AUTH=config, AUTHENTICATION_BACKENDS=backends):
        assert _visit(Client(), config, "Erin", (), "Erin E.").content == b"erin|ok||Erin E."
    assert User.objects.get(username="erin").first_name == "Erin E."


def test_login_without_middleware_says_what_to_add(django_project):
    from django.contrib.auth.models import User
    from django.http import HttpResponse

    request = RequestFactory().get("/")
    with pytest.raises(RuntimeError, match=r"ticket_auth\.django\.TicketAuthMiddleware"):
        login(request, HttpResponse(), User.objects.get(username="alice"))
    with pytest.raises(RuntimeError, match="MIDDLEWARE"):
        logout(request, HttpResponse())


def test_view_setting_the_cookie_wins_over_the_reissue(active):
    """An aged ticket would be reissued, but the view logs in again: its cookie is kept."""
    with override_settings(TICKET_AUTH=active):
        client = Client()
        put_cookie(client, guard_from_settings(active).remember("alice", ("editor",), now=time.time() - 2000))
        resp = log_in(client, tokens="boss")
        info = guard_from_settings(active).factory.validate(ticket_of(ticket_cookie(resp)))
        assert tuple(info.tokens) == ("boss",)


def test_without_sessions(active, client_cls):
    """Only TicketAuthMiddleware: request.user, login_required and logout work stateless."""
    with override_settings(TICKET_AUTH=active, MIDDLEWARE=["ticket_auth.django.TicketAuthMiddleware"]):
        client = client_cls()
        assert client.get("/protected/").status_code == 302
        _visit(client, active, "alice", ("editor",))
        assert client.get("/perm/").content == b"alice|ok|editor|"
        resp = client.get("/logout")
        assert "Max-Age=0" in ticket_cookie(resp)
        put_cookie(client, ticket_cookie(resp))
        assert client.get("/protected/").status_code == 302


# -- the guard's own protection, and the path it matches -----------------------------------


def test_protect_with_and_without_login_url(active, client_cls):
    protect = {"/guarded/": [], "/guarded/admin/": ["admin"]}
    with override_settings(TICKET_AUTH={**active, "PROTECT": protect}):
        client = client_cls()
        assert client.get("/guarded/").status_code == 401
        _visit(client, active, "alice", ("editor",))
        assert client.get("/guarded/").content == b"alice|ok|editor|"
        assert client.get("/guarded/admin/").status_code == 403
    with override_settings(TICKET_AUTH={**active, "PROTECT": protect, "LOGIN_URL": "/login"}):
        client = client_cls()
        resp = client.get("/guarded/", {"x": "1"})
        assert (resp.status_code, resp["Location"]) == (303, "/login?back=%2Fguarded%2F%3Fx%3D1")
        assert resp["Cache-Control"] == "no-store"


# A site mounted under /prefix: the server strips it (WSGI: SCRIPT_NAME); an ASGI server
# passes the full path with the prefix in root_path.
MOUNTED = {
    "wsgi": lambda: Client(SCRIPT_NAME="/prefix").get("/guarded/"),
    "asgi": lambda: AsyncAsSync(root_path="/prefix").get("/prefix/guarded/"),
}


@pytest.mark.parametrize("server", sorted(MOUNTED))
def test_protect_matches_path_info_not_script_name(django_project, server):
    """Under a prefix, PROTECT names the paths the URL resolver sees (request.path_info); the
    back link is the full path the browser asked for (request.path)."""
    config = make_config("ticket", PROTECT={"/guarded/": []}, LOGIN_URL="/prefix/login")
    with override_settings(TICKET_AUTH=config):
        resp = MOUNTED[server]()
        assert (resp.status_code, resp["Location"]) == (303, "/prefix/login?back=%2Fprefix%2Fguarded%2F")
    with override_settings(TICKET_AUTH=make_config("ticket", PROTECT={"/prefix/guarded/": []})):
        resp = MOUNTED[server]()
        assert (resp.status_code, resp.content) == (200, b"-|no cookie||")


def test_asgi_reads_every_cookie_header(django_project):
    """HTTP/2 clients send one Cookie header per cookie; Django's ASGI request joins them with
    ',' in META, which would hide the ticket: the middleware reads them from the scope."""
    from django.core.handlers.asgi import ASGIHandler

    config = make_config("ticket")
    with override_settings(TICKET_AUTH=config):
        cookie = guard_from_settings(config).remember("alice", ("editor",)).split(";")[0]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "2",
            "method": "GET",
            "scheme": "http",
            "path": "/open",
            "raw_path": b"/open",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver"), (b"cookie", b"a=1"), (b"cookie", cookie.encode())],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        }
        sent = []
        messages = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive():
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # no disconnect: Django cancels this wait when done

        async def send(message):
            sent.append(message)

        asyncio.run(ASGIHandler()(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert body == b"alice|ok|editor|"


# -- configuration -------------------------------------------------------------------------

SECRET_TEXT = "an unmistakable secret 9c41e7"

BAD_SETTINGS = [
    ({}, "'SECRET'] is required"),
    ({"SECRET": ""}, "must not be empty"),
    ({"SECRET": 12345}, "must be a str or bytes, not int"),
    ({"SECRET": SECRET_TEXT, "SECERT": SECRET_TEXT}, "unknown key(s) 'SECERT'"),
    ({"SECRET": SECRET_TEXT, "FALLBACK_SECRETS": SECRET_TEXT}, "FALLBACK_SECRETS'] must be a list"),
    ({"SECRET": SECRET_TEXT, "FALLBACK_SECRETS": [""]}, "FALLBACK_SECRETS'] must not be empty"),
    ({"SECRET": SECRET_TEXT, "FORMAT": "apache"}, "FORMAT'] must be 'ticket'"),
    ({"SECRET": SECRET_TEXT, "FORMAT": "authtkt"}, "HASHALG'] is required with FORMAT 'authtkt'"),
    ({"SECRET": SECRET_TEXT, "HASHALG": "rot13"}, "HASHALG'] 'rot13' is not a hash"),
    ({"SECRET": SECRET_TEXT, "FORMAT": "authtkt", "HASHALG": "sha3_256"}, "HASHALG'] 'sha3_256'"),
    ({"SECRET": SECRET_TEXT, "HASHALG": 512}, "HASHALG'] must be a hash name"),
    ({"SECRET": SECRET_TEXT, "LIFETIME": 0}, "LIFETIME'] must be a positive number of seconds"),
    (
        {"SECRET": SECRET_TEXT, "LIFETIME": "3600"},
        "LIFETIME'] must be a positive number of seconds (an int), not str",
    ),
    ({"SECRET": SECRET_TEXT, "LIFETIME": True}, "LIFETIME'] must be a positive"),
    ({"SECRET": SECRET_TEXT, "REISSUE_AFTER": -1}, "REISSUE_AFTER'] must be None or a number"),
    ({"SECRET": SECRET_TEXT, "COOKIE_NAME": "auth tkt"}, "COOKIE_NAME'] must be a cookie name"),
    ({"SECRET": SECRET_TEXT, "COOKIE_NAME": ""}, "COOKIE_NAME'] must be a cookie name"),
    ({"SECRET": SECRET_TEXT, "SECURE": "yes"}, "SECURE'] must be True or False, not str"),
    ({"SECRET": SECRET_TEXT, "BIND_IP": 1}, "BIND_IP'] must be True or False"),
    ({"SECRET": SECRET_TEXT, "SAMESITE": "lax"}, "SAMESITE'] must be 'Lax'"),
    ({"SECRET": SECRET_TEXT, "SAMESITE": "None", "SECURE": False}, "'None' needs SECURE True"),
    ({"SECRET": SECRET_TEXT, "DOMAIN": "a.example; x=1"}, "DOMAIN'] contains a character"),
    ({"SECRET": SECRET_TEXT, "TRUSTED_PROXIES": "10.0.0.1"}, "TRUSTED_PROXIES'] must be a list"),
    ({"SECRET": SECRET_TEXT, "TRUSTED_PROXIES": ["10.0.0.300"]}, "'10.0.0.300' is not an IP address"),
    ({"SECRET": SECRET_TEXT, "FORWARDED_HEADER": "X Forwarded"}, "FORWARDED_HEADER'] must be a header name"),
    ({"SECRET": SECRET_TEXT, "PROTECT": ["/admin/"]}, "PROTECT'] must be a dict"),
    ({"SECRET": SECRET_TEXT, "PROTECT": {"admin/": []}}, "keys must be path prefixes starting with '/'"),
    ({"SECRET": SECRET_TEXT, "PROTECT": {"/admin/": "admin"}}, "must be a list of tokens"),
    ({"SECRET": SECRET_TEXT, "LOGIN_URL": "login"}, "LOGIN_URL'] must be a path starting with '/'"),
    ({"SECRET": SECRET_TEXT, "LOGIN_URL": "//evil.example/login"}, "LOGIN_URL'] must be a path"),
    ({"SECRET": SECRET_TEXT, "PUBLIC_ORIGIN": "app.example.com"}, "PUBLIC_ORIGIN'] must start with"),
    ({"SECRET": SECRET_TEXT, "MAX_AGE": -5}, "MAX_AGE'] must be None or a number"),
    ({"SECRET": SECRET_TEXT, "MAX_COOKIE_LENGTH": 10}, "MAX_COOKIE_LENGTH'] must be a length >= 64"),
    ({"SECRET": SECRET_TEXT, "MAX_COOKIE_HEADER": 0}, "MAX_COOKIE_HEADER'] must be a length >= 64"),
    ({"SECRET": SECRET_TEXT, "TOKEN_PERMISSIONS": ["auth.view_user"]}, "TOKEN_PERMISSIONS'] must be a dict"),
    (
        {"SECRET": SECRET_TEXT, "TOKEN_PERMISSIONS": {"editor": "auth.view_user"}},
        "must be a list of permission",
    ),
    (
        {"SECRET": SECRET_TEXT, "TOKEN_PERMISSIONS": {"editor": ["view_user"]}},
        "'view_user' (for 'editor') is not",
    ),
]


@pytest.mark.parametrize(("config", "message"), BAD_SETTINGS, ids=[m for _, m in BAD_SETTINGS])
def test_bad_setting_is_improperly_configured(config, message):
    with pytest.raises(ImproperlyConfigured) as caught:
        guard_from_settings(config)
    text = str(caught.value)
    assert message in text
    assert "TICKET_AUTH" in text
    assert SECRET_TEXT not in text and repr(SECRET_TEXT.encode()) not in text


def test_settings_must_be_a_dict():
    with pytest.raises(ImproperlyConfigured, match="must be a dict, not str"):
        guard_from_settings(SECRET_TEXT)  # TICKET_AUTH = "the secret" by mistake
    with pytest.raises(ImproperlyConfigured) as caught:
        guard_from_settings(SECRET_TEXT)
    assert SECRET_TEXT not in str(caught.value)


def test_good_settings_configure_the_guard():
    guard = guard_from_settings(
        {
            "SECRET": SECRET_TEXT,
            "FORMAT": "authtkt",
            "HASHALG": "sha512",
            "COOKIE_NAME": "AUTH_TKT",
            "LIFETIME": 600,
            "BIND_IP": True,
            "TRUSTED_PROXIES": ["10.0.0.0/8"],
            "PROTECT": {"/admin/": ["admin"]},
            "LOGIN_URL": "/login",
            "DOMAIN": "example.com",
        }
    )
    assert (guard.cookie_name, guard.lifetime, guard.reissue_after, guard.bind_ip) == (
        "AUTH_TKT",
        600,
        300,
        True,
    )
    assert guard.required_tokens("/admin/users") == ("admin",)
    assert type(guard.factory).__name__ == "AuthTktFactory"
    cookie = guard.remember("alice", peer="10.1.2.3", forwarded="203.0.113.5")
    assert {"Domain=example.com", "Secure", "HttpOnly"} <= set(cookie.split("; "))
    assert SECRET_TEXT not in repr(guard)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"TICKET_AUTH": None}, "settings.TICKET_AUTH is missing"),
        ({"AUTHENTICATION_BACKENDS": ["django.contrib.auth.backends.ModelBackend"]}, "TicketBackend"),
        (
            {
                "MIDDLEWARE": [
                    "django.contrib.sessions.middleware.SessionMiddleware",
                    "ticket_auth.django.TicketAuthMiddleware",
                    "django.contrib.auth.middleware.AuthenticationMiddleware",
                ]
            },
            "put 'ticket_auth.django.TicketAuthMiddleware' after",
        ),
    ],
)
def test_bad_project_setup_stops_at_startup(django_project, overrides, message):
    with override_settings(**overrides), pytest.raises(ImproperlyConfigured, match=message):
        Client().get("/open")


def test_secure_cookie_over_plain_http_warns_once(django_project):
    """Django's test server is http://testserver: a Secure cookie sent there would never come
    back, which the guard says once; with SECURE False it says nothing."""
    from ticket_auth.guard import InsecureCookieWarning

    with override_settings(TICKET_AUTH={**make_config("ticket"), "SECURE": True}):
        client = Client()
        with pytest.warns(InsecureCookieWarning, match="SECURE_PROXY_SSL_HEADER"):
            log_in(client)
    with override_settings(TICKET_AUTH=make_config("ticket")):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error", InsecureCookieWarning)
            assert log_in(Client()).status_code == 200


def test_oversized_cookie_header_is_anonymous(django_project, client_cls):
    config = make_config("ticket", MAX_COOKIE_HEADER=1000)
    with override_settings(TICKET_AUTH=config):
        client = client_cls()
        cookie = guard_from_settings(config).remember("alice").split(";")[0]
        assert client.get("/open", headers={"Cookie": cookie}).content == b"alice|ok||"
        padded = "pad=" + "x" * 1000 + "; " + cookie
        assert client.get("/open", headers={"Cookie": padded}).content == b"-|oversized cookie||"


def test_reprs_carry_no_ticket(django_project):
    config = make_config("ticket")
    with override_settings(TICKET_AUTH=config):
        resp = log_in(Client())
    morsel = resp.cookies["auth_tkt"]
    assert ticket_of(morsel.OutputString()) not in repr(morsel)
    with override_settings(TICKET_AUTH={**config, "SECRET": SECRET_TEXT}):
        middleware = TicketAuthMiddleware(lambda request: None)
    assert SECRET_TEXT not in repr(middleware) and "TicketFactory" in repr(middleware)


def test_guide_examples_run_in_order(capsys):
    """docs/guides/django.md: its ```python blocks run as written, top to bottom, in one
    namespace, and print what the page says they print."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "guides" / "django.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```$", text, re.M | re.S)
    assert len(blocks) >= 2
    namespace = {"__name__": "guide_example"}
    for block in blocks:
        exec(compile(block, "docs/guides/django.md", "exec"), namespace)  # noqa: S102 - the guide's own examples
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        line.split("# ", 1)[1]
        for block in blocks
        for line in block.splitlines()
        if line.lstrip().startswith("print(")
    ]
