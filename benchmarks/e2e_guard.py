#!/usr/bin/env python3
"""End-to-end benchmark of the request guard: requests per second through real servers.

    python benchmarks/e2e_guard.py                  # every configuration, about 5 minutes
    python benchmarks/e2e_guard.py --smoke          # each server checked and loaded ~1 s
    python benchmarks/e2e_guard.py --in-process     # the ASGI middlewares' CPU, no server

The same minimal app (one route answering the user's id) under each configuration:

* under uvicorn (one worker, Starlette app): ``asgi-none`` (no authentication),
  ``asgi-none-cookie`` (no authentication, but wrk sends the guard's cookie: what the server
  spends receiving it), ``asgi-middleware`` (a middleware that copies the scope and stores a
  value, the cookie sent: what having a middleware costs), ``asgi-floor-b`` (the same middleware computing the
  ticket's two digests as floor B does, from C through OpenSSL's EVP functions: the least any
  check of the ticket costs, where the guard runs), ``asgi-guard-compiled`` and ``asgi-guard-pure``
  (``ticket_auth.guard.asgi`` with ``TicketFactory``, the compiled or the pure core),
  ``asgi-session`` (Starlette's ``SessionMiddleware``, an itsdangerous-signed session cookie);
* under aiohttp's own server: ``aiohttp-none``, ``aiohttp-none-cookie``,
  ``aiohttp-middleware`` (a middleware that stores a value on the request and nothing else:
  what aiohttp charges for having one), ``aiohttp-floor-b`` (the same, computing floor B),
  ``aiohttp-guard-compiled``, ``aiohttp-guard-pure`` (``ticket_auth.guard.aiohttp``) and
  ``aiohttp_auth`` (aiohttp_auth 0.1.1's ``CookieTktAuthentication`` on ticket_auth 0.1.4,
  patched to run on current aiohttp, see tests/_aiohttp_auth.py).

Every server runs in a subprocess on 127.0.0.1 (it binds port 0 and prints it), gets its
cookie from its own ``/login`` route (the ticket is the suite's typical one: a 16-character
user id, two tokens, short user data, sha512, bound to 127.0.0.1), is checked (the cookie
gives 200 and the user id, no cookie gives 401), warmed up (``--warmup`` seconds of load, not
recorded), then loaded by ``wrk -t1 -cC -dDs`` with that cookie, ``--rounds`` times with the
configurations interleaved (each round starts at another configuration and alternates
direction). With ``taskset`` and two CPUs, every server is pinned to the first CPU and wrk to
the second (``--no-pin``: not), so that wrk and the server do not take turns on one CPU.

For each configuration it prints the best and the median round's requests per second, and
the ratio to no authentication on the same server computed within each round (median, lowest,
highest): on a machine shared with other work, load changes between rounds, and a ratio of
two runs seconds apart is steadier than a ratio of two medians. It also reads the server
process's CPU time around each wrk run (Linux ``/proc/PID/task/*/schedstat``) and prints CPU
microseconds per request: time spent waiting for a CPU is not in it, so it is the steadiest
figure on a busy machine.
Everything is bounded: traffic goes to 127.0.0.1 only, each wrk run stops after its duration,
the whole run stops starting rounds after ``--max-seconds``, and each server exits after
``--server-lifetime`` seconds or when its parent is gone. Servers are stopped by PID.
"""

import argparse
import asyncio
import functools
import json
import os
import shutil
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _bench
import _e2e

HOST = _e2e.HOST
ASGI = (
    "asgi-none",
    "asgi-none-cookie",
    "asgi-middleware",
    "asgi-floor-b",
    "asgi-guard-compiled",
    "asgi-guard-pure",
    "asgi-session",
)
AIOHTTP = (
    "aiohttp-none",
    "aiohttp-none-cookie",
    "aiohttp-middleware",
    "aiohttp-floor-b",
    "aiohttp-guard-compiled",
    "aiohttp-guard-pure",
    "aiohttp_auth",
)
CONFIGS = ASGI + AIOHTTP
COOKIE_NAME = {"asgi-session": "session", "aiohttp_auth": "AUTH_TKT"}
LIFETIME = 7200


def _guard(core):
    if core == "pure":
        from ticket_auth._ticketcore_py import TicketFactory
    else:
        from ticket_auth._ticketcore import TicketFactory
    from ticket_auth.guard import TicketGuard

    # No protected path: the app answers 401 itself when there is no identity, as with the
    # session middleware, so that /login/ is reachable.
    return TicketGuard(TicketFactory(_bench.SECRET, "sha512"), lifetime=LIFETIME, bind_ip=True)


