"""Real servers on 127.0.0.1 for the guard's end-to-end tests, and the walk every adapter takes.

Each server runs in a thread of the test process on an ephemeral port and is stopped by its
fixture (bounded waits). The guard's clock is a ``Clock`` the test moves forward, so that
"after the reissue age" needs no sleeping; the factories are given the same ``now``.
"""

import asyncio
import http.client
import socket
import threading
import time

import httpx
import pytest

from ticket_auth.guard import TicketGuard

SECRET = b"guard test secret: 5b1e"
NEW_SECRET = b"guard test secret, rotated: 77c4"
FOREIGN_SECRET = b"someone else's secret"
LIFETIME = 3600
REISSUE_AFTER = 600
PROTECT = {"/protected/": (), "/admin/": ("admin",), "/ws/": ()}
START_TIMEOUT = 10.0
HTTP_TIMEOUT = 10.0


class Clock:
    """A settable time source for the guard."""

    def __init__(self):
        self.now = float(int(time.time()))

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def make_factory(core, kind, secret=SECRET, fallback=()):
    if kind == "ticket":
        return core.TicketFactory(secret, fallback_secrets=list(fallback))
    return core.module.AuthTktFactory(secret, "sha256", fallback_secrets=list(fallback), timeout=LIFETIME)


def make_guard(core, kind, clock=None, **options):
    """The guard the end-to-end walks use: plain HTTP, so ``secure=False`` unless given."""
    settings = dict(
        lifetime=LIFETIME, reissue_after=REISSUE_AFTER, protect=PROTECT, secure=False, clock=clock or Clock()
    )
    settings.update(options)
    return TicketGuard(make_factory(core, kind), **settings)


# -- servers --------------------------------------------------------------------------------


def _wait(predicate, what):
    deadline = time.monotonic() + START_TIMEOUT
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {START_TIMEOUT}s")
        time.sleep(0.01)


def listening_socket(dual_stack=False):
    """A bound socket on loopback: 127.0.0.1, or the IPv4-mapped ::ffff:127.0.0.1 on an IPv6
    socket (so IPv4 clients are seen as ::ffff:127.0.0.1, as on a dual-stack server)."""
    if dual_stack:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("::ffff:127.0.0.1", 0))
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
    return sock


# uvicorn's two HTTP parsers: h11 (pure Python) and httptools (llhttp, what uvicorn[standard]
# picks by default). The fixtures name theirs: "auto" would change with what is installed.
UVICORN_PARSERS = ("h11", "httptools")


class UvicornServer:
    """uvicorn in a thread; ``http`` chooses the parser explicitly, ``root_path`` is uvicorn's
    ``--root-path``."""

    def __init__(self, app, dual_stack=False, http="h11", root_path=""):
        import uvicorn

        self.sock = listening_socket(dual_stack)
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            http=http,
            ws="websockets-sansio",
            access_log=False,
            proxy_headers=False,
            root_path=root_path,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        _wait(lambda: self.server.started, "uvicorn")

    def stop(self):
        self.server.should_exit = True
        self.thread.join(START_TIMEOUT)
        self.sock.close()


class WaitressServer:
    """waitress in a thread; ``options`` go to ``create_server`` (``url_prefix=...``)."""

    def __init__(self, app, **options):
        from waitress.server import create_server

        self.server = create_server(
            app, host="127.0.0.1", port=0, threads=2, clear_untrusted_proxy_headers=False, **options
        )
        self.port = self.server.effective_port
        self._stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        # waitress's own run() loops until its sockets are closed; closing them from another
        # thread while it sits in select() makes that select fail (EBADF). Here the loop
        # checks a flag between short polls and the server is closed in its own thread.
        from waitress import wasyncore

        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=0.05, map=self.server._map, count=1)
        finally:
            self.server.close()
            self.server.task_dispatcher.shutdown(timeout=START_TIMEOUT)

    def stop(self):
        self._stopping.set()
        self.thread.join(START_TIMEOUT)


