"""The small applications the mount and sweep tests put behind the guard, one per framework.

Every app has the same routes, each answering ``"<view>|<user>|<tokens>"`` so that a test
sees which view a request reached: ``/open`` (view ``open``), ``/protected/`` and below
(``protected``), ``/admin/`` and below (``admin``), and ``/__ready__``. ``guarded_*`` build
an app with a ``TicketGuard`` around it; ``mount_*`` put it under the mount points that
issue 17 lists (FastAPI's ``root_path``, Starlette's ``Mount``, aiohttp's sub-applications,
werkzeug's ``ProxyFix``). ``gunicorn_app`` is the WSGI app gunicorn imports (its guard is
made here, with ``TicketFactory(SECRET)``: the test process cannot reach into gunicorn).
"""

import functools

from _guard_helpers import PROTECT, SECRET
from ticket_auth.guard import TicketGuard

VIEWS = ("open", "protected", "admin")


def guard_for_mounts(factory=None, **options):
    """A guard protecting ``PROTECT`` over plain HTTP (``secure=False``)."""
    from ticket_auth import TicketFactory

    settings = dict(protect=PROTECT, secure=False)
    settings.update(options)
    return TicketGuard(factory or TicketFactory(SECRET), **settings)


def _answer(view, ident):
    if ident is None:
        return f"{view}|-|"
    return f"{view}|{ident.user_id}|{','.join(ident.tokens)}"


# -- ASGI: Starlette and FastAPI -----------------------------------------------------------


async def ok_asgi(scope, receive, send):
    """An ASGI app that answers 200 "ok"."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def ok_wsgi(environ, start_response):
    """A WSGI app that answers 200 "ok"."""
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


def starlette_routes():
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route, WebSocketRoute

    from ticket_auth.guard.asgi import identity, remember

    def make(view):
        def endpoint(request):
            return PlainTextResponse(_answer(view, identity(request.scope)))

        return endpoint

    def login(request):
        response = PlainTextResponse("logged in")
        response.headers.append("set-cookie", remember(request.scope, request.query_params["user"]))
        return response

    async def ws_endpoint(websocket):
        await websocket.accept()
        ident = identity(websocket.scope)
        await websocket.send_text(ident.user_id if ident else "-")
        await websocket.close()

    return [
        Route("/login", login),
        WebSocketRoute("/ws/", ws_endpoint),
        Route("/open", make("open")),
        Route("/__ready__", make("open")),
        Route("/protected/", make("protected")),
        Route("/protected/{rest:path}", make("protected")),
        Route("/admin/", make("admin")),
        Route("/admin/{rest:path}", make("admin")),
    ]


def starlette_app():
    from starlette.applications import Starlette

    return Starlette(routes=starlette_routes())


def guarded_starlette(guard):
    from ticket_auth.guard.asgi import TicketAuthMiddleware

    return TicketAuthMiddleware(starlette_app(), guard)


def fastapi_app(root_path=""):
    import warnings

    from fastapi import FastAPI

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FastAPI deprecates root_path=
        app = FastAPI(root_path=root_path) if root_path else FastAPI()
    app.router.routes.extend(starlette_routes())
    return app


def mount_fastapi_add_middleware(guard, root_path="/api"):
    """``app.add_middleware(TicketAuthMiddleware, guard=...)``: inside FastAPI, which has set
    ``root_path`` by then."""
    from ticket_auth.guard.asgi import TicketAuthMiddleware

    app = fastapi_app(root_path)
    app.add_middleware(TicketAuthMiddleware, guard=guard)
    return app


def mount_fastapi_wrapped(guard, root_path="/api"):
    """``TicketAuthMiddleware(fastapi_app)``: outside FastAPI, which sets ``root_path`` after
    the guard ran."""
    from ticket_auth.guard.asgi import TicketAuthMiddleware

    return TicketAuthMiddleware(fastapi_app(root_path), guard)


def mount_starlette_mount(guard, prefix="/sub"):
    """A guarded Starlette app under ``Mount(prefix, app=...)`` of an unguarded one."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    ready = [route for route in starlette_routes() if getattr(route, "path", "") == "/__ready__"]
    return Starlette(routes=[*ready, Mount(prefix, app=guarded_starlette(guard))])