# --------------------------------------------------------------------------- servers


def _floor_b_digests():
    """A function computing floor B for the typical ticket (its two sha512 digests through
    OpenSSL's EVP functions from C: benchmarks/_floor_b.py), and checking it once against the
    ticket's digest."""
    import _floor_b
    from ticket_auth.guard import _decode_cookie_value

    cookie = _guard("pure").remember(_bench.USER_ID, _bench.TOKENS, _bench.USER_DATA, peer=HOST)
    ticket = _decode_cookie_value(cookie.split(";", 1)[0].split("=", 1)[1])
    floor = _floor_b.floor("sha512")
    inner = _bench.floor_input(ticket, "sha512", HOST)
    if floor.digest(inner, _bench.SECRET).hex() != ticket[:128]:
        raise RuntimeError("floor B does not give the ticket's digest")
    return functools.partial(floor.run, inner, _bench.SECRET)


class EmptyMiddleware:
    """An ASGI middleware that does what any middleware storing a result must (copy the scope,
    store a value) and nothing else: what having a middleware costs. With ``work``, it also
    calls ``work()`` for every request (floor B's two digests: what checking a ticket's
    digest costs at the least, measured where the guard runs)."""

    def __init__(self, app, work=None):
        self.app = app
        self.work = work

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            scope = dict(scope)
            scope["empty"] = self.work() if self.work is not None else None
        await self.app(scope, receive, send)


def asgi_app(config):
    """The Starlette app of an ASGI configuration."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    middleware = []
    login_cookie = None
    if config.startswith("asgi-guard-"):
        from ticket_auth.guard.asgi import TicketAuthMiddleware, identity, remember

        guard = _guard(config.rsplit("-", 1)[1])
        middleware = [Middleware(TicketAuthMiddleware, guard=guard)]

        def user(request):
            ident = identity(request.scope)
            return ident.user_id if ident else None

        def login_cookie(request):
            return remember(request.scope, _bench.USER_ID, _bench.TOKENS, _bench.USER_DATA)

    elif config == "asgi-session":
        middleware = [Middleware(SessionMiddleware, secret_key=_bench.SECRET.hex(), https_only=False)]

        def user(request):
            return request.session.get("user")

    elif config in ("asgi-middleware", "asgi-floor-b"):
        work = _floor_b_digests() if config == "asgi-floor-b" else None
        middleware = [Middleware(EmptyMiddleware, work=work)]

        def user(request):
            return _bench.USER_ID

    else:

        def user(request):
            return _bench.USER_ID

    async def home(request):
        who = user(request)
        if who is None:
            return PlainTextResponse("anonymous\n", status_code=401)
        return PlainTextResponse(who)

    async def login(request):
        response = PlainTextResponse("ok")
        if config == "asgi-session":
            request.session["user"] = _bench.USER_ID
        elif login_cookie is not None:
            response.headers.append("set-cookie", login_cookie(request))
        return response

    return Starlette(routes=[Route("/", home), Route("/login/", login)], middleware=middleware)


def serve_asgi(config, lifetime):
    import uvicorn

    app = asgi_app(config)
    # proto IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP (with
    # proto 0 every keep-alive response would wait for a delayed ACK, about 40 ms).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind((HOST, 0))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            proxy_headers=False,
            http=os.environ.get("E2E_UVICORN_HTTP", "auto"),
        )
    )

    def stop():
        server.should_exit = True

    _e2e.lifetime_watch(lifetime, stop)
    server.run(sockets=[sock])


def serve_aiohttp(config, lifetime):
    from aiohttp import web

    middlewares = []
    if config.startswith("aiohttp-guard-"):
        from ticket_auth.guard.aiohttp import TicketAuthMiddleware, identity, remember

        middlewares = [TicketAuthMiddleware(_guard(config.rsplit("-", 1)[1]))]

        async def user(request):
            ident = identity(request)
            return ident.user_id if ident else None

        async def do_login(request, response):
            remember(request, response, _bench.USER_ID, _bench.TOKENS, _bench.USER_DATA)

    elif config == "aiohttp_auth":
        sys.path.insert(0, str(_bench.TESTS_DIR))
        import _aiohttp_auth

        aiohttp_auth, error = _aiohttp_auth.load(_bench._load_014())
        if aiohttp_auth is None:
            raise SystemExit(error)
        policy = aiohttp_auth.auth.CookieTktAuthentication(_bench.SECRET, LIFETIME, include_ip=True)
        middlewares = [_aiohttp_auth.middleware(aiohttp_auth, policy)]

        async def user(request):
            return await aiohttp_auth.auth.get_auth(request)

        async def do_login(request, response):
            await aiohttp_auth.auth.remember(request, _bench.USER_ID)

    else:
        if config in ("aiohttp-middleware", "aiohttp-floor-b"):
            empty_key = web.RequestKey("empty", object) if hasattr(web, "RequestKey") else "empty"
            work = _floor_b_digests() if config == "aiohttp-floor-b" else None

            @web.middleware
            async def nothing(request, handler):
                # What any middleware storing a result must do (and floor B's digests).
                request[empty_key] = work() if work is not None else None
                return await handler(request)

            middlewares = [nothing]

        async def user(request):
            return _bench.USER_ID

        async def do_login(request, response):
            pass

    async def home(request):
        who = await user(request)
        if who is None:
            return web.Response(status=401, text="anonymous\n")
        return web.Response(text=who)

    async def login(request):
        response = web.Response(text="ok")
        await do_login(request, response)
        return response

    app = web.Application(middlewares=middlewares)
    app.router.add_get("/", home)
    app.router.add_get("/login/", login)
    _e2e.serve_aiohttp_app(app, lifetime)


class Server(_e2e.Server):
    """A configuration's server, and the cookie ``prepare`` got from its /login/."""

    def __init__(self, config, lifetime, cpu=None):
        super().__init__(__file__, config, lifetime, cpu)
        self.cookie = None


