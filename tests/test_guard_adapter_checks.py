"""What every adapter checks besides the ticket (issue 17): its constructor's arguments, the
websocket handshake's Origin (real servers, the ``websockets`` client), and the transport a
guard-made cookie goes out on (``note_transport``)."""

import warnings

import pytest

import _guard_apps as apps
from _guard_helpers import HTTP_TIMEOUT, AiohttpServer, UvicornServer, make_factory, raw_get
from ticket_auth import TicketFactory
from ticket_auth.guard import InsecureCookieWarning, TicketGuard

websockets_client = pytest.importorskip("websockets.sync.client")
from websockets.exceptions import InvalidStatus  # noqa: E402


def adapters():
    from ticket_auth.guard import asgi, wsgi

    made = [
        ("asgi", lambda guard, app=apps.ok_asgi: asgi.TicketAuthMiddleware(app, guard)),
        ("wsgi", lambda guard, app=apps.ok_wsgi: wsgi.TicketAuthMiddleware(app, guard)),
    ]
    try:
        from ticket_auth.guard import aiohttp
    except ImportError:
        return made
    made.append(("aiohttp", lambda guard, app=None: aiohttp.TicketAuthMiddleware(guard)))
    made.append(("aiohttp-ticket_middleware", lambda guard, app=None: aiohttp.ticket_middleware(guard)))
    return made


ADAPTERS = adapters()


@pytest.mark.parametrize(("name", "make"), ADAPTERS, ids=[name for name, _ in ADAPTERS])
def test_guard_must_be_a_ticket_guard(name, make):
    factory = TicketFactory(b"constructor secret")
    with pytest.raises(TypeError, match=r"wrap the factory in TicketGuard\(TicketFactory"):
        make(factory)
    for wrong in (None, "auth_tkt", {"protect": {}}):
        with pytest.raises(TypeError, match=r"TicketGuard\("):
            make(wrong)
    middleware = make(TicketGuard(factory))
    with pytest.raises(TypeError, match="wrap the factory"):
        middleware.guard = factory  # the same check when the guard is replaced
    assert isinstance(middleware.guard, TicketGuard)


@pytest.mark.parametrize("adapter", ["asgi", "wsgi"])
def test_app_must_be_callable(adapter):
    from ticket_auth.guard import asgi, wsgi

    module = asgi if adapter == "asgi" else wsgi
    with pytest.raises(TypeError, match=r"must be an? (ASGI|WSGI) application"):
        module.TicketAuthMiddleware("not an app", TicketGuard(TicketFactory(b"constructor secret")))


# -- websocket origins -----------------------------------------------------------------------


@pytest.fixture(scope="module", params=["uvicorn-h11", "uvicorn-httptools", "aiohttp"])
def ws_server(request):
    guard = apps.guard_for_mounts()
    if request.param == "aiohttp":
        srv = AiohttpServer(apps.guarded_aiohttp(guard))
    else:
        srv = UvicornServer(apps.guarded_starlette(guard), http=request.param.split("-")[1])
    yield srv, guard
    srv.stop()


def test_websocket_origin(ws_server, core):
    srv, guard = ws_server
    guard.factory = make_factory(core, "ticket")
    url = f"ws://127.0.0.1:{srv.port}/ws/"
    cookie = {"Cookie": guard.remember("wendy").split(";")[0]}
    # A foreign origin is refused before anything else: even with a valid cookie.
    for origin in ("https://evil.example", f"http://127.0.0.1:{srv.port + 1}", "null"):
        with pytest.raises(InvalidStatus) as refused:
            websockets_client.connect(
                url, origin=origin, additional_headers=cookie, open_timeout=HTTP_TIMEOUT
            ).close()
        assert refused.value.response.status_code == 403
    # The same origin, and no origin (not a browser), go on.
    for origin in (f"http://127.0.0.1:{srv.port}", None):
        with websockets_client.connect(
            url, origin=origin, additional_headers=cookie, open_timeout=HTTP_TIMEOUT
        ) as ws:
            assert ws.recv(timeout=HTTP_TIMEOUT) == "wendy"
    # No cookie on a protected websocket path: refused as before.
    with pytest.raises(InvalidStatus) as refused:
        websockets_client.connect(
            url, origin=f"http://127.0.0.1:{srv.port}", open_timeout=HTTP_TIMEOUT
        ).close()
    expected = 403 if isinstance(srv, UvicornServer) else 401  # ASGI: close before accept
    assert refused.value.response.status_code == expected


# -- the transport of a guard-made cookie ------------------------------------------------------


def test_note_transport_warns_once_on_plain_http(core):
    """``remember`` over plain HTTP to a host that is not local warns (once per guard);
    ``secure=False`` does not."""
    guard = TicketGuard(make_factory(core, "ticket"), protect={"/admin/": ()})
    srv = UvicornServer(apps.guarded_starlette(guard))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(2):
                assert raw_get(srv.port, "/login?user=x", [("Host", "app.example.org")])[0] == 200
    finally:
        srv.stop()
    assert [w.category for w in caught] == [InsecureCookieWarning]