# -- WSGI: Flask ------------------------------------------------------------------------------


def flask_app():
    import flask

    from ticket_auth.guard.wsgi import identity

    app = flask.Flask("guarded")

    def make(view):
        def endpoint(rest=None):
            return _answer(view, identity(flask.request.environ))

        endpoint.__name__ = f"view_{view}"
        return endpoint

    app.add_url_rule("/open", view_func=make("open"))
    app.add_url_rule("/__ready__", endpoint="ready", view_func=make("open"))
    for view in ("protected", "admin"):
        func = make(view)
        app.add_url_rule(f"/{view}/", endpoint=view, view_func=func)
        app.add_url_rule(f"/{view}/<path:rest>", endpoint=f"{view}_rest", view_func=func)
    return app


def guarded_flask(guard):
    from ticket_auth.guard.wsgi import TicketAuthMiddleware

    return TicketAuthMiddleware(flask_app().wsgi_app, guard)


def mount_proxyfix_inside(guard):
    """``ProxyFix(x_prefix=1)`` in front of the guard: the guard sees the forwarded prefix in
    ``SCRIPT_NAME``."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    return ProxyFix(guarded_flask(guard), x_prefix=1)


def mount_proxyfix_outside(guard):
    """The guard in front of ``ProxyFix(x_prefix=1)``."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from ticket_auth.guard.wsgi import TicketAuthMiddleware

    return TicketAuthMiddleware(ProxyFix(flask_app().wsgi_app, x_prefix=1), guard)


@functools.cache
def _gunicorn_app(login_url=None):
    return guarded_flask(guard_for_mounts(login_url=login_url))


def gunicorn_app(environ, start_response):
    """What gunicorn serves (``_guard_apps:gunicorn_app``); the guarded Flask app is built on
    first use, so that importing this module in the test process builds none."""
    return _gunicorn_app()(environ, start_response)


def gunicorn_app_login(environ, start_response):
    """``gunicorn_app`` with the guard's ``login_url="/login"`` (refusals redirect, with a back
    link built from the request target)."""
    return _gunicorn_app("/login")(environ, start_response)


# -- aiohttp ----------------------------------------------------------------------------------


def aiohttp_routes(app):
    from aiohttp import web

    from ticket_auth.guard.aiohttp import identity, remember

    def make(view):
        async def handler(request):
            return web.Response(text=_answer(view, identity(request)))

        return handler

    async def login(request):
        response = web.Response(text="logged in")
        remember(request, response, request.query["user"])
        return response

    async def ws_handler(request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        ident = identity(request)
        await ws.send_str(ident.user_id if ident else "-")
        await ws.close()
        return ws

    app.router.add_get("/login", login)
    app.router.add_get("/ws/", ws_handler)
    app.router.add_get("/open", make("open"))
    app.router.add_get("/__ready__", make("open"))
    for view in ("protected", "admin"):
        app.router.add_get(f"/{view}/", make(view))
        app.router.add_get(f"/{view}/{{rest:.*}}", make(view))
    return app


def guarded_aiohttp(guard):
    from aiohttp import web

    from ticket_auth.guard.aiohttp import TicketAuthMiddleware

    return aiohttp_routes(web.Application(middlewares=[TicketAuthMiddleware(guard)]))


def mount_aiohttp_subapp(guard, prefix="/sub/"):
    """A guarded sub-application under ``add_subapp(prefix, ...)`` of an unguarded app."""
    from aiohttp import web

    async def ready(request):
        return web.Response(text="open|-|")

    main = web.Application()
    main.router.add_get("/__ready__", ready)
    main.add_subapp(prefix, guarded_aiohttp(guard))
    return main
