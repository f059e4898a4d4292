#!/usr/bin/env python3
"""End-to-end benchmark: an aiohttp server that validates a ticket cookie on every request.

    python benchmarks/e2e_aiohttp.py                 # all implementations, about 45 s
    python benchmarks/e2e_aiohttp.py --smoke         # a few hundred requests, a few seconds

For each implementation (``none``: aiohttp reading the cookie and validating nothing, the
ceiling; ``compiled``; ``pure``; ``0.1.4``) it starts a server in a subprocess on 127.0.0.1
(a free port the server picks itself), whose only route reads the ``auth_tkt`` cookie,
validates it against the client's address with ``TicketFactory.validate`` and answers 200
with the user id, or 401. The servers are checked (a good ticket gives 200, a forged one
401) and then loaded in turn, ``--rounds`` times, interleaved, by:

* ``wrk -t1 -cC -dDs`` when wrk is on PATH (Debian: ``apt-get install wrk``), or
* a bounded aiohttp client (``--requests`` requests per round, ``--concurrency`` at once,
  at most ``--duration`` + 10 s per round), which is slower than wrk, so the server is
  less saturated and the differences between implementations look smaller.

It prints requests per second per implementation (the best round) and their ratios, and
stops the servers by PID. Everything is bounded: traffic goes to 127.0.0.1 only, each round
stops after its duration or request count, the whole run gives up after ``--max-seconds``,
and each server exits by itself after ``--server-lifetime`` seconds or when its parent is gone.

The ticket is the suite's typical one (sha512, 16-character user id, two tokens, short user
data) bound to 127.0.0.1. On 2 cores the server gets one core and the load generator the
other; a request costs tens of microseconds in aiohttp, so the ticket is a part of it.
"""

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _bench
import _e2e

HOST = _e2e.HOST
COOKIE = "auth_tkt"
IMPLS = ("none", _bench.COMPILED, _bench.COMPILED_HASHLIB, _bench.PURE, _bench.V014)
HASHALG = "sha512"


def make_ticket(client_ip=HOST, valid_until=None):
    from ticket_auth._ticketcore_py import TicketFactory

    return TicketFactory(_bench.SECRET, HASHALG).new(
        _bench.USER_ID,
        tokens=_bench.TOKENS,
        user_data=_bench.USER_DATA,
        valid_until=valid_until or _bench.VALID_UNTIL,
        client_ip=client_ip,
    )


# --------------------------------------------------------------------------- server


def serve(impl, lifetime):
    from aiohttp import web

    if impl == "none":
        validate, error = None, Exception
    else:
        validate = _bench.factory_class(impl)(_bench.SECRET, HASHALG).validate
        error = _bench.error_classes(impl)["malformed"].__mro__[1]  # TicketError

    async def check_ticket(request):
        ticket = request.cookies.get(COOKIE)
        if ticket is None:
            return web.Response(status=401, text="no ticket\n")
        client_ip = request.remote
        if validate is None:
            return web.Response(text="not validated\n")
        try:
            info = validate(ticket, client_ip=client_ip)
        except error:
            return web.Response(status=401, text="bad ticket\n")
        return web.Response(text=info.user_id)

    app = web.Application()
    app.router.add_get("/", check_ticket)
    _e2e.serve_aiohttp_app(app, lifetime)


def get(port, ticket):
    status, _, body = _e2e.get(port, "/", f"{COOKIE}={ticket}" if ticket else None)
    return status, body


def sanity_check(server, ticket):
    """A good ticket is accepted and a forged or missing one refused, before any load."""
    status, body = get(server.port, ticket)
    if server.name == "none":
        assert status == 200, (status, body)
        return
    assert (status, body) == (200, _bench.USER_ID), f"{server.name}: good ticket got {status} {body!r}"
    forged = ticket[:-1] + ("x" if ticket[-1] != "x" else "y")
    for bad in (forged, make_ticket(client_ip="10.0.0.1"), None):
        status, body = get(server.port, bad)
        assert status == 401, f"{server.name}: a bad ticket got {status} {body!r}"


# --------------------------------------------------------------------------- load


def load_wrk(port, ticket, args):
    cmd = [
        "wrk",
        "-t1",
        f"-c{args.concurrency}",
        f"-d{args.duration}s",
        "--timeout",
        "2s",
        "-H",
        f"Cookie: {COOKIE}={ticket}",
        f"http://{HOST}:{port}/",
    ]
    return _e2e.run_wrk(cmd, args.duration, "the ticket was refused")