get = _e2e.get


def prepare(server):
    """Log in (the server's own /login/ sets the cookie), then check that the cookie gives 200
    with the user id and that no cookie gives 401."""
    status, headers, body = get(server.port, "/login/")
    assert status == 200, f"{server.name}: /login/ gave {status} {body!r}"
    name = COOKIE_NAME.get(server.name, "auth_tkt")
    if server.name.endswith("-none"):
        server.cookie = None
    elif server.name.endswith(("-none-cookie", "-middleware", "-floor-b")):
        # No authentication, but the request carries the guard's cookie all the same: what
        # the server itself spends on receiving that header (and the middlewares that stand
        # for the guard's fixed costs get the same request as the guard).
        cookie = _guard("pure").remember(_bench.USER_ID, _bench.TOKENS, _bench.USER_DATA, peer=HOST)
        server.cookie = cookie.split(";", 1)[0]
    else:
        cookies = [
            h.split(";", 1)[0] for h in headers.get_all("Set-Cookie") or [] if h.startswith(name + "=")
        ]
        assert len(cookies) == 1, f"{server.name}: login set {headers.get_all('Set-Cookie')}"
        server.cookie = cookies[0]
    status, _, body = get(server.port, "/", server.cookie)
    assert (status, body) == (200, _bench.USER_ID), f"{server.name}: the cookie gave {status} {body!r}"
    if server.cookie is not None and not server.name.endswith(("-none-cookie", "-middleware", "-floor-b")):
        status, _, body = get(server.port, "/")
        assert status == 401, f"{server.name}: no cookie gave {status} {body!r}"


