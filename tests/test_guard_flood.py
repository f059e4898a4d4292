"""One request must not stall a worker (issue 17): 100,000 ``Cookie`` lines (1.5 MB).

Each adapter collects the Cookie lines in linear time and stops once they exceed
``guard.max_cookie_header`` (the policy then refuses the cookie as oversized). Where a real
server accepts such a request (uvicorn with httptools) the request with the guard costs no
more than a small multiple of the same request to the same server without it, measured in the
same test; aiohttp's and waitress's servers refuse it themselves, so their adapter functions
are given the 100,000 lines directly and compared with one plain pass over the same headers.
"""

import socket
import time

import pytest

from _guard_helpers import HTTP_TIMEOUT, UvicornServer, make_factory
from ticket_auth.guard import OVERSIZED_COOKIE, TicketGuard

pytestmark = pytest.mark.slow  # real servers flooded with Cookie lines: the slow tier

LINES = 100_000
RATIO = 10  # generous: the guard's share is a fraction of the server's own parsing


def flood_request(path="/", lines=LINES):
    head = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    head += [f"Cookie: c{i % 10}=v{i:06d}" for i in range(lines)]
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii")


def send_raw(port, data):
    """Send ``data`` and read the whole response; the status code."""
    with socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT * 6) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return int(b"".join(chunks).split(b" ", 2)[1])


def best_of(runs, func):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


class Switch:
    """One ASGI app that is the guarded app or the bare app, as ``guarded`` says: the same
    server answers with and without the guard."""

    def __init__(self, guarded, bare):
        self.guarded, self.bare, self.use_guard = guarded, bare, True

    async def __call__(self, scope, receive, send):
        await (self.guarded if self.use_guard else self.bare)(scope, receive, send)


async def ok_app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def test_asgi_cookie_flood_on_uvicorn_httptools(core):
    pytest.importorskip("httptools")
    from ticket_auth.guard.asgi import TicketAuthMiddleware

    guard = TicketGuard(make_factory(core, "ticket"), secure=False, protect={"/admin/": ()})
    switch = Switch(TicketAuthMiddleware(ok_app, guard), ok_app)
    srv = UvicornServer(switch, http="httptools")
    try:
        request = flood_request("/open")
        switch.use_guard = False
        assert send_raw(srv.port, request) == 200  # uvicorn with httptools takes it
        bare = best_of(3, lambda: send_raw(srv.port, request))
        switch.use_guard = True
        assert send_raw(srv.port, request) == 200
        guarded = best_of(3, lambda: send_raw(srv.port, request))
        assert send_raw(srv.port, flood_request("/admin/")) == 401
    finally:
        srv.stop()
    assert guarded <= RATIO * bare, (guarded, bare)


def scope_with(lines, path="/admin/"):
    headers = [(b"host", b"127.0.0.1")] + [(b"cookie", b"c%d=v%06d" % (i % 10, i)) for i in range(lines)]
    return {"type": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "headers": headers}


def test_asgi_check_scope_stops_at_the_limit(core):
    """The collected header is refused as oversized, and the work does not grow with the
    number of lines past the limit (100,000 lines cost about what 2,000 do)."""
    from ticket_auth.guard.asgi import check_scope

    guard = TicketGuard(make_factory(core, "ticket"), secure=False, protect={"/admin/": ()})
    for trusted in ((), ("10.0.0.0/8",)):
        guard.trusted_proxies = tuple(__import__("ipaddress").ip_network(n) for n in trusted)
        big, small = scope_with(LINES), scope_with(2000)
        result = check_scope(guard, big)
        assert (result.reason, result.status) == (OVERSIZED_COOKIE, 401)
        flood = best_of(5, lambda big=big: check_scope(guard, big))
        few = best_of(5, lambda small=small: check_scope(guard, small))
        assert flood <= RATIO * few, (flood, few)