def load_client(port, ticket, args):
    import aiohttp

    async def run():
        url = f"http://{HOST}:{port}/"
        headers = {"Cookie": f"{COOKIE}={ticket}"}
        remaining = args.requests
        stop_at = time.monotonic() + args.duration
        done = bad = 0
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as session:

            async def worker():
                nonlocal remaining, done, bad
                while remaining > 0 and time.monotonic() < stop_at:
                    remaining -= 1
                    async with session.get(url, headers=headers) as response:
                        await response.read()
                        done += 1
                        bad += response.status != 200

            start = time.perf_counter()
            await asyncio.wait_for(
                asyncio.gather(*(worker() for _ in range(args.concurrency))), timeout=args.duration + 10
            )
            elapsed = time.perf_counter() - start
        if bad:
            raise RuntimeError(f"{bad} of {done} requests were refused: the ticket was not accepted")
        return done / elapsed, done

    return asyncio.run(run())


# --------------------------------------------------------------------------- main


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--impls", default=",".join(IMPLS), help="comma-separated, from: " + ", ".join(IMPLS))
    parser.add_argument(
        "--loader",
        choices=("auto", "wrk", "client"),
        default="auto",
        help="auto: wrk if it is on PATH, else the aiohttp client",
    )
    parser.add_argument("--duration", type=int, default=3, help="seconds per round (wrk -d; client cap)")
    parser.add_argument("--requests", type=int, default=20000, help="requests per round (client loader)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections (wrk -c; client)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds, implementations interleaved; best kept"
    )
    parser.add_argument("--max-seconds", type=float, default=80, help="give up on further rounds after this")
    parser.add_argument("--server-lifetime", type=float, default=120, help="a server exits after this")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a quick check that it works: 1 s or 300 requests, 1 round, 8 connections",
    )
    parser.add_argument("--serve", metavar="IMPL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.duration, args.requests, args.rounds, args.concurrency = 1, 300, 1, 8
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.serve:
        serve(args.serve, args.server_lifetime)
        return 0
    started = time.monotonic()
    impls = [name.strip() for name in args.impls.split(",") if name.strip()]
    unknown = set(impls) - set(IMPLS)
    if unknown:
        sys.exit(f"unknown implementations: {', '.join(sorted(unknown))}")
    loader = args.loader
    if loader == "auto":
        loader = "wrk" if shutil.which("wrk") else "client"
    if loader == "wrk" and not shutil.which("wrk"):
        sys.exit("wrk is not on PATH (apt-get install wrk), use --loader client")
    for impl in impls:
        if impl != "none":
            _bench.factory_class(impl)  # load (and for 0.1.4 download) before any server starts
    ticket = make_ticket()
    load = load_wrk if loader == "wrk" else load_client
    describe = (
        f"wrk -t1 -c{args.concurrency} -d{args.duration}s"
        if loader == "wrk"
        else f"aiohttp client, {args.requests} requests, {args.concurrency} at once, <= {args.duration} s"
    )
    print(
        f"e2e: aiohttp server on {HOST}, ticket cookie of {len(ticket)} characters (sha512, typical), "
        f"loader: {describe}, {args.rounds} round(s)",
        flush=True,
    )

    servers = []
    results = {impl: [] for impl in impls}
    try:
        for impl in impls:
            servers.append(_e2e.Server(__file__, impl, args.server_lifetime))
        for server in servers:
            server.wait_port(timeout=30)
            sanity_check(server, ticket)
        for round_no in range(args.rounds):
            order = servers if round_no % 2 == 0 else servers[::-1]
            for server in order:
                if time.monotonic() - started + args.duration + 5 > args.max_seconds:
                    print(f"e2e: stopping early, --max-seconds {args.max_seconds:g} reached", flush=True)
                    break
                rps, count = load(server.port, ticket, args)
                results[server.name].append(rps)
                print(
                    f"  round {round_no + 1}: {server.name:<8} {rps:>10.0f} requests/s ({count} requests)",
                    flush=True,
                )
            else:
                continue
            break
    finally:
        for server in servers:
            server.stop()

    best = {impl: max(values) for impl, values in results.items() if values}
    print()
    print(f"{'implementation':<16}{'requests/s':>12}{'vs 0.1.4':>10}{'vs none':>10}")
    for impl in impls:
        if impl not in best:
            print(f"{impl:<16}{'not measured':>12}")
            continue
        vs_old = f"{best[impl] / best[_bench.V014]:.2f}x" if _bench.V014 in best else "-"
        vs_none = f"{best[impl] / best['none']:.2f}x" if "none" in best else "-"
        print(f"{impl:<16}{best[impl]:>12.0f}{vs_old:>10}{vs_none:>10}")
    print(f"(best of {args.rounds} round(s); {time.monotonic() - started:.1f} s in all)")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "loader": describe,
                    "rounds": results,
                    "best": best,
                    "python": sys.version.split()[0],
                    "cpus": os.cpu_count(),
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
