"""The adversarial sweep of issue 17: odd targets x methods x real servers, header floods and
random headers, with no cookie and with a valid ticket lacking the tokens. Whatever the
request, no server error (5xx) and no protected view reached without what it needs.

Servers: uvicorn (h11 and httptools) serving Starlette, waitress and gunicorn serving Flask,
aiohttp's own server, with its C parser and (in a subprocess with ``AIOHTTP_NO_EXTENSIONS=1``)
with its pure-Python parser, which hands non-UTF-8 bytes of the target through as surrogates.
Each runs once with refusals as 401/403 and once with ``login_url`` (a 303 whose back link is
built from the request target). Every app has ``/admin/`` (needs the ``admin`` token) and
``/protected/`` (needs a ticket), answering ``"<view>|<user>|<tokens>"``; the requests are
sent as raw bytes, so that the targets reach the server as written.
"""

import socket
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import _guard_apps as apps
from _guard_helpers import (
    HTTP_TIMEOUT,
    SECRET,
    AiohttpServer,
    GunicornServer,
    SubprocessServer,
    UvicornServer,
    WaitressServer,
    make_factory,
)

pytestmark = pytest.mark.slow  # real servers (uvicorn, waitress, gunicorn, aiohttp): the slow tier

pytest.importorskip("starlette")
pytest.importorskip("flask")
pytest.importorskip("aiohttp")

TARGETS = [
    b"//admin/",
    b"///admin/",
    b"/admin",
    b"/ADMIN/",
    b"/Admin/",
    b"/%61dmin/",
    b"/admin%2F",
    b"/admin%2f",
    b"/admin%252F",
    b"/./admin/",
    b"/%2e/admin/",
    b"/x/../admin/",
    b"/open/../admin/",
    b"/open%2F..%2Fadmin/",
    b"/%2e%2e/admin/",
    b"/protected/..%2Fadmin/",
    b"/admin/\xff",
    b"/admin/%ff",
    b"/admin/%00",
    b"/\\evil.example",
    b"/\\admin/",
    b"/admin;x",
    b"/admin/;x",
    b"/admin/?x=1",
    b"/admin/?",
    b"/admin?/",
    b"/admin/??a=/admin/",
    b"/?/admin/",
    b"/admin/#x",
    b"http://127.0.0.1/admin/",
    b"*",
    b"/" + b"a/" * 500 + b"../" * 500 + b"admin/",
    b"/admin/" + b"x" * 9000,
    b"/protected/",
    b"//protected/",
    b"/protected",
]
METHODS = [b"GET", b"POST", b"PUT", b"OPTIONS"]
SERVERS = ["uvicorn-h11", "uvicorn-httptools", "waitress", "gunicorn", "aiohttp", "aiohttp-pure"]
LOGIN = [None, "/login"]


def request(port, method, target, headers=()):
    """Send one request as raw bytes; (status, body) (status 0: the server closed the
    connection without an answer, which is a refusal too)."""
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    lines += [name + b": " + value for name, value in headers]
    data = b"\r\n".join(lines) + b"\r\n"
    if method in (b"POST", b"PUT"):
        data += b"Content-Length: 0\r\n"
    data += b"\r\n"
    chunks = []
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT) as sock:
            sock.sendall(data)
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except ConnectionError:
        pass
    response = b"".join(chunks)
    if not response:
        return 0, b""
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def assert_safe(status, body, cookie_tokens):
    """No server error; no admin view without the admin token; no protected view without a
    ticket."""
    assert status < 500, (status, body[:200])
    if "admin" not in (cookie_tokens or ()):
        assert b"admin|" not in body, (status, body[:200])
    if cookie_tokens is None:
        assert b"protected|" not in body, (status, body[:200])


@pytest.fixture(
    scope="module",
    params=[(server, login) for server in SERVERS for login in LOGIN],
    ids=lambda p: p[0] + ("-login" if p[1] else ""),
)
def swept(request):
    """(server, guard or None when the guard lives in another process)."""
    kind, login_url = request.param
    guard = apps.guard_for_mounts(login_url=login_url)
    if kind == "gunicorn":
        pytest.importorskip("gunicorn")
        spec = "_guard_apps:gunicorn_app_login" if login_url else "_guard_apps:gunicorn_app"
        srv, guard = GunicornServer(spec, "."), None
    elif kind == "aiohttp-pure":
        srv = SubprocessServer(
            ["_aiohttp_pure_server.py", "{fd}", *([login_url] if login_url else [])],
            Path(__file__).parent,
            env={"AIOHTTP_NO_EXTENSIONS": "1"},
        )
        guard = None
    elif kind == "waitress":
        srv = WaitressServer(apps.guarded_flask(guard))
    elif kind == "aiohttp":
        srv = AiohttpServer(apps.guarded_aiohttp(guard))
    else:
        srv = UvicornServer(apps.guarded_starlette(guard), http=kind.split("-")[1])
    yield srv, guard
    srv.stop()


def cookies(swept, core):
    """(header list, tokens) pairs: no cookie, and a valid ticket without the admin token."""
    _, guard = swept
    factory = make_factory(core, "ticket")
    if guard is not None:
        guard.factory = factory
    else:  # the guard of a server in another process: TicketFactory(SECRET), the same secret
        factory = make_factory(core, "ticket", SECRET)
    ticket = factory.new("bob", tokens=("staff",))
    return [((), None), (((b"Cookie", b"auth_tkt=" + ticket.encode()),), ("staff",))]


def test_odd_targets(swept, core):
    srv, _ = swept
    for headers, tokens in cookies(swept, core):
        for target in TARGETS:
            for method in METHODS:
                status, body = request(srv.port, method, target, headers)
                assert_safe(status, body, tokens)


def test_header_floods(swept, core):
    srv, _ = swept
    for headers, tokens in cookies(swept, core):
        many = [(b"X-H%d" % i, b"v" * 20) for i in range(90)]
        long_cookie = [(b"Cookie", b"a=" + b"b" * 20000)]
        repeated = [(b"Cookie", b"c%d=d" % i) for i in range(90)]
        for extra in (many, long_cookie, repeated, [(b"Cookie", b"auth_tkt=x")] * 3):
            for target in (b"/admin/", b"/protected/", b"//admin/"):
                status, body = request(srv.port, b"GET", target, [*headers, *extra])
                assert_safe(status, body, tokens)


# Header names: tokens; values: visible ASCII, space, tab and obs-text bytes.
NAMES = st.text(
    alphabet="!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    min_size=1,
    max_size=12,
).map(str.encode)
VALUES = st.binary(max_size=60).map(lambda b: bytes(c for c in b if c == 9 or 32 <= c != 127).strip())


@settings(max_examples=15, deadline=None)
@given(
    headers=st.lists(st.tuples(NAMES, VALUES), max_size=6),
    target=st.sampled_from([b"/admin/", b"/protected/", b"//admin/", b"/admin%2F"]),
    with_cookie=st.booleans(),
)
def test_random_headers(swept, core, headers, target, with_cookie):
    srv, _ = swept
    (no_cookie, none), (cookie, tokens) = cookies(swept, core)
    extra, expected = (cookie, tokens) if with_cookie else (no_cookie, none)
    status, body = request(srv.port, b"GET", target, [*extra, *headers])
    assert_safe(status, body, expected)
