"""ticket_auth.django under real servers: the project of _django_project under gunicorn (WSGI)
and uvicorn (ASGI), each in a subprocess on an ephemeral port of 127.0.0.1, with each ticket
format, driven by httpx with a real cookie jar.

The servers use the default core (the per-core matrix is test_django.py's, in-process). One
database (sqlite, migrated once in a subprocess) in a temporary directory serves the module;
each server is started once for all its tests and stopped by its fixture.
"""

import json
import os
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

import httpx
import pytest

pytest.importorskip("django")

import _django_project
import ticket_auth
from _django_project import OLD_SECRET, REISSUE_AFTER
from _guard_helpers import BAD_COOKIE_CASES, SECRET, Clock, bad_cookie_headers, raw_get
from ticket_auth.django import guard_from_settings

START_TIMEOUT = 30.0
HTTP_TIMEOUT = 10.0
TESTS = Path(__file__).resolve().parent
SOURCE = Path(ticket_auth.__file__).resolve().parents[1]  # the ticket_auth this process imports

# The default core, as the helpers of _guard_helpers expect a core.
DEFAULT_CORE = types.SimpleNamespace(
    TicketFactory=ticket_auth.TicketFactory,
    module=types.SimpleNamespace(AuthTktFactory=ticket_auth.mod_auth_tkt.AuthTktFactory),
)


def make_config(kind, **extra):
    """``_django_project.make_config`` with the protected paths and login URL the walks use."""
    options = {"PROTECT": {"/guarded/": [], "/guarded/admin/": ["admin"]}, "LOGIN_URL": "/login"}
    options.update(extra)
    return _django_project.make_config(kind, **options)


def environment(db, config):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="_django_settings",
        TICKET_AUTH_TEST_DB=str(db),
        TICKET_AUTH_TEST_CONFIG=_django_project.config_to_env(config),
        PYTHONPATH=os.pathsep.join([str(SOURCE), str(TESTS), env.get("PYTHONPATH", "")]),
    )
    return env


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    directory = tmp_path_factory.mktemp("django-servers")
    db = directory / "db.sqlite3"
    code = "import django; django.setup(); import _django_project; _django_project.create_database()"
    subprocess.run(
        [sys.executable, "-c", code],
        env=environment(db, make_config("ticket")),
        cwd=directory,
        check=True,
        timeout=120,
    )
    return db


def command(server, fd):
    if server == "gunicorn":
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"fd://{fd}",
            "--workers",
            "1",
            "--log-level",
            "warning",
            "django.core.wsgi:get_wsgi_application()",
        ]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--fd",
        str(fd),
        "--factory",
        "django.core.asgi:get_asgi_application",
        "--lifespan",
        "off",
        "--log-level",
        "warning",
        "--no-access-log",
    ]


