"""What the end-to-end benchmarks (``e2e_aiohttp.py``, ``e2e_guard.py``) share: a server
subprocess of the script itself that binds port 0 on 127.0.0.1 and prints it, an aiohttp app
served until it is told to stop, its lifetime is over or its parent is gone, one GET, and one
wrk run read back.

Everything is bounded: traffic goes to 127.0.0.1 only, servers are stopped by PID and exit by
themselves after their lifetime or when their parent is gone, and wrk stops after its duration.
"""

import asyncio
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"


def lifetime_watch(lifetime, stop):
    """Call ``stop`` after ``lifetime`` seconds or once the parent process is gone."""
    parent = os.getppid()

    def watch():
        deadline = time.monotonic() + lifetime
        while time.monotonic() < deadline and os.getppid() == parent:
            time.sleep(0.5)
        stop()

    threading.Thread(target=watch, daemon=True).start()


def serve_aiohttp_app(app, lifetime):
    """Serve the aiohttp ``app`` on HOST, a port it picks itself (printed as ``PORT n``), until
    SIGTERM or SIGINT, ``lifetime`` seconds, or the parent process is gone."""
    from aiohttp import web

    async def main():
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, HOST, 0).start()
        print(f"PORT {runner.addresses[0][1]}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        lifetime_watch(lifetime, lambda: loop.call_soon_threadsafe(stop.set))
        await stop.wait()
        await runner.cleanup()

    asyncio.run(main())


class Server:
    """``script --serve NAME --server-lifetime L`` in a subprocess (pinned to ``cpu`` with
    taskset when given); ``wait_port`` reads the port it prints, ``stop`` ends it by PID."""

    def __init__(self, script, name, lifetime, cpu=None):
        self.name = name
        pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
        self.proc = subprocess.Popen(
            [*pin, sys.executable, script, "--serve", name, "--server-lifetime", str(lifetime)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.port = None

    def wait_port(self, timeout):
        """Read "PORT n" from the server (it binds port 0 itself: no race for a free port),
        then wait until it accepts a connection."""
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = self.proc.stdout.readline()
            if not line:
                break
            match = re.fullmatch(r"PORT (\d+)\s*", line)
            if match:
                self.port = int(match.group(1))
                while time.monotonic() < deadline:  # uvicorn listens a moment after binding
                    try:
                        socket.create_connection((HOST, self.port), timeout=1).close()
                        return
                    except OSError:
                        time.sleep(0.05)
                break
        self.stop()
        raise RuntimeError(f"server {self.name!r} did not start: {self.proc.stderr.read()[-2000:]}")

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)  # by PID, this server only
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()


def get(port, path, cookie=None):
    """``(status, headers, body)`` of one GET of ``path``, with the Cookie header ``cookie``."""
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, response.msg, response.read().decode()
    finally:
        conn.close()


def run_wrk(cmd, duration, what):
    """Run the wrk command ``cmd`` (``duration`` seconds of load) and return (requests per
    second, requests made); a failed run or any non-2xx response is a RuntimeError that
    names ``what``."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 15)
    out = proc.stdout
    match = re.search(r"Requests/sec:\s*([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    if proc.returncode != 0 or not match or not count:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {out}{proc.stderr}")
    errors = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    if errors:
        raise RuntimeError(f"{what}: wrk saw {errors.group(1)} non-2xx responses\n{out}")
    return float(match.group(1)), int(count.group(1))