class SubprocessServer:
    """A server in a subprocess of this interpreter (``argv`` after ``python``), given a socket
    bound here to 127.0.0.1 (ephemeral port) as a file descriptor: the placeholder ``{fd}`` in
    ``argv`` is its number. Ready when ``GET /__ready__`` answers; stopped by its PID."""

    name = "server"

    def __init__(self, argv, directory, env=None):
        import os
        import subprocess
        import sys

        self.sock = listening_socket()
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        fd = self.sock.fileno()
        environ = dict(os.environ)
        environ["PYTHONPATH"] = os.pathsep.join([str(directory), *sys.path])
        environ.update(env or {})
        self.process = subprocess.Popen(
            [sys.executable, *(arg.replace("{fd}", str(fd)) for arg in argv)],
            pass_fds=[fd],
            env=environ,
            stdin=subprocess.DEVNULL,
            cwd=str(directory),
        )

        def answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/__ready__")
                conn.getresponse().read()
                conn.close()
                return True
            except OSError:
                return False

        try:
            _wait(answers, self.name)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        import subprocess

        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(START_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(START_TIMEOUT)
        self.sock.close()


class GunicornServer(SubprocessServer):
    """gunicorn in a subprocess (one sync worker) serving ``module:attribute`` from
    ``directory``, on a socket bound here to 127.0.0.1 (ephemeral port) and handed over as a
    file descriptor; stopped by its PID. gunicorn believes forwarder headers (``SCRIPT_NAME``)
    from 127.0.0.1, its default ``--forwarded-allow-ips``."""

    name = "gunicorn"

    def __init__(self, app_spec, directory, *options):
        super().__init__(
            [
                "-m",
                "gunicorn",
                "-b",
                "fd://{fd}",
                "-w",
                "1",
                "--log-level",
                "warning",
                "--chdir",
                str(directory),
                *options,
                app_spec,
            ],
            directory,
        )


class AiohttpServer:
    def __init__(self, app):
        from aiohttp import web

        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = self.runner.addresses[0][1]
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def stop(self):
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(START_TIMEOUT)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(START_TIMEOUT)
        self.loop.close()


def server_fixture(start):
    """A module-scoped ``server`` fixture: ``start(middleware)`` (the module's ``middleware``
    fixture), stopped after the module's tests."""

    @pytest.fixture(scope="module")
    def server(middleware):
        srv = start(middleware)
        yield srv
        srv.stop()

    return server


# -- clients ---------------------------------------------------------------------------------


def raw_get(port, path, headers=()):
    """GET with exactly these headers (name, bytes-or-str value); never follows redirects."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    try:
        conn.putrequest("GET", path, skip_host=any(name.lower() == "host" for name, _ in headers))
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.msg, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def set_cookies(response):
    return response.headers.get_list("set-cookie")


def cookie_value(set_cookie_header):
    return set_cookie_header.split(";", 1)[0].partition("=")[2]


def walk(port, middleware, core, kind):
    """login -> protected -> refresh after the reissue age -> rotated secret (the old one as
    fallback: accepted and reissued) -> logout -> refused, with a real cookie jar."""
    clock = Clock()
    guard = make_guard(core, kind, clock)
    middleware.guard = guard
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=HTTP_TIMEOUT, follow_redirects=False) as client:
        resp = client.get("/protected/")
        assert resp.status_code == 401, resp.text

        resp = client.get("/login", params={"user": "alice", "tokens": "staff", "data": "d"})
        assert resp.status_code == 200, resp.text
        (login_cookie,) = set_cookies(resp)
        assert login_cookie.startswith("auth_tkt=")
        assert client.cookies.get("auth_tkt") == cookie_value(login_cookie)

        resp = client.get("/protected/")
        assert (resp.status_code, resp.text.split("|")[:2]) == (200, ["alice", "ok"])
        assert set_cookies(resp) == []

        clock.advance(REISSUE_AFTER + 5)
        resp = client.get("/protected/")
        assert resp.status_code == 200, resp.text
        (refreshed,) = set_cookies(resp)
        assert cookie_value(refreshed) != cookie_value(login_cookie)
        assert client.cookies.get("auth_tkt") == cookie_value(refreshed)
        resp = client.get("/protected/")
        assert (resp.status_code, set_cookies(resp)) == (200, [])

        # The secret rotates; the old one stays as a fallback: nobody is logged out.
        guard.factory = make_factory(core, kind, NEW_SECRET, fallback=[SECRET])
        clock.advance(10)
        resp = client.get("/protected/")
        assert resp.status_code == 200, resp.text
        (rotated,) = set_cookies(resp)
        assert (
            make_factory(core, kind, NEW_SECRET)
            .validate(_ticket_of(cookie_value(rotated)), now=clock.now)
            .user_id
            == "alice"
        )
        resp = client.get("/protected/")
        assert (resp.status_code, set_cookies(resp)) == (200, [])

        resp = client.get("/logout")
        assert resp.status_code == 200
        (logout,) = set_cookies(resp)
        assert "Max-Age=0" in logout
        assert "auth_tkt" not in client.cookies
        resp = client.get("/protected/")
        assert resp.status_code == 401
        # Not a cookie of this secret any more: the first ticket, after a full rotation.
        guard.factory = make_factory(core, kind, NEW_SECRET)
        resp = client.get("/protected/", headers={"Cookie": f"auth_tkt={cookie_value(login_cookie)}"})
        assert resp.status_code == 401


def _ticket_of(value):
    """The ticket text in a cookie value (undoing the quoted form with octal escapes)."""
    if value.startswith('"'):
        import re

        return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), value[1:-1])
    return value


# Cookies that must never get past the guard, nor cause a server error.
def bad_cookie_headers(core, kind, clock):
    good = make_factory(core, kind).new
    now = int(clock.now)
    if kind == "ticket":
        expired = good("eve", valid_until=now - 10)
        wrong_ip = good("eve", valid_until=now + 100, client_ip="10.9.8.7")
    else:
        expired = good("eve", timestamp=now - LIFETIME - 10)
        wrong_ip = good("eve", timestamp=now, client_ip="10.9.8.7")
    valid = _ticket_of(make_guard(core, kind, clock).remember("eve").split(";")[0].partition("=")[2])
    forged = make_factory(core, kind, FOREIGN_SECRET).new("eve")
    return {
        "malformed": b"auth_tkt=not-a-ticket",
        "bad-quoting": b'auth_tkt="abc\\q"',
        "oversized": b"auth_tkt=" + b"A" * 5000,
        "forged": b"auth_tkt=" + forged.encode(),
        "expired": b"auth_tkt=" + expired.encode(),
        "wrong-address": b"auth_tkt=" + wrong_ip.encode(),
        "duplicated": f"auth_tkt={valid}; other=1; auth_tkt={valid}".encode(),
        "not-latin-1": "auth_tkt=\u2603\u00e9".encode() + b"\xff\xfe",
        "control-chars": b"auth_tkt=abc\x01def",
        "empty": b"auth_tkt=",
    }


# The bad cookies every adapter's server hands to the guard as they are (the ASGI server also
# passes "control-chars" and "empty").
BAD_COOKIE_CASES = (
    "malformed",
    "bad-quoting",
    "oversized",
    "forged",
    "expired",
    "wrong-address",
    "duplicated",
    "not-latin-1",
)


def check_bad_cookie(port, middleware, core, kind, case, server_may_refuse=False):
    """The bad cookie ``case`` leaves a request anonymous (no server error, and a reason that
    does not name the cookie) and the protected path refused. Needs the app's ``/open`` and
    ``/protected/`` answering "user|reason|...". With ``server_may_refuse``, a 400 from the
    server's own parser (the request never reached the application) is a refusal too."""
    clock = Clock()
    middleware.guard = make_guard(core, kind, clock, bind_ip=True)
    header = bad_cookie_headers(core, kind, clock)[case]
    status, _, body = raw_get(port, "/open", [("Cookie", header)])
    if server_may_refuse and status == 400:
        assert raw_get(port, "/protected/", [("Cookie", header)])[0] == 400
        return
    assert status == 200
    user, reason = body.split("|")[:2]
    assert user == "-"
    assert reason != "ok"
    assert "auth_tkt" not in reason
    assert raw_get(port, "/protected/", [("Cookie", header)])[0] == 401


class AdapterTests:
    """The tests every adapter's module runs the same way, against that module's ``server``
    and ``middleware`` fixtures: a module subclasses this (as ``TestAdapter``) and says which
    proxy addresses its server's peer matches (``trusted_proxies``) and what its app answers
    for a 0.1.4 ticket with ``legacy_user_data`` (``legacy_body``)."""

    trusted_proxies: tuple[str, ...]
    legacy_user_data = ""
    legacy_body: str

    def test_walk(self, server, middleware, core, kind):
        walk(server.port, middleware, core, kind)

    @pytest.mark.parametrize("case", BAD_COOKIE_CASES)
    def test_bad_cookies_are_anonymous(self, server, middleware, core, kind, case):
        check_bad_cookie(server.port, middleware, core, kind, case)

    def test_trusted_proxy_header(self, server, middleware, core, kind):
        """A ticket bound to the address a trusted proxy forwards is accepted with that header,
        refused without it, and refused when no proxy is trusted (the header is ignored)."""
        middleware.guard = make_guard(core, kind, bind_ip=True, trusted_proxies=self.trusted_proxies)
        ticket = make_factory(core, kind).new("pat", client_ip="203.0.113.9")
        cookie = ("Cookie", f"auth_tkt={ticket}")
        assert raw_get(server.port, "/protected/", [cookie, ("X-Forwarded-For", "203.0.113.9")])[0] == 200
        assert raw_get(server.port, "/protected/", [cookie])[0] == 401
        middleware.guard = make_guard(core, kind, bind_ip=True)  # no trusted proxy: the header is ignored
        assert raw_get(server.port, "/protected/", [cookie, ("X-Forwarded-For", "203.0.113.9")])[0] == 401

    def test_014_cookie_accepted(self, server, middleware, core, ta014):
        """A cookie of ticket_auth 0.1.4, under a guard of this package."""
        middleware.guard = make_guard(core, "ticket")
        valid_until = int(time.time()) + LIFETIME
        ticket = ta014.TicketFactory(SECRET).new(
            "legacy", user_data=self.legacy_user_data, valid_until=valid_until
        )
        status, _, body = raw_get(server.port, "/protected/", [("Cookie", f"auth_tkt={ticket}")])
        assert (status, body) == (200, self.legacy_body)