def _cpu_ns(pid):
    """CPU time the process has used so far, in nanoseconds (every thread; Linux schedstat),
    or None where /proc does not tell."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total


def load_wrk(server, args, cpu=None, duration=None):
    """One wrk run against ``server``: (requests per second, the server's CPU microseconds
    per request or None)."""
    duration = duration or args.duration
    pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
    cmd = [*pin, "wrk", "-t1", f"-c{args.concurrency}", f"-d{duration}s", "--timeout", "2s"]
    if server.cookie:
        cmd += ["-H", f"Cookie: {server.cookie}"]
    cmd.append(f"http://{HOST}:{server.port}/")
    cpu_before = _cpu_ns(server.proc.pid)
    rps, count = _e2e.run_wrk(cmd, duration, server.name)
    cpu_after = _cpu_ns(server.proc.pid)
    cpu_us = None
    if cpu_before is not None and cpu_after is not None and count:
        cpu_us = (cpu_after - cpu_before) / count / 1000
    return rps, cpu_us


def _bare_app(config):
    """The middleware of an ASGI configuration around an app that only answers 200 (no
    Starlette), so that what is timed is the middleware itself."""
    body = {"type": "http.response.body", "body": b"ok"}
    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}

    async def bare(scope, receive, send):
        await send(start)
        await send(body)

    if config.startswith("asgi-guard-"):
        from ticket_auth.guard.asgi import TicketAuthMiddleware

        return TicketAuthMiddleware(bare, _guard(config.rsplit("-", 1)[1]))
    if config == "asgi-session":
        from starlette.middleware.sessions import SessionMiddleware

        return SessionMiddleware(bare, secret_key=_bench.SECRET.hex(), https_only=False)
    if config in ("asgi-middleware", "asgi-floor-b"):
        return EmptyMiddleware(bare, _floor_b_digests() if config == "asgi-floor-b" else None)
    return bare


def in_process(configs, repeats, requests):
    """Microseconds per request of each ASGI configuration called directly (no server, no
    network): the CPU the middleware adds. Two apps per configuration: the Starlette app the
    servers run ("app"), and the middleware alone around an app that only answers 200
    ("middleware"), and that again without a cookie ("no cookie"). The loops of all configurations are interleaved, ``repeats`` rounds of
    ``requests`` requests each, so that other load on the machine hits them alike; returns
    {(config, "app", "middleware" or "no cookie"): [microseconds per request of each round]}. The cookie
    is the one the Starlette app's /login/ sets (for asgi-session, a session holding the user)."""
    import itertools

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    def scope(path, cookie):
        headers = [(b"host", b"127.0.0.1"), (b"user-agent", b"wrk"), (b"accept", b"*/*")]
        if cookie:
            headers.append((b"cookie", cookie.encode("latin-1")))
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "client": (HOST, 50000),
            "server": (HOST, 8000),
        }

    async def run():
        loops = {}
        for config in configs:
            app = asgi_app(config)
            sent = []

            async def send(message, sent=sent):
                sent.append(message)

            await app(scope("/login/", None), receive, send)
            start = next(m for m in sent if m["type"] == "http.response.start")
            cookies = [
                v.decode("latin-1").split(";", 1)[0] for k, v in start["headers"] if k == b"set-cookie"
            ]
            with_cookie = scope("/", cookies[0] if cookies else None)
            bare = _bare_app(config)
            for kind, target, the_scope in (
                ("app", app, with_cookie),
                ("middleware", bare, with_cookie),
                ("no cookie", bare, scope("/", None)),
            ):
                sent.clear()
                await target(dict(the_scope), receive, send)
                status = next(m for m in sent if m["type"] == "http.response.start")["status"]
                assert status == 200, f"{config} ({kind}): {status}"
                if config.startswith("asgi-guard-"):
                    assert not any(k == b"set-cookie" for k, _ in sent[0]["headers"]), "reissued?"
                    assert kind == "no cookie" or bare.guard.check(cookies[0], peer=HOST).reason == "ok"
                loops[config, kind] = (target, the_scope, send, sent)
            if config.startswith("asgi-guard-"):
                # The codec alone on the same ticket: what the middleware's cost is measured against.
                from ticket_auth.guard import _decode_cookie_value

                ticket = _decode_cookie_value(cookies[0].split("=", 1)[1])
                validate = functools.partial(bare.guard.factory.validate, ticket, HOST)
                validate()
                loops[config, "validate"] = validate
        results = {key: [] for key in loops}
        for _, (key, entry) in itertools.product(range(repeats), loops.items()):
            if key[1] == "validate":
                t0 = time.perf_counter()
                for _ in range(requests):
                    entry()
                results[key].append((time.perf_counter() - t0) / requests * 1e6)
                continue
            target, the_scope, send, sent = entry
            sent.clear()
            t0 = time.perf_counter()
            for _ in range(requests):
                await target(dict(the_scope), receive, send)
            results[key].append((time.perf_counter() - t0) / requests * 1e6)
        return results

    return asyncio.run(run())


