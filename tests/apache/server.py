"""A real Apache with mod_auth_tkt on loopback ports, for the interoperability tests.

One Apache (prefork) serves one VirtualHost per digest type (MD5, SHA256, SHA512), each on its
own ``127.0.0.1`` port with its own ``TKTAuthSecret``, ``TKTAuthSecretOld`` and
``TKTAuthDigestType`` (see ``httpd.conf.in`` and ``vhost.conf.in`` beside this file). Every
VirtualHost has the same protected locations:

* ``/ignoreip/``: ``TKTAuthIgnoreIP on`` (tickets minted for 0.0.0.0)
* ``/boundip/``: ``TKTAuthIgnoreIP off`` (tickets bound to the client address, 127.0.0.1)
* ``/token/``: ``TKTAuthIgnoreIP on``, ``TKTAuthToken admin``
* ``/short/``: ``TKTAuthIgnoreIP on``, ``TKTAuthTimeout 60s``
* ``/named/``: ``TKTAuthIgnoreIP on``, ``TKTAuthCookieName named_tkt``

each serving ``ok.txt``. An accepted ticket gets a 200 whose ``X-Remote-User``,
``X-Remote-User-Tokens`` and ``X-Remote-User-Data`` headers echo what the module put in
``REMOTE_USER``, ``REMOTE_USER_TOKENS`` and ``REMOTE_USER_DATA``; a refused one gets a 307 to
``http://127.0.0.1/login``.

The ``apache_server`` fixture (session scope) needs ``apt-get install -y apache2
libapache2-mod-auth-tkt``. Without them it skips, unless ``TICKET_AUTH_REQUIRE_APACHE=1``
(set by CI), in which case it fails. Import it into a test module to use it.
"""

import dataclasses
import http.client
import os
import pathlib
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import time

import pytest

APACHE_BIN = "/usr/sbin/apache2"
MODULES_DIR = "/usr/lib/apache2/modules"
AUTH_TKT_MODULE = f"{MODULES_DIR}/mod_auth_tkt.so"
REQUIRED_MODULES = (
    "mod_mpm_prefork.so",
    "mod_authn_core.so",
    "mod_authz_core.so",
    "mod_authz_user.so",
    "mod_headers.so",
)
REQUIRE_ENV = "TICKET_AUTH_REQUIRE_APACHE"

HERE = pathlib.Path(__file__).resolve().parent
LOGIN_URL = "http://127.0.0.1/login"
LOCATIONS = ("ignoreip", "boundip", "token", "short", "named")
SHORT_TIMEOUT = 60  # TKTAuthTimeout of /short/
DEFAULT_TIMEOUT = 7200  # mod_auth_tkt's default TKTAuthTimeout (2h), in force elsewhere
DIGESTS = ("md5", "sha256", "sha512")
START_TIMEOUT = 5.0
STOP_TIMEOUT = 5.0

# The secrets of each VirtualHost (no '"' or '\\': they go between quotes in the config).
SECRETS = {
    digest: (
        f"current {digest} secret: 4f0c9e1b-interop".encode(),
        f"old {digest} secret: 91d2a7c3-interop".encode(),
    )
    for digest in DIGESTS
}


@dataclasses.dataclass(frozen=True)
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header_text(self, name):
        """The header's bytes as Apache sent them, decoded as UTF-8 (None when absent)."""
        value = self.headers.get(name)
        # http.client decodes header bytes as latin-1; undo that to get Apache's bytes.
        return None if value is None else value.encode("latin-1").decode("utf-8")

    @property
    def remote_user(self):
        return self.header_text("X-Remote-User")

    @property
    def remote_user_tokens(self):
        return self.header_text("X-Remote-User-Tokens")

    @property
    def remote_user_data(self):
        return self.header_text("X-Remote-User-Data")

    @property
    def set_cookies(self):
        return self.headers.get_all("Set-Cookie") or []

    def cookie_value(self, name="auth_tkt"):
        """The value of the ``name=`` cookie that Apache set, or None."""
        for header in self.set_cookies:
            first = header.split(";", 1)[0]
            key, sep, value = first.partition("=")
            if sep and key.strip() == name:
                return value
        return None

    def describe(self):
        return f"{self.status} headers={dict(self.headers.items())!r}"


