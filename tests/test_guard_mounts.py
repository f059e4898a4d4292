"""Protected paths behind mount points, on real servers (issue 17): the guard must protect
the view the application's router reaches, whatever prefix a server, a proxy header or a
parent application put in front of it.

Each case is a real server with an app whose ``/admin/`` view needs the ``admin`` token,
mounted one way, and the request that reaches that view through the mount. Without a cookie
the request is refused (401, or 303 to the login URL with the full request target as the back
link), with a ticket lacking the token 403, with the token it reaches the view.
"""

import dataclasses

import pytest

import _guard_apps as apps
from _guard_helpers import (
    AiohttpServer,
    GunicornServer,
    UvicornServer,
    WaitressServer,
    make_factory,
    raw_get,
)

pytestmark = pytest.mark.slow  # real servers and frameworks under their mount points: the slow tier

pytest.importorskip("starlette")
pytest.importorskip("fastapi")
pytest.importorskip("flask")
pytest.importorskip("aiohttp")
pytest.importorskip("waitress")


@dataclasses.dataclass(frozen=True)
class Case:
    """A mounted app: how to serve it with a guard, the requests that reach its admin view
    (path, extra headers), and the back link a refusal sends to login for the first one."""

    name: str
    start: object
    requests: tuple
    back: str


CASES = [
    Case(
        "fastapi-root_path-add_middleware",
        lambda guard: UvicornServer(apps.mount_fastapi_add_middleware(guard)),
        (("/api/admin/", ()), ("/admin/", ()), ("/api/admin/x", ())),
        "/api/admin/",
    ),
    Case(
        "fastapi-root_path-wrapped",
        lambda guard: UvicornServer(apps.mount_fastapi_wrapped(guard)),
        (("/api/admin/", ()), ("/admin/", ()), ("/api/admin/x", ())),
        "/api/admin/",
    ),
    Case(
        "uvicorn-root_path",
        lambda guard: UvicornServer(apps.guarded_starlette(guard), root_path="/api"),
        (("/admin/", ()), ("/admin/x", ())),
        "/api/admin/",
    ),
    Case(
        "starlette-Mount",
        lambda guard: UvicornServer(apps.mount_starlette_mount(guard)),
        (("/sub/admin/", ()), ("/sub/admin/x", ())),
        "/sub/admin/",
    ),
    Case(
        "proxyfix-x_prefix-guard-inside",
        lambda guard: WaitressServer(apps.mount_proxyfix_inside(guard)),
        (("/admin/", (("X-Forwarded-Prefix", "/x"),)),),
        "/x/admin/",
    ),
    Case(
        "proxyfix-x_prefix-guard-outside",
        lambda guard: WaitressServer(apps.mount_proxyfix_outside(guard)),
        (("/admin/", (("X-Forwarded-Prefix", "/x"),)),),
        "/admin/",
    ),
    Case(
        "waitress-url_prefix",
        lambda guard: WaitressServer(apps.guarded_flask(guard), url_prefix="/x"),
        (("/x/admin/", ()), ("/x/admin/y", ())),
        "/x/admin/",
    ),
    Case(
        "aiohttp-add_subapp",
        lambda guard: AiohttpServer(apps.mount_aiohttp_subapp(guard)),
        (("/sub/admin/", ()), ("/sub/admin/x", ())),
        "/sub/admin/",
    ),
]


@pytest.fixture(scope="module", params=CASES, ids=lambda case: case.name)
def mounted(request):
    guard = apps.guard_for_mounts()
    srv = request.param.start(guard)
    yield request.param, srv, guard
    srv.stop()


def test_mounted_admin_view_is_protected(mounted, core, kind):
    case, srv, guard = mounted
    guard.factory = make_factory(core, kind)
    guard.login_url = None
    plain = ("Cookie", guard.remember("bob", ("staff",)).split(";")[0])
    admin = ("Cookie", guard.remember("ann", ("admin",)).split(";")[0])
    for path, headers in case.requests:
        status, _, body = raw_get(srv.port, path, headers)
        assert status == 401, (path, status, body)
        status, _, body = raw_get(srv.port, path, [*headers, plain])
        assert status == 403, (path, status, body)
        status, _, body = raw_get(srv.port, path, [*headers, admin])
        assert (status, body) == (200, "admin|ann|admin"), path


def test_mounted_refusal_sends_the_full_target_back(mounted, core):
    case, srv, guard = mounted
    guard.factory = make_factory(core, "ticket")
    guard.login_url = "/login"
    try:
        path, headers = case.requests[0]
        status, response_headers, _ = raw_get(srv.port, path + "?q=1", headers)
    finally:
        guard.login_url = None
    assert status == 303
    from urllib.parse import quote

    assert response_headers["Location"] == "/login?back=" + quote(case.back + "?q=1", safe="")


def test_mounted_open_view_stays_open(mounted, core):
    case, srv, guard = mounted
    guard.factory = make_factory(core, "ticket")
    path, headers = case.requests[0]
    open_path = path.replace("admin/", "open", 1).removesuffix("x")
    status, _, body = raw_get(srv.port, open_path, headers)
    assert (status, body) == (200, "open|-|"), open_path


# -- gunicorn: a SCRIPT_NAME header from a trusted peer ------------------------------------


@pytest.fixture(scope="module")
def gunicorn_server():
    pytest.importorskip("gunicorn")
    srv = GunicornServer("_guard_apps:gunicorn_app", ".")
    yield srv
    srv.stop()


def test_gunicorn_script_name_header(gunicorn_server, core):
    """gunicorn takes ``SCRIPT_NAME`` from a request header sent by a peer in
    ``--forwarded-allow-ips`` (127.0.0.1 by default) and removes it from ``PATH_INFO``, which
    Flask routes on. The guard in the gunicorn process mints with ``TicketFactory(SECRET)``."""
    port = gunicorn_server.port
    script = ("SCRIPT_NAME", "/x")
    factory = make_factory(core, "ticket")
    plain = ("Cookie", f"auth_tkt={factory.new('bob', tokens=('staff',))}")
    admin = ("Cookie", f"auth_tkt={factory.new('ann', tokens=('admin',))}")
    for path in ("/x/admin/", "/x/admin/y"):
        assert raw_get(port, path, [script])[0] == 401
        assert raw_get(port, path, [script, plain])[0] == 403
        assert raw_get(port, path, [script, admin])[:3:2] == (200, "admin|ann|admin")
    assert raw_get(port, "/x/open", [script])[:3:2] == (200, "open|-|")