def in_process_adapters(repeats, requests):
    """Microseconds per request of the WSGI and aiohttp middlewares called directly (compiled
    and pure cores), each around a handler that only answers, against that handler alone, and
    validate on the same ticket: {(adapter, config): [microseconds of each round]}."""
    import itertools

    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from ticket_auth.guard import _decode_cookie_value
    from ticket_auth.guard.aiohttp import TicketAuthMiddleware as AiohttpMiddleware
    from ticket_auth.guard.wsgi import TicketAuthMiddleware as WsgiMiddleware

    body = [b"ok"]

    def wsgi_app(environ, start_response):
        start_response("200 OK", [("Content-Length", "2")])
        return body

    def start_response(status, headers, exc_info=None):
        return None

    response = web.Response(text="ok")

    async def handler(request):
        return response

    class Transport:
        def get_extra_info(self, name, default=None):
            return (HOST, 50000) if name == "peername" else default

        def is_closing(self):
            return False

    def drive(coroutine):
        try:
            coroutine.send(None)
        except StopIteration as stop:
            return stop.value
        raise RuntimeError("the middleware waited")

    loops = {}
    for core in ("compiled", "pure"):
        guard = _guard(core)
        cookie = guard.remember(_bench.USER_ID, _bench.TOKENS, _bench.USER_DATA, peer=HOST).split(";", 1)[0]
        ticket = _decode_cookie_value(cookie.split("=", 1)[1])
        environ = {
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": "",
            "PATH_INFO": "/",
            "QUERY_STRING": "",
            "SERVER_NAME": HOST,
            "SERVER_PORT": "8000",
            "REMOTE_ADDR": HOST,
            "HTTP_HOST": HOST,
            "HTTP_USER_AGENT": "wrk",
            "HTTP_ACCEPT": "*/*",
            "HTTP_COOKIE": cookie,
            "wsgi.url_scheme": "http",
        }
        wsgi = WsgiMiddleware(wsgi_app, guard)
        headers = {"Host": HOST, "User-Agent": "wrk", "Accept": "*/*", "Cookie": cookie}
        middleware = AiohttpMiddleware(guard)
        request = make_mocked_request("GET", "/", headers=headers, transport=Transport())
        assert wsgi(dict(environ), start_response) is body
        assert drive(middleware(request, handler)) is response
        assert guard.check(cookie, peer=HOST).reason == "ok"
        loops["wsgi", core] = lambda wsgi=wsgi, environ=environ: wsgi(dict(environ), start_response)
        loops["aiohttp", core] = lambda middleware=middleware, request=request: drive(
            middleware(request, handler)
        )
        loops["validate", core] = functools.partial(guard.factory.validate, ticket, HOST)
    environ_none = {"PATH_INFO": "/", "HTTP_COOKIE": "x"}
    request_none = make_mocked_request("GET", "/", headers={"Host": HOST}, transport=Transport())
    loops["wsgi", "none"] = lambda: wsgi_app(dict(environ_none), start_response)
    loops["aiohttp", "none"] = lambda: drive(handler(request_none))
    results = {key: [] for key in loops}
    for _, (key, call) in itertools.product(range(repeats), loops.items()):
        t0 = time.perf_counter()
        for _ in range(requests):
            call()
        results[key].append((time.perf_counter() - t0) / requests * 1e6)
    return results


def print_in_process_adapters(figures):
    print(
        "the WSGI and aiohttp middlewares alone (around a handler that only answers), best and median round:"
    )
    for adapter in ("wsgi", "aiohttp"):
        base = figures[adapter, "none"]
        for core in ("none", "compiled", "pure"):
            values = figures[adapter, core]
            best, median = min(values), statistics.median(values)
            extra = ""
            if core != "none":
                added = best - min(base)
                extra = f"  ({added:+.2f} / {median - statistics.median(base):+.2f})"
                extra += f"  = {added / min(figures['validate', core]):.2f} x validate"
            print(f"  {adapter + ' ' + core:<24}{best:>7.2f}{median:>8.2f} us/request{extra}")