def test_aiohttp_cookie_flood():
    """aiohttp's server refuses 100,000 header lines itself; the middleware's reading of
    them is linear and stops at the limit: no more than a small multiple of one plain pass
    over the headers."""
    pytest.importorskip("aiohttp")
    from aiohttp.test_utils import make_mocked_request
    from multidict import CIMultiDict

    from ticket_auth import TicketFactory
    from ticket_auth.guard.aiohttp import check_request

    headers = CIMultiDict([("Host", "127.0.0.1")] + [("Cookie", f"c{i % 10}=v{i:06d}") for i in range(LINES)])
    request = make_mocked_request("GET", "/admin/", headers=headers)
    guard = TicketGuard(TicketFactory(b"flood secret"), secure=False, protect={"/admin/": ()})
    result = check_request(guard, request)
    assert (result.reason, result.status) == (OVERSIZED_COOKIE, 401)
    raw = request.raw_headers

    def one_pass():
        return [value for name, value in raw if name.lower() == b"cookie"]

    assert best_of(3, lambda: check_request(guard, request)) <= RATIO * best_of(3, one_pass)


def test_aiohttp_hands_the_policy_latin_1():
    """The policy's convention: one character per byte of the header (aiohttp's
    ``request.headers`` would give UTF-8 with surrogate escapes). On aiohttp's server."""
    pytest.importorskip("aiohttp")
    import _guard_apps as apps
    from _guard_helpers import AiohttpServer

    seen = []

    class Spy(TicketGuard):
        __slots__ = ()

        def _identify_result(self, cookie_header, *args, **kwargs):
            seen.append(cookie_header)
            return super()._identify_result(cookie_header, *args, **kwargs)

    spy = Spy(apps.guard_for_mounts().factory, secure=False)
    spy._core = spy._direct = (
        None  # the Python rules: what they are handed (the compiled decision reads the raw bytes)
    )
    srv = AiohttpServer(apps.guarded_aiohttp(spy))
    try:
        request = b"GET /open HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        request += b"Cookie: a=\xc3\xa9\xff\r\ncookie: b=1\r\n\r\n"
        assert send_raw(srv.port, request) == 200
    finally:
        srv.stop()
    assert seen == ["a=\xc3\xa9\xff; b=1"]


def test_wsgi_cookie_flood():
    """WSGI servers join the lines into one ``HTTP_COOKIE`` (waitress and gunicorn refuse
    100,000 lines themselves): the middleware hands it on unsplit and the policy refuses it
    by its length, at a cost independent of its size."""
    from ticket_auth import TicketFactory
    from ticket_auth.guard.wsgi import check_environ

    guard = TicketGuard(TicketFactory(b"flood secret"), secure=False, protect={"/admin/": ()})
    joined = "; ".join(f"c{i % 10}=v{i:06d}" for i in range(LINES))
    environ = {"PATH_INFO": "/admin/", "SCRIPT_NAME": "", "HTTP_COOKIE": joined, "REMOTE_ADDR": "127.0.0.1"}
    result = check_environ(guard, environ)
    assert (result.reason, result.status) == (OVERSIZED_COOKIE, 401)
    small = dict(environ, HTTP_COOKIE=joined[: guard.max_cookie_header + 1])
    assert best_of(5, lambda: check_environ(guard, environ)) <= RATIO * best_of(
        5, lambda: check_environ(guard, small)
    )


@pytest.mark.parametrize("server", ["waitress", "aiohttp", "uvicorn-h11"])
def test_servers_that_refuse_the_flood_themselves(server):
    """Where the server refuses the flood (400/431), no guard code runs and no 500 comes."""
    import _guard_apps as apps
    from _guard_helpers import AiohttpServer, WaitressServer

    guard = apps.guard_for_mounts()
    if server == "waitress":
        srv = WaitressServer(apps.guarded_flask(guard))
    elif server == "aiohttp":
        srv = AiohttpServer(apps.guarded_aiohttp(guard))
    else:
        srv = UvicornServer(apps.guarded_starlette(guard), http="h11")
    try:
        try:
            status = send_raw(srv.port, flood_request("/open"))
        except (ConnectionError, IndexError):
            status = 400  # the server closed the connection on the oversized head
        assert status in (400, 413, 431), status
    finally:
        srv.stop()