@dataclasses.dataclass(frozen=True)
class ApacheSite:
    """One VirtualHost: the digest type, its port and its two secrets."""

    digest: str
    port: int
    secret: bytes
    old_secret: bytes

    def get(self, location, cookie=None, cookie_name="auth_tkt", cookie_header=None):
        """GET /<location>/ok.txt with ``Cookie: auth_tkt=<cookie>``; never follows redirects.

        ``cookie`` is the cookie value (str, or bytes sent as they are); ``cookie_header`` sends
        a whole Cookie header instead.
        """
        if cookie_header is None and cookie is not None:
            value = cookie.encode("utf-8") if isinstance(cookie, str) else bytes(cookie)
            cookie_header = cookie_name.encode("ascii") + b"=" + value
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.putrequest("GET", f"/{location}/ok.txt")
            if cookie_header is not None:
                conn.putheader("Cookie", cookie_header)
            conn.endheaders()
            resp = conn.getresponse()
            return Response(resp.status, resp.msg, resp.read())
        finally:
            conn.close()


@dataclasses.dataclass
class ApacheServer:
    root: pathlib.Path
    process: subprocess.Popen
    sites: dict

    def error_log(self):
        try:
            return (self.root / "logs" / "error.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self):
        """SIGTERM to the process group (prefork's parent also signals its children), then SIGKILL."""
        pid = self.process.pid
        if self.process.poll() is None:
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(STOP_TIMEOUT)
        else:
            # The parent is gone; make sure no child of its group survives it.
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def missing_files():
    paths = [APACHE_BIN, AUTH_TKT_MODULE] + [f"{MODULES_DIR}/{name}" for name in REQUIRED_MODULES]
    return [path for path in paths if not os.path.exists(path)]


def _free_ports(count):
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def _user_group():
    """As root, Apache's children must switch to an unprivileged user that can read ROOT."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return ""
    import pwd  # POSIX only; this module must import everywhere the suite runs

    for user in ("www-data", "nobody", "daemon"):
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            continue
        return f"User {user}\nGroup #{entry.pw_gid}"
    return ""


def write_config(root, ports):
    """Write ROOT/httpd.conf, the document tree and the run/log directories; return the sites."""
    sites = {}
    vhosts = []
    vhost_template = string.Template((HERE / "vhost.conf.in").read_text())
    for digest, port in zip(DIGESTS, ports, strict=True):
        secret, old_secret = SECRETS[digest]
        sites[digest] = ApacheSite(digest, port, secret, old_secret)
        vhosts.append(
            vhost_template.substitute(
                port=port, digest_type=digest.upper(), secret=secret.decode(), old_secret=old_secret.decode()
            )
        )
    conf = string.Template((HERE / "httpd.conf.in").read_text()).substitute(
        root=root,
        modules=MODULES_DIR,
        auth_tkt_module=AUTH_TKT_MODULE,
        user_group=_user_group(),
        virtual_hosts="\n".join(vhosts),
    )
    for sub in ("run", "logs"):
        (root / sub).mkdir()
    for location in LOCATIONS:
        (root / "htdocs" / location).mkdir(parents=True)
        (root / "htdocs" / location / "ok.txt").write_text(f"protected content of /{location}/\n")
    (root / "httpd.conf").write_text(conf)
    # The children run as an unprivileged user when we are root: let them read the tree.
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return sites


def _port_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def start_apache():
    """Start Apache in a fresh ServerRoot and wait until every port answers."""
    root = pathlib.Path(tempfile.mkdtemp(prefix="ticket_auth_apache_"))
    sites = write_config(root, _free_ports(len(DIGESTS)))
    # Debian's /etc/apache2/envvars only feeds its own apache2.conf; ours needs none of it.
    env = dict(os.environ, LANG="C")
    log = open(root / "logs" / "stderr.log", "wb")  # closed below, once Popen has its copy
    process = subprocess.Popen(
        [APACHE_BIN, "-d", str(root), "-f", str(root / "httpd.conf"), "-DFOREGROUND"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,  # setsid: the server leads its own process group
    )
    log.close()
    server = ApacheServer(root, process, sites)
    try:
        _wait_until_up(server)
    except BaseException:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server


def _wait_until_up(server):
    deadline = time.monotonic() + START_TIMEOUT
    pending = [site.port for site in server.sites.values()]
    while pending:
        if server.process.poll() is not None:
            output = (server.root / "logs" / "stderr.log").read_text(errors="replace")
            raise RuntimeError(
                f"apache2 exited with status {server.process.returncode} at start:\n"
                f"{output}\n{server.error_log()}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"apache2 did not answer on ports {pending} within {START_TIMEOUT}s:\n{server.error_log()}"
            )
        pending = [port for port in pending if not _port_answers(port)]
        if pending:
            time.sleep(0.02)


@pytest.fixture(scope="session")
def apache_server():
    """A running Apache with mod_auth_tkt (an ``ApacheServer``; ``.sites[digest]``)."""
    missing = missing_files()
    if missing:
        reason = (
            f"Apache with mod_auth_tkt is not installed (missing: {', '.join(missing)}); "
            "run `apt-get install -y apache2 libapache2-mod-auth-tkt`"
        )
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1)", pytrace=False)
        pytest.skip(reason)
    server = start_apache()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