def print_in_process(figures, repeats, requests):
    print(
        f"in process: each ASGI configuration called directly, {repeats} interleaved rounds x "
        f"{requests} requests; microseconds per request (best round, median round)"
    )
    for kind, label in (
        ("app", "the Starlette app"),
        ("middleware", "the middleware alone (around an app that only answers 200)"),
        ("no cookie", "the middleware alone, a request without a cookie"),
    ):
        print(f"{label}:")
        base = figures.get(("asgi-none", kind))
        for (config, k), values in figures.items():
            if k != kind:
                continue
            best, median = min(values), statistics.median(values)
            extra = f"  ({best - min(base):+.2f} / {median - statistics.median(base):+.2f} vs asgi-none)"
            codec = figures.get((config, "validate"))
            if codec and base and kind == "middleware":
                extra += f"  = {(best - min(base)) / min(codec):.2f} x validate"
            print(f"  {config:<24}{best:>7.2f}{median:>8.2f} us/request{extra if base else ''}")
    print("validate alone (the same ticket and client address, the guard's factory):")
    for (config, k), values in figures.items():
        if k == "validate":
            print(f"  {config:<24}{min(values):>7.2f}{statistics.median(values):>8.2f} us/call")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--configs", default=",".join(CONFIGS), help="comma-separated, from: " + ", ".join(CONFIGS)
    )
    parser.add_argument("--duration", type=int, default=2, help="seconds per wrk run")
    parser.add_argument("--concurrency", type=int, default=32, help="wrk connections")
    parser.add_argument("--rounds", type=int, default=10, help="rounds, configurations interleaved")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of unrecorded load per server first")
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin the servers to the first CPU and wrk to the second (taskset)",
    )
    parser.add_argument("--max-seconds", type=float, default=400, help="start no wrk run after this")
    parser.add_argument("--server-lifetime", type=float, default=600, help="a server exits after this")
    parser.add_argument(
        "--uvicorn-http",
        choices=("auto", "httptools", "h11"),
        default="auto",
        help="uvicorn's HTTP parser (auto: httptools when installed, as uvicorn[standard] deploys it)",
    )
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    parser.add_argument(
        "--png", metavar="OUT", help="also draw the server CPU per request as a bar chart (needs matplotlib)"
    )
    parser.add_argument("--smoke", action="store_true", help="1 s, 1 round, 8 connections, no warm-up")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="instead of servers: microseconds per request of the ASGI apps called directly",
    )
    parser.add_argument(
        "--in-process-rounds", type=int, default=25, metavar="N", help="--in-process: rounds (default 25)"
    )
    parser.add_argument(
        "--chart-from", metavar="RESULTS.json", help="draw --png from a saved --json run instead of running"
    )
    parser.add_argument("--serve", metavar="CONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.duration, args.rounds, args.concurrency, args.warmup = 1, 1, 8, 0
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.serve:
        (serve_asgi if args.serve in ASGI else serve_aiohttp)(args.serve, args.server_lifetime)
        return 0
    if args.chart_from:
        if not args.png:
            sys.exit("--chart-from needs --png OUT")
        saved = json.loads(Path(args.chart_from).read_text(encoding="utf-8"))
        configs = [config for config in CONFIGS if config in saved["cpu_summary"]]
        draw(configs, saved["cpu_summary"], args.png, saved.get("stack", ""))
        return 0
    if args.in_process:
        repeats, requests = (2, 200) if args.smoke else (args.in_process_rounds, 2000)
        wanted = {name.strip() for name in args.configs.split(",")}
        configs = [config for config in ASGI if config in wanted and not config.endswith("-none-cookie")]
        if "asgi-none" not in configs:
            sys.exit("--in-process needs asgi-none among --configs")
        print_in_process(in_process(configs, repeats, requests), repeats, requests)
        print_in_process_adapters(in_process_adapters(repeats, requests))
        return 0
    if not shutil.which("wrk"):
        sys.exit("wrk is not on PATH (Debian: apt-get install wrk)")
    started = time.monotonic()
    configs = [name.strip() for name in args.configs.split(",") if name.strip()]
    unknown = set(configs) - set(CONFIGS)
    if unknown:
        sys.exit(f"unknown configurations: {', '.join(sorted(unknown))}")
    pin = _pinning(args)
    os.environ["E2E_UVICORN_HTTP"] = args.uvicorn_http  # read by the uvicorn servers (subprocesses)
    stack = _stack(args.uvicorn_http)
    print(
        f"e2e guard: wrk -t1 -c{args.concurrency} -d{args.duration}s on {HOST}, {args.rounds} round(s), "
        + (f"servers on CPU {pin[0]}, wrk on CPU {pin[1]} (taskset)" if pin else "no CPU pinning")
        + f"; {stack}",
        flush=True,
    )
    servers = []
    rounds = []  # one {config: requests per second} per round
    cpu_rounds = []  # one {config: the server's CPU microseconds per request} per round
    try:
        for config in configs:
            servers.append(Server(config, args.server_lifetime, pin[0] if pin else None))
        for server in servers:
            server.wait_port(timeout=30)
            prepare(server)
            if args.warmup:
                load_wrk(server, args, pin[1] if pin else None, duration=args.warmup)  # not recorded
        for round_no in range(args.rounds):
            # Each round starts at a different configuration and alternates direction, so that
            # no configuration always runs first or always follows the same neighbour.
            shift = round_no % len(servers)
            order = servers[shift:] + servers[:shift]
            if round_no % 2:
                order.reverse()
            rounds.append({})
            cpu_rounds.append({})
            for server in order:
                if time.monotonic() - started + args.duration + 5 > args.max_seconds:
                    print(f"stopping early, --max-seconds {args.max_seconds:g} reached", flush=True)
                    break
                rps, cpu_us = load_wrk(server, args, pin[1] if pin else None)
                rounds[-1][server.name] = rps
                cpu_rounds[-1][server.name] = cpu_us
                cpu = f"{cpu_us:>8.1f} server CPU us/request" if cpu_us is not None else ""
                print(f"  round {round_no + 1}: {server.name:<24}{rps:>10.0f} requests/s{cpu}", flush=True)
            else:
                continue
            break
    finally:
        for server in servers:
            server.stop()
    summary = summarize(configs, rounds)
    cpu_summary = summarize_cpu(configs, cpu_rounds)
    print_summary(configs, summary, cpu_summary)
    print(f"({len(rounds)} round(s); {time.monotonic() - started:.1f} s in all)")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "command": ["python", "benchmarks/e2e_guard.py", *(argv or sys.argv[1:])],
                    "pinning": pin,
                    "rounds": rounds,
                    "summary": summary,
                    "cpu_us_per_request_rounds": cpu_rounds,
                    "cpu_summary": cpu_summary,
                    "python": sys.version.split()[0],
                    "stack": stack,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    if args.png:
        draw(configs, cpu_summary, args.png, stack)
    return 0


def _stack(uvicorn_http):
    """The servers' software, as the run uses it: uvicorn's parser and event loop, aiohttp's
    parser (its C extensions or pure Python), the versions."""
    import importlib.metadata as md
    import importlib.util

    def version(name):
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "not installed"

    http = uvicorn_http
    if http == "auto":
        http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    try:
        from aiohttp import http_parser

        aiohttp_parser = (
            "C parser" if http_parser.HttpRequestParser is not http_parser.HttpRequestParserPy else "pure"
        )
    except ImportError:
        aiohttp_parser = "not installed"
    return (
        f"uvicorn {version('uvicorn')} ({http}, {loop}), starlette {version('starlette')}, "
        f"aiohttp {version('aiohttp')} ({aiohttp_parser}), CPython {sys.version.split()[0]}"
    )


LABELS = {
    "asgi-none": "no authentication",
    "asgi-none-cookie": "no authentication, cookie sent",
    "asgi-middleware": "an empty middleware",
    "asgi-floor-b": "an empty middleware + floor B",
    "asgi-guard-compiled": "ticket_auth guard, compiled",
    "asgi-guard-pure": "ticket_auth guard, pure",
    "asgi-session": "Starlette SessionMiddleware",
    "aiohttp-none": "no authentication",
    "aiohttp-none-cookie": "no authentication, cookie sent",
    "aiohttp-middleware": "an empty middleware",
    "aiohttp-floor-b": "an empty middleware + floor B",
    "aiohttp-guard-compiled": "ticket_auth guard, compiled",
    "aiohttp-guard-pure": "ticket_auth guard, pure",
    "aiohttp_auth": "aiohttp_auth on ticket_auth 0.1.4",
}


def draw(configs, cpu_summary, path, stack):
    """A horizontal bar chart of the server's CPU microseconds per request (median over the
    rounds), one panel per server, each bar labelled with no authentication's CPU over its own
    (the throughput a server with a CPU to itself would keep)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        (title, [c for c in configs if c in group and c in cpu_summary])
        for title, group in (("uvicorn + Starlette", ASGI), ("aiohttp", AIOHTTP))
    ]
    panels = [(title, rows) for title, rows in panels if rows]
    height = sum(len(rows) for _, rows in panels) * 0.42 + 1.4 * len(panels)
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(8, height),
        squeeze=False,
        gridspec_kw={"height_ratios": [len(rows) for _, rows in panels]},
    )
    for ax, (title, rows) in zip(axes[:, 0], panels, strict=True):
        none = cpu_summary.get(_baseline(rows[0]))
        values = [cpu_summary[c]["median_us"] for c in rows]
        colors = [
            "#1f77b4" if "guard-compiled" in c else "#9ecae1" if "guard" in c else "#bbbbbb" for c in rows
        ]
        ax.barh(range(len(rows)), values, color=colors)
        ax.set_yticks(range(len(rows)), [LABELS.get(c, c) for c in rows])
        ax.invert_yaxis()
        for i, (config, value) in enumerate(zip(rows, values, strict=True)):
            note = f"{value:.1f} µs"
            if none and config != _baseline(config):
                note += f"  ({none['median_us'] / value:.0%})"
            ax.text(value, i, " " + note, va="center", fontsize=8)
        ax.set_xlim(0, max(values) * 1.35)
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_xlabel(
            "server CPU µs per request, median over rounds (in brackets: no authentication's ÷ this)",
            fontsize=8,
        )
    fig.suptitle(stack, fontsize=7, y=0.995)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"chart written to {path}")


def _pinning(args):
    """(server CPU, wrk CPU) when pinning is wanted and possible, else None."""
    if args.no_pin or not shutil.which("taskset") or len(os.sched_getaffinity(0)) < 2:
        return None
    first, second = sorted(os.sched_getaffinity(0))[:2]
    return first, second


def _baseline(config):
    return "asgi-none" if config in ASGI else "aiohttp-none"


def summarize(configs, rounds):
    """Per configuration: best and median requests per second, and the ratio to no
    authentication on the same server computed within each round (both measured in that
    round), with its median, minimum and maximum."""
    summary = {}
    for config in configs:
        values = [r[config] for r in rounds if config in r]
        if not values:
            continue
        none = _baseline(config)
        ratios = [r[config] / r[none] for r in rounds if config in r and none in r]
        summary[config] = {
            "best": max(values),
            "median": statistics.median(values),
            "ratios": ratios,
            "median_ratio": statistics.median(ratios) if ratios else None,
            "min_ratio": min(ratios) if ratios else None,
            "max_ratio": max(ratios) if ratios else None,
        }
    return summary


def summarize_cpu(configs, cpu_rounds):
    """Per configuration: the server's CPU microseconds per request (median over rounds),
    and the median over rounds of (that configuration's CPU per request minus no
    authentication's, same round). Far steadier than requests per second on a busy machine:
    time the server waits for a CPU is not counted."""
    summary = {}
    for config in configs:
        values = [r[config] for r in cpu_rounds if r.get(config) is not None]
        if not values:
            continue
        none = _baseline(config)
        extra = [r[config] - r[none] for r in cpu_rounds if r.get(config) is not None and r.get(none)]
        summary[config] = {
            "median_us": statistics.median(values),
            "min_us": min(values),
            "median_extra_us": statistics.median(extra) if extra else None,
        }
    return summary


def print_summary(configs, summary, cpu_summary):
    print()
    print(
        f"{'configuration':<26}{'best r/s':>10}{'median r/s':>12}{'ratio to none':>15}{'(min - max)':>18}"
        f"{'CPU us/req':>12}{'(extra)':>9}{'CPU ratio':>11}{'CPU min':>9}{'min ratio':>11}"
    )
    for config in configs:
        if config not in summary:
            print(f"{config:<26}{'not measured':>12}")
            continue
        row = summary[config]
        ratio = f"{row['median_ratio']:.1%}" if row["median_ratio"] is not None else "-"
        spread = f"({row['min_ratio']:.1%} - {row['max_ratio']:.1%})" if row["ratios"] else ""
        cpu = cpu_summary.get(config)
        cells = ""
        if cpu:
            none = cpu_summary.get(_baseline(config))
            extra = f"{cpu['median_extra_us']:+.1f}" if cpu["median_extra_us"] is not None else "-"
            cpu_ratio = f"{none['median_us'] / cpu['median_us']:.1%}" if none else "-"
            min_ratio = f"{none['min_us'] / cpu['min_us']:.1%}" if none else "-"
            cells = f"{cpu['median_us']:>12.1f}{extra:>9}{cpu_ratio:>11}{cpu['min_us']:>9.1f}{min_ratio:>11}"
        print(f"{config:<26}{row['best']:>10.0f}{row['median']:>12.0f}{ratio:>15}{spread:>18}{cells}")
    print(
        "ratio to none: requests per second against no authentication on the same server in the\n"
        "same round, median over rounds (and the lowest and highest round); CPU us/req: the\n"
        "server process's CPU time per request, median over rounds (extra: minus no\n"
        "authentication's in the same round, median); CPU ratio: none's CPU per request over\n"
        "this one's, the throughput ratio a server that had its CPU to itself would show; CPU\n"
        "min and min ratio: the same from each configuration's least disturbed round."
    )


if __name__ == "__main__":
    sys.exit(main())