class Server:
    """A server subprocess on an already listening socket of 127.0.0.1 (its port ephemeral)."""

    def __init__(self, server, db, config):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.log = (db.parent / f"{server}-{self.port}.log").open("w+b")
        fd = self.sock.fileno()
        self.process = subprocess.Popen(
            command(server, fd),
            env=environment(db, config),
            cwd=db.parent,
            pass_fds=(fd,),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.output()}")
            try:
                if raw_get(self.port, "/open")[0] == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer within {START_TIMEOUT}s:\n{self.output()}")
            time.sleep(0.1)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(START_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(START_TIMEOUT)
        self.sock.close()
        self.log.close()


SERVERS = [
    pytest.param(
        ("gunicorn", kind),
        id=f"gunicorn-{kind}",
        marks=pytest.mark.skipif(sys.platform == "win32", reason="gunicorn does not run on Windows"),
    )
    for kind in ("ticket", "authtkt")
] + [pytest.param(("uvicorn", kind), id=f"uvicorn-{kind}") for kind in ("ticket", "authtkt")]


@pytest.fixture(scope="module", params=SERVERS)
def server(request, database):
    name, kind = request.param
    pytest.importorskip(name)
    srv = Server(name, database, make_config(kind))
    try:
        srv.wait_ready()
        srv.kind = kind
        yield srv
    finally:
        srv.stop()


def set_cookies(response):
    return [c for c in response.headers.get_list("set-cookie") if c.startswith("auth_tkt=")]


def ticket_of(set_cookie):
    value = set_cookie.split(";", 1)[0].partition("=")[2]
    if value.startswith('"'):
        value = value[1:-1].replace("\\054", ",")
    return value


def replace_cookie(client, set_cookie):
    """Put the ticket of a Set-Cookie text in the jar in place of the one there (two cookies of
    the name would be refused as a duplicate)."""
    client.cookies.delete("auth_tkt")
    client.cookies.set("auth_tkt", set_cookie.split(";", 1)[0].partition("=")[2], domain="127.0.0.1")


def test_walk(server):
    """login -> login_required, permission_required, async views, the guard's PROTECT ->
    reissue after the reissue age -> a ticket of the old secret (reissued) -> logout (cookie
    expired, session flushed) -> refused."""
    config = make_config(server.kind)
    base = f"http://127.0.0.1:{server.port}"
    with httpx.Client(base_url=base, timeout=HTTP_TIMEOUT, follow_redirects=False) as client:
        resp = client.get("/protected/")
        assert (resp.status_code, resp.headers["location"]) == (302, "/login?next=/protected/")
        resp = client.get("/guarded/", params={"x": "1"})
        assert (resp.status_code, resp.headers["location"]) == (303, "/login?back=%2Fguarded%2F%3Fx%3D1")

        password = _django_project.PASSWORDS["alice"]
        resp = client.post("/login", data={"username": "alice", "password": password, "tokens": "editor"})
        assert resp.status_code == 200, resp.text
        (login_cookie,) = set_cookies(resp)
        assert set(login_cookie.split("; ")[1:]) == {"Path=/", "HttpOnly", "SameSite=Lax"}

        for path in ("/protected/", "/async-protected/", "/perm/", "/guarded/"):
            resp = client.get(path)
            assert (resp.status_code, resp.text, set_cookies(resp)) == (200, "alice|ok|editor|", []), path
        assert client.get("/session").text == "note of alice"
        assert client.get("/perm-change/").status_code == 403
        resp = client.get("/guarded/admin/")  # logged in without the token: 403, never the login page
        assert (resp.status_code, "location" in resp.headers) == (403, False)

        guard = guard_from_settings(config)
        aged = guard.remember("alice", ("editor",), now=time.time() - REISSUE_AFTER - 5)
        replace_cookie(client, aged)
        resp = client.get("/protected/")
        assert (resp.status_code, resp.text) == (200, "alice|ok|editor|")
        (refreshed,) = set_cookies(resp)
        assert ticket_of(refreshed) != ticket_of(aged)
        assert guard.factory.validate(ticket_of(refreshed)).user_id == "alice"
        assert set_cookies(client.get("/protected/")) == []  # the jar holds the new ticket

        old = guard_from_settings({**config, "SECRET": OLD_SECRET, "FALLBACK_SECRETS": []})
        replace_cookie(client, old.remember("alice", ("boss",)))
        resp = client.get("/perm-change/")
        assert (resp.status_code, resp.text) == (200, "alice|ok|boss|")
        (rotated,) = set_cookies(resp)
        current = guard_from_settings({**config, "FALLBACK_SECRETS": []})
        assert current.factory.validate(ticket_of(rotated)).user_id == "alice"

        resp = client.get("/logout")
        (expired,) = set_cookies(resp)
        assert expired.startswith("auth_tkt=; ") and "Max-Age=0" in expired
        assert "auth_tkt" not in client.cookies
        assert client.get("/session").text == "-"
        assert client.get("/protected/").status_code == 302
        assert client.get("/guarded/").status_code == 303
        assert client.get("/async-open").text.startswith("-|")


@pytest.mark.parametrize("case", BAD_COOKIE_CASES)
def test_hostile_cookie_never_a_server_error(server, case):
    header = bad_cookie_headers(DEFAULT_CORE, server.kind, Clock())[case]
    status, _, body = raw_get(server.port, "/open", [("Cookie", header)])
    assert status == 200, body
    user, reason = body.split("|")[:2]
    assert (user, reason != "ok", "auth_tkt" in reason) == ("-", True, False)
    assert raw_get(server.port, "/guarded/", [("Cookie", header)])[0] == 303


def test_misconfiguration_stops_the_server(database):
    """A bad TICKET_AUTH: the server does not start, and says which key to fix (not the
    secret)."""
    pytest.importorskip("uvicorn")
    srv = Server("uvicorn", database, make_config("ticket", LIFETIME=0))
    try:
        srv.process.wait(START_TIMEOUT)
        output = srv.output()
    finally:
        srv.stop()
    assert srv.process.returncode != 0
    assert "ImproperlyConfigured: TICKET_AUTH['LIFETIME'] must be a positive number of seconds" in output
    assert SECRET.decode() not in output
    assert json.dumps(SECRET.decode()) not in output
