#!/usr/bin/env python3
"""Fuzz harness: arbitrary bytes and text into both cores, which must agree on everything.

One input drives one of five operations, on one factory (or guard) configuration:

* ``read-ticket``: ``TicketFactory.validate`` and ``.parse`` of a fuzzed ticket (as str with
  lone surrogates or Latin-1 or any BMP character, a str subclass, bytes, bytearray or
  memoryview), with a fuzzed client address, ``now`` and encoding;
* ``read-authtkt``: the same for ``AuthTktFactory`` (the mod_auth_tkt validator), with every
  cookie form it reads;
* ``new-ticket`` / ``new-authtkt``: ``new`` from fuzzed fields on both cores, then
  ``validate`` of the minted ticket, checked against what the fields say it must give;
* ``guard``: the guard's compiled decision (``GuardCore``: ``check_text``, ``check_lines``,
  ``check_raw``, ``check_scope``, ``enter``) against the pure guard's ``check`` (the Python
  rules) on fuzzed Cookie lines (with minted, mangled tickets), peers, forwarded headers and
  clocks, and on malformed header containers, clients and scopes.

A finding is an ``AssertionError`` (or a crash, or a sanitizer report): an exception that
is not a ``TicketError`` where the API does not document one, any difference between the
compiled and the pure core (result, exception type, ``.msg``/message, ``.ticket``), a
message that is not one of the wire format's, an accepted ticket that ``new`` would not
mint byte for byte, or a minted ticket that does not validate to its own fields.

Run it (see tests/fuzz/README.md; ``run.sh`` does all of this)::

    python tests/fuzz/fuzz_tickets.py NEW_CORPUS_DIR tests/fuzz/corpus -max_total_time=60

Without atheris, ``check(data)`` is an ordinary function: tests/fuzz/test_fuzz_replay.py
replays the committed corpus through it on both cores in the normal test run.

``TICKET_AUTH_FUZZ_SRC=DIR`` imports the package from ``DIR`` instead: the snapshot of
``src/`` that build_sanitized.sh makes, with the sanitizer build of the compiled core (a
snapshot, so that a long campaign tests one consistent version while the tree changes).
"""

import array
import base64
import hashlib
import ipaddress
import math
import os
import sys
import time
import types
from fractions import Fraction

CORE_NAMES = ("compiled", "pure")

# --- the cores under test ---------------------------------------------------------------------------


def load_cores(src_dir=None):
    """``(compiled_module, pure_module)``; with ``src_dir``, the whole package (both cores and
    the modules they share) is imported from that snapshot, e.g. the sanitizer build."""
    if src_dir:
        src_dir = os.path.abspath(src_dir)
        if "ticket_auth" in sys.modules:
            raise RuntimeError("ticket_auth was imported before the fuzzed snapshot could be chosen")
        sys.path.insert(0, src_dir)
    import ticket_auth.guard
    from ticket_auth._core import load_core

    compiled, pure = load_core("compiled"), load_core("pure")
    if src_dir:
        for module in (compiled, pure, ticket_auth.guard):
            if not os.path.abspath(module.__file__).startswith(src_dir + os.sep):
                raise RuntimeError(f"expected {module.__name__} from {src_dir}, got {module.__file__}")
    return compiled, pure


# --- reading the fuzzer's bytes ---------------------------------------------------------------------


class Input:
    """A tiny, dependency-free data provider (the committed corpus must mean the same with and
    without atheris). Choices read one byte each from the front; past the end they read 0."""

    __slots__ = ("data", "pos")

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def byte(self):
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def choice(self, options):
        return options[self.byte() % len(options)]

    def take(self, n):
        chunk = self.data[self.pos : self.pos + n]
        self.pos += len(chunk)
        return chunk

    def sized(self):
        """A length byte, then that many bytes (a length of 255 means "the rest")."""
        n = self.byte()
        return self.rest() if n == 255 else self.take(n)

    def uint(self, nbytes):
        return int.from_bytes(self.take(nbytes), "big")

    def rest(self):
        chunk = self.data[self.pos :]
        self.pos = len(self.data)
        return chunk


# Neither str nor bytes-like: validate and parse must raise TicketParseError for what has a
# len() (a list, dict, tuple: as 0.1.4 does) and TypeError for the rest (the same on both cores).
WRONG_TYPES = (None, 42, 4.2, ["ticket"], {"ticket": 1}, object(), ("a", "b"))


class StrSubclass(str):
    __slots__ = ()


class LyingStr(str):
    """A str subclass whose Python-level methods lie: the cores must read its characters."""

    __slots__ = ()

    def __len__(self):
        return 1

    def __getitem__(self, index):
        return "q"

    def __iter__(self):
        return iter("q")

    def __contains__(self, item):
        return False

    def encode(self, *args, **kwargs):
        return b"x!"

    def replace(self, *args):
        return "zz"

    def isascii(self):
        return True

    def split(self, *args, **kwargs):
        return ["q"]

    def find(self, *args):
        return -1

    def count(self, *args):
        return 0


class BytesSubclass(bytes):
    __slots__ = ()


# How the payload bytes become the object handed to the library. Every ASCII payload is
# the same text in each str form, so a valid seed stays valid whatever form is chosen.
FORMS = (
    ("str", lambda raw: raw.decode("utf-8", "surrogateescape")),  # non-UTF-8 -> lone surrogates
    ("bytes", bytes),
    ("str-latin1", lambda raw: raw.decode("latin-1")),
    ("bytearray", bytearray),
    ("str-utf16", lambda raw: raw[: len(raw) & ~1].decode("utf-16-le", "surrogatepass")),
    ("memoryview", memoryview),
    ("str-subclass", lambda raw: StrSubclass(raw.decode("utf-8", "surrogateescape"))),
    ("bytes-subclass", BytesSubclass),
    ("str-utf8", lambda raw: raw.decode("utf-8", "replace")),
    ("memoryview-strided", lambda raw: memoryview(raw + raw)[::2]),  # non-contiguous, same bytes
    ("array-u16", lambda raw: array.array("H", raw[: len(raw) & ~1])),  # bytes-like, 2-byte items
    ("wrong-type", lambda raw: WRONG_TYPES[len(raw) % len(WRONG_TYPES)]),  # documented TypeError
    ("str-lying-subclass", lambda raw: LyingStr(raw.decode("utf-8", "surrogateescape"))),
)

CLIENT_IPS = (
    None,
    "10.0.0.1",
    "203.0.113.7",
    "::1",
    "2001:db8::1",
    "fe80::1%eth0",
    "::ffff:10.0.0.1",
    0,
    2**32 - 1,
    2**32,
    2**128 - 1,
    2**128,
    -1,
    2**200,
    True,
    b"\x0a\x00\x00\x01",
    bytes(range(16)),
    b"abc",
    ipaddress.IPv4Address("10.0.0.1"),
    ipaddress.IPv6Address("2001:db8::1"),
    "999.1.1.1",
    "",
    "1.2.3.4 ",
    "01.2.3.4",
    "1.2.3.4\x00",
    "\uff11.2.3.4",
    "0.0.0.0",
    "255.255.255.255",
    "1.2.3",
    "1.2.3.4.5",
    "::",
    "fe80::1%",
    "1.2.3.4/32",
    "FUZZ",
    "FUZZ",  # a fuzzed address text (read from the input)
)

NOWS = (
    None,
    0,
    1,
    2**31,
    2**32 - 1,
    2**32,
    10**100,
    -1,
    -(10**100),
    1.5,
    1e300,
    -1e300,
    math.inf,
    -math.inf,
    math.nan,
    Fraction(7, 2),
    True,
    1_700_000_000,
    1_700_000_000.5,
    "FUZZ4",
    "FUZZ8",
)

ENCODINGS = (
    "utf-8",
    "ascii",
    "latin-1",
    "utf-16",
    "cp037",
    "utf-32",
    "utf-8-sig",
    "UTF-8",
    "utf_16_be",
    "idna",
    "utf-7",
    "cp500",
    "hz",
    "shift_jis",
    "utf8",
)

VALID_UNTILS = (
    None,
    0,
    1,
    2**31,
    2**32 - 1,
    2**32,
    -1,
    10**100,
    -(10**100),
    1.9,
    -0.5,
    "123",
    " 42 ",
    "0x10",
    b"77",
    1e20,
    math.nan,
    math.inf,
    True,
    Fraction(9, 2),
    1_700_000_000,
    1_800_000_000,
    4_000_000_000,
    "FUZZ4",
)

HASHALGS = ("md5", "sha1", "sha256", "sha512", "blake2s", "sha3_256", "SHA384", "blake2b")
AUTHTKT_DIGESTS = ("md5", "sha256", "sha512", "SHA256")
MAX_LENGTHS = (None, None, 200, 100)
TIMEOUTS = (7200, 0, 2**32 - 1, 1)

# The clock both cores read (time.time is patched during each input): deterministic defaults
# for valid_until/timestamp (None) and now (None), so both cores and the oracles agree.
CLOCK = 1_750_000_000.75

SECRET = b"fuzz secret \x00\xff"
OLD_SECRET = b"the previous secret"

# New operations go at the end: an input's first byte keeps its meaning.
OPS = ("read-ticket", "read-authtkt", "new-ticket", "new-authtkt", "guard")


def fuzzed_text(inp):
    return inp.sized().decode("latin-1")


def choose_ip(inp):
    ip = inp.choice(CLIENT_IPS)
    if ip == "FUZZ":
        ip = fuzzed_text(inp)
    return ip


def choose_now(inp):
    now = inp.choice(NOWS)
    if now == "FUZZ4":
        now = inp.uint(4)
    elif now == "FUZZ8":
        now = inp.uint(8) - 2**63
    return now


def ip_problem(client_ip, ipv4_only):
    """Whether ``client_ip`` must be refused with ValueError (what ipaddress says)."""
    if client_ip is None:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return True
    return ipv4_only and address.version != 4


# What ``new`` may raise: TypeError/ValueError for bad arguments (a lone surrogate is a
# UnicodeEncodeError, a ValueError), ValueError when longer than max_length or when
# ``valid_until``/``timestamp`` is outside 0..2**32-1 (an infinity or NaN included).
NEW_ERRORS = (TypeError, ValueError)


# --- the factories ----------------------------------------------------------------------------------


class Config:
    """One factory configuration, built on both cores (plus the factories ``new`` needs to
    re-mint what ``validate`` accepted with a fallback secret)."""

    def __init__(self, modules, kind, alg, fallback, max_length, timeout):
        self.kind, self.alg, self.fallback, self.max_length, self.timeout = (
            kind,
            alg,
            fallback,
            max_length,
            timeout,
        )
        fallbacks = (OLD_SECRET,) if fallback else ()
        if kind == "ticket":
            make = lambda m, secret, fb, ml: m.TicketFactory(secret, alg, fallback_secrets=fb, max_length=ml)  # noqa: E731
        else:
            make = lambda m, secret, fb, ml: m.AuthTktFactory(  # noqa: E731
                secret, alg, fallback_secrets=fb, timeout=timeout, max_length=ml
            )
        self.factories = [make(m, SECRET, fallbacks, max_length) for m in modules]
        # Unlimited factories that sign with each secret, to re-mint accepted tickets.
        self.minters = {
            SECRET: make(modules[1], SECRET, (), None),
            OLD_SECRET: make(modules[1], OLD_SECRET, (), None),
        }
        self.hex_len = 2 * hashlib.new(alg.lower()).digest_size


# --- comparing outcomes -----------------------------------------------------------------------------


class Finding(AssertionError):  # noqa: N818 - a fuzzing finding, not an error of the harness
    pass


def run(fn, *args, **kwargs):
    """``("ok", value)`` or ``("raise", exc)``; never lets an exception through."""
    try:
        return ("ok", fn(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001 - classified by the caller
        return ("raise", exc)


def signature(outcome):
    """What must be identical between the two cores."""
    kind, value = outcome
    if kind == "ok":
        if isinstance(value, tuple):
            return ("ok", type(value).__name__, tuple(value))
        return ("ok", type(value).__name__, value)
    msg = getattr(value, "msg", None)
    return ("raise", type(value).__name__, msg if msg is not None else str(value))


def describe(outcome):
    kind, value = outcome
    return repr(value) if kind == "ok" else f"{type(value).__name__}: {value!s}"[:500]


def same(label, outcomes, context):
    a, b = (signature(o) for o in outcomes)
    if a != b:
        raise Finding(
            f"{label}: the cores differ\n  compiled: {describe(outcomes[0])}\n  pure:     {describe(outcomes[1])}"
            f"\n  context: {context}"
        )


def mint_raw(factory, *args):
    """The raw ticket text an AuthTktFactory mints (through base64, which carries any text)."""
    return base64.b64decode(factory.new(*args)).decode("utf-8")


def _fixed_clock():
    return CLOCK


# --- the guard's compiled decision (GuardCore) against the Python rules ----------------------------

GUARD_NOW = 1_780_000_000.25  # the base clock of the guard operation (tickets are minted around it)
GUARD_COOKIE_NAMES = ("auth_tkt", "AUTH_TKT", "a", "tkt.v2")
GUARD_PROXIES = (
    (),
    ("127.0.0.0/8",),
    ("10.0.0.0/8", "::1/128"),
    ("0.0.0.0/0", "::/0"),
    ("10.1.2.3",),
    ("203.0.113.0/24", "2001:db8::/32"),
    ("10.20.30.40/13",),
    ("::ffff:0:0/96", "192.0.2.0/31"),
)
GUARD_LIFETIMES = (7200, 3600, 60, 1)
GUARD_REISSUE = (None, 0, 30, "half")
GUARD_TICKET_ALGS = ("sha256", "md5", "sha512", "blake2s")
GUARD_AUTHTKT_ALGS = ("md5", "sha256", "sha512", "md5")
GUARD_TIMEOUTS = (None, 0, 7200, 2**32 - 1)  # None: the guard's lifetime
GUARD_MINTED_PEERS = ("127.0.0.1", "10.1.2.3", "203.0.113.7", "::1", "2001:db8::7", "::ffff:10.1.2.3")
GUARD_PEERS = (
    None,
    *GUARD_MINTED_PEERS,
    "",
    "2001:DB8:0:0:0:0:0:7",
    "::ffff:7f00:1",
    "[::1]",
    " 127.0.0.1",
    "fe80::1%eth0",
    "01.2.3.4",
    "localhost",
    "1.2.3.4\x00",
    "\u0661.\u0662.\u0663.\u0664",
    "FUZZ",
)
GUARD_FORWARDED = (
    None,
    None,
    "",
    "203.0.113.7",
    "2001:db8::7",
    "203.0.113.7, 10.1.2.3",
    "10.1.2.3,127.0.0.1",
    " unknown , 10.0.0.1",
    "::ffff:203.0.113.7",
    ",",
    "FUZZ",
)
GUARD_NOWS = (
    "REL",
    "REL",
    "RELF",
    GUARD_NOW,
    int(GUARD_NOW),
    math.nan,
    math.inf,
    -math.inf,
    0,
    -1.0,
    1e300,
    2**50 - 1,
    2**50,
    2**60,
    -(2**60),
    True,
    Fraction(int(GUARD_NOW) * 4 + 1, 4),
    "FUZZ8",
)
GUARD_USERS = ("alice", "u-0123456789abcd", "\xe9lodie", "a b", "x!y", "", 'q"uote', "\u65e5\u672c")
GUARD_TOKENS = ((), ("admin",), ("admin", "staff"), ("t\xf4ken", "a b"), ("",))
GUARD_DATA = ("", "display=Alice", 'q"uote', "back\\slash", "\xe9!\u20ac", "x;y=z")
GUARD_AGES = (10, 0, 45, 1799, 1800, 3000, 3599, 3600, 7300, -30, -100, -4000)
# Header names: the Cookie lines, and others around them (ASGI: lower case; aiohttp: any case).
GUARD_OTHER_HEADERS = (b"host", b"accept", b"cookie2", b"set-cookie", b"cookiex", b"cooki", b"x-cookie")
SCOPE_KEY, GUARD_KEY = "ticket_auth.fuzz.result", "ticket_auth.fuzz.guard"
OTHER_SECRET = b"not the guard's secret"


class FuzzClock:
    """The guards' clock: the ``now`` of the current input (read by the entries that take none)."""

    __slots__ = ("now",)

    def __init__(self):
        self.now = GUARD_NOW

    def __call__(self):
        return self.now


class GuardSetup:
    """One guard configuration: the guard under test on the compiled core's factory (its
    compiled decision active), the reference guard on the pure core (the Python rules), and
    pure guards that mint cookies with the current, the fallback and a foreign secret."""

    def __init__(self, modules, code_a, code_b, code_c):
        from ticket_auth.guard import TicketGuard

        self.kind = "authtkt" if code_a & 1 else "ticket"
        self.fallback = bool(code_a & 0x80)
        self.options = {
            "cookie_name": GUARD_COOKIE_NAMES[(code_a >> 1) & 3],
            "bind_ip": bool(code_a & 0x08),
            "trusted_proxies": GUARD_PROXIES[(code_a >> 4) & 7],
            "lifetime": GUARD_LIFETIMES[code_b & 3],
            "reissue_after": GUARD_REISSUE[(code_b >> 2) & 3],
            "clock_skew": 0 if code_b & 0x10 else 60,
            "max_cookie_length": 64 if code_b & 0x20 else 4096,
            "max_cookie_header": 128 if code_b & 0x40 else 16384,
            "reissue_on_fallback": not code_b & 0x80,
        }
        if self.kind == "ticket":
            self.alg = GUARD_TICKET_ALGS[code_c & 3]
        else:
            self.alg = GUARD_AUTHTKT_ALGS[code_c & 3]
        self.max_length = 120 if code_c & 4 else None
        timeout = GUARD_TIMEOUTS[(code_c >> 3) & 3]
        self.timeout = self.options["lifetime"] if timeout is None else timeout
        self.clock = FuzzClock()
        compiled, pure = modules
        fallbacks = [OLD_SECRET] if self.fallback else []
        self.subject = TicketGuard(
            self.factory(compiled, SECRET, fallbacks, self.max_length),
            secure=False,
            clock=self.clock,
            **self.options,
        )
        if self.subject._core is None:
            raise RuntimeError(f"the compiled decision is not active for {self.describe()}")
        direct = not (self.options["bind_ip"] and self.options["trusted_proxies"])
        if (self.subject._direct is not None) != direct:
            raise RuntimeError(f"_direct is not what the settings say for {self.describe()}")
        self.reference = TicketGuard(
            self.factory(pure, SECRET, fallbacks, self.max_length),
            secure=False,
            clock=self.clock,
            **self.options,
        )
        if self.reference._core is not None:
            raise RuntimeError("the reference guard must apply the Python rules")
        minting = dict(self.options, trusted_proxies=(), reissue_after=None)
        minting["max_cookie_length"] = minting["max_cookie_header"] = 1 << 20
        self.minters = [
            TicketGuard(self.factory(pure, secret, [], None), secure=False, **minting)
            for secret in (SECRET, OLD_SECRET, OTHER_SECRET)
        ]

    def factory(self, module, secret, fallbacks, max_length):
        if self.kind == "ticket":
            return module.TicketFactory(secret, self.alg, fallback_secrets=fallbacks, max_length=max_length)
        return module.AuthTktFactory(
            secret, self.alg, fallback_secrets=fallbacks, timeout=self.timeout, max_length=max_length
        )

    def describe(self):
        return (
            f"guard {self.kind}/{self.alg} fallback={self.fallback} max_length={self.max_length} "
            f"timeout={self.timeout} {self.options}"
        )


def _swap_quotes(value):
    if len(value) >= 2 and value[:1] == b'"' and value[-1:] == b'"':
        return value[1:-1]
    return b'"' + value + b'"'


class _Opaque:
    """A client host that is not a str (the adapters read it with str())."""

    def __str__(self):
        return "10.1.2.3"


def _asgi_peer(client):
    """What the ASGI adapter takes for the peer from a scope's ``client``."""
    return str(client[0]) if client else None


# The header containers a server should not hand over (check_lines/check_raw/check_scope/enter
# must answer None, or what the Python rules say about the same Cookie lines), by name.
def _malformed_containers(cookie_lines, forwarded):
    def pairs(name=b"cookie", wrap=bytes):
        return [(name, wrap(line)) for line in cookie_lines]

    host = (b"host", b"example.com")
    yield "list-items", [[b"cookie", line] for line in cookie_lines]
    yield "bytearray-values", pairs(wrap=bytearray)
    yield "memoryview-values", pairs(wrap=memoryview)
    yield "bytes-subclass-values", pairs(wrap=BytesSubclass)
    yield "str-names", [("cookie", line) for line in cookie_lines]
    yield "bytearray-names", [(bytearray(b"cookie"), line) for line in cookie_lines]
    yield "str-values", [(b"cookie", line.decode("latin-1")) for line in cookie_lines]
    yield "none-values", [(b"cookie", None) for _ in cookie_lines] or [(b"cookie", None)]
    yield "triples", [(b"cookie", line, b"x") for line in cookie_lines] or [(b"cookie",)]
    yield "bad-item-first", [(b"host",), host, *pairs()]
    yield "bad-item-last", [host, *pairs(), [b"accept", b"*/*"]]
    yield "int-item", [host, *pairs(), 7]
    yield "tuple-container", tuple(pairs())
    yield "dict-container", dict(pairs())
    yield "iterator-container", iter(pairs())
    yield "none-container", None
    yield "bytes-container", b"cookie: x"
    yield "str-container", "cookie"
    yield "many-lines", [host, *pairs(), *[(b"cookie", b"")] * 17]
    yield "forwarded-bytes", [*pairs(), (b"x-forwarded-for", (forwarded or "").encode("latin-1", "replace"))]


CLIENTS = (
    "tuple",
    "list",
    "one-tuple",
    "bytes-host",
    "int-host",
    "opaque-host",
    "empty",
    "none",
)


def _client(form, peer):
    if peer is None:
        return None
    return {
        "tuple": (peer, 5000),
        "list": [peer, 5000],
        "one-tuple": (peer,),
        "bytes-host": (peer.encode("latin-1", "replace"), 5000),
        "int-host": (int.from_bytes(peer.encode("latin-1", "replace")[:4], "big"), 5000),
        "opaque-host": (_Opaque(), 1),
        "empty": (),
        "none": None,
    }[form]


class _DictSubclass(dict):
    __slots__ = ()


class GuardChecks:
    """The ``guard`` operation (mixed into Checker)."""

    def guard_setup(self, inp):
        key = (inp.byte(), inp.byte(), inp.byte() & 0x1F)
        setup = self._guards.get(key)
        if setup is None:
            if len(self._guards) >= 1024:  # bounded: a long campaign meets many configurations
                self._guards.clear()
            setup = self._guards[key] = GuardSetup(self.modules, *key)
        return setup

    def guard_cookie(self, inp, setup, mint):
        """``name=value`` bytes: a ticket minted by the current, fallback or a foreign secret,
        some time before GUARD_NOW, bound to some address, then perhaps mangled. Returns the
        bytes and the secret, or (None, None) when the fields cannot be minted."""
        secret_index = (0, 1, 2, 0)[(mint >> 2) & 3]
        minter = setup.minters[secret_index]
        user, tokens, data = inp.choice(GUARD_USERS), inp.choice(GUARD_TOKENS), inp.choice(GUARD_DATA)
        age, peer = inp.choice(GUARD_AGES), inp.choice(GUARD_MINTED_PEERS)
        try:
            set_cookie = minter.remember(user, tokens, data, peer=peer, now=GUARD_NOW - age)
        except (TypeError, ValueError):
            return None, None
        name, _, value = set_cookie.split(";", 1)[0].encode("utf-8", "surrogatepass").partition(b"=")
        mangle = inp.byte()
        how = mangle & 7
        if how == 1 and value:  # one byte replaced
            at = inp.byte() % len(value)
            value = value[:at] + bytes([inp.byte()]) + value[at + 1 :]
        elif how == 2:  # one byte inserted
            at = inp.byte() % (len(value) + 1)
            value = value[:at] + bytes([inp.byte()]) + value[at:]
        elif how == 3:  # truncated
            value = value[: inp.byte() % (len(value) + 1)]
        elif how == 4:  # quoted, or unquoted
            value = _swap_quotes(value)
        elif how == 5:  # twice
            value = value + b"; " + name + b"=" + value
        elif how == 6:  # the name in another case
            name = name.swapcase()
        pad = (b"", b" ", b"\t", b" \t")[mangle >> 6]
        return pad + name + b"=" + value, (SECRET, OLD_SECRET, OTHER_SECRET)[secret_index]

    def guard_request(self, inp, setup):
        """(Cookie lines as bytes, peer, forwarded, now, the secret of the minted cookie)."""
        mint = inp.byte()
        cookie, secret = self.guard_cookie(inp, setup, mint) if mint & 3 else (None, None)
        lines = [inp.sized() for _ in range(inp.byte() % 5)]
        if cookie is not None:
            at = inp.byte()
            k = at % (len(lines) + 1)
            if at & 0x80 and k < len(lines):
                lines[k] = lines[k] + b"; " + cookie
            else:
                lines.insert(k, cookie)
        peer = inp.choice(GUARD_PEERS)
        if peer == "FUZZ":
            peer = fuzzed_text(inp)
        forwarded = inp.choice(GUARD_FORWARDED)
        if forwarded == "FUZZ":
            forwarded = fuzzed_text(inp)
        now = inp.choice(GUARD_NOWS)
        if now == "REL":
            now = int(GUARD_NOW) + inp.uint(2) - 32768
        elif now == "RELF":
            now = GUARD_NOW + (inp.uint(2) - 32768) / 4
        elif now == "FUZZ8":
            now = inp.uint(8) - 2**63
        return lines, peer, forwarded, now, secret

    def guard_expected(self, setup, header, peer, forwarded, now, context):
        """The Python rules' decision (the pure guard's ``check``), which must not raise."""
        setup.clock.now = now
        outcome = run(setup.reference.check, header, peer=peer, forwarded=forwarded, now=now)
        if outcome[0] == "raise":
            raise Finding(f"the Python rules raised {describe(outcome)}\n  context: {context}") from outcome[
                1
            ]
        return outcome[1]

    def guard_same(self, label, outcome, want, context, allow_none=False):
        from ticket_auth.guard import CheckResult

        if outcome[0] == "raise":
            raise Finding(f"{label} raised {describe(outcome)}\n  context: {context}") from outcome[1]
        got = outcome[1]
        if got is None and allow_none:
            return
        if type(got) is not CheckResult or got != want:
            same_cookie = getattr(got, "set_cookie", None) == want.set_cookie
            raise Finding(
                f"{label}: {got!r} (set_cookie equal: {same_cookie}), the Python rules: {want!r}\n  context: {context}"
            )

    def guard(self, inp):
        setup = self.guard_setup(inp)
        lines, peer, forwarded, now, secret = self.guard_request(inp, setup)
        flags = inp.byte()
        context = f"{setup.describe()} lines={lines!r:.800} peer={peer!r:.80} forwarded={forwarded!r:.80} now={now!r}"
        subject, core = setup.subject, setup.subject._core
        header = b"; ".join(lines).decode("latin-1") if lines else None
        want = self.guard_expected(setup, header, peer, forwarded, now, context)
        if (
            want.identity is not None
            and secret is not None
            and (secret is OTHER_SECRET or (secret is OLD_SECRET and not setup.fallback))
        ):
            # (a fuzzed line could only carry another valid ticket by forging its digest)
            raise Finding(f"a ticket of a secret the guard does not hold was accepted\n  context: {context}")
        self.guard_same(
            "check", run(subject.check, header, peer=peer, forwarded=forwarded, now=now), want, context
        )
        self.guard_same("check_text", run(core.check_text, header, peer, forwarded, now), want, context)
        self.guard_same(
            "check (clock)", run(subject.check, header, peer=peer, forwarded=forwarded), want, context
        )
        if flags & 0x10 and lines:  # a header str that is not one character per byte
            wide = b"; ".join(lines).decode("utf-8", "surrogateescape")
            if wide != header:
                want_wide = self.guard_expected(setup, wide, peer, forwarded, now, context)
                self.guard_same(
                    "check_text (wide str)",
                    run(core.check_text, wide, peer, forwarded, now),
                    want_wide,
                    context,
                )

        # The ASGI header list (lower-case names) and aiohttp's raw headers (any case), with
        # other headers around the Cookie lines; now from the guard's clock.
        headers = [(b"host", b"example.com")]
        raw_names = (b"Cookie", b"COOKIE", b"cookie", b"cOoKiE")
        raw = [(b"Host", b"example.com")]
        for i, line in enumerate(lines):
            headers.append((b"cookie", line))
            raw.append((raw_names[((flags >> 1) + i) & 3], line))
            if flags & 1:
                other = GUARD_OTHER_HEADERS[(flags + i) % len(GUARD_OTHER_HEADERS)]
                headers.append((other, b"x=1"))
                raw.append((other.upper() if i & 1 else other, b"x=1"))
        if forwarded is not None:
            headers.append((b"x-forwarded-for", forwarded.encode("latin-1", "replace")))
        client = (peer, 5000) if peer is not None else None
        setup.clock.now = now
        self.guard_same("check_lines", run(core.check_lines, headers, client, forwarded), want, context)
        self.guard_same("check_raw", run(core.check_raw, tuple(raw), peer, forwarded), want, context)
        self.guard_same("check_raw (list)", run(core.check_raw, raw, peer, forwarded), want, context)
        # check_scope and enter read no forwarded header (the guard's _direct has none to read).
        want_scope = (
            want if forwarded is None else self.guard_expected(setup, header, peer, None, now, context)
        )
        scope = {"type": "http", "headers": headers, "client": client}
        self.guard_same("check_scope", run(core.check_scope, scope), want_scope, context)
        self.guard_enter(setup, scope, want_scope, context)
        if (flags >> 5) & 3 == 0:
            self.guard_malformed(inp, setup, lines, peer, forwarded, now, context)

    def guard_enter(self, setup, scope, want, context, label="enter"):
        outcome = run(setup.subject._core.enter, scope, SCOPE_KEY, GUARD_KEY, setup.subject)
        if outcome[0] == "raise":
            raise Finding(f"{label} raised {describe(outcome)}\n  context: {context}") from outcome[1]
        entered = outcome[1]
        if want.set_cookie is not None:
            self.guard_same(label, outcome, want, context)
            return
        if (
            type(entered) is not dict
            or entered is scope
            or SCOPE_KEY in scope
            or entered.keys() != {*scope, SCOPE_KEY, GUARD_KEY}
            or any(entered[key] is not value for key, value in scope.items())
            or type(entered[SCOPE_KEY]) is not type(want)
            or entered[SCOPE_KEY] != want
            or entered[GUARD_KEY] is not setup.subject
        ):
            raise Finding(f"{label}: {entered!r:.400}, the Python rules: {want!r}\n  context: {context}")

    def guard_malformed(self, inp, setup, lines, peer, forwarded, now, context):
        """Header containers, scopes and clients a server should not hand over: each entry
        answers None, or the Python rules' decision on the same Cookie lines; never raises."""
        core = setup.subject._core
        client_form = inp.choice(CLIENTS)
        client = _client(client_form, peer)
        client_peer = _asgi_peer(client)
        context += f" client={client_form}"
        setup.clock.now = now
        decisions = {}

        def want_for(cookie_lines, peer, forwarded):
            key = (tuple(cookie_lines), peer, forwarded)
            if key not in decisions:
                header = b"; ".join(cookie_lines).decode("latin-1") if cookie_lines else None
                decisions[key] = self.guard_expected(setup, header, peer, forwarded, now, context)
            return decisions[key]

        def containers():
            for name, container in _malformed_containers(lines, forwarded):
                if name == "many-lines":
                    carried = [*lines, *[b""] * 17]
                elif name in ("none-values", "none-container", "bytes-container", "str-container"):
                    carried = []
                else:
                    carried = lines
                yield name, container, carried

        for label, entry in (
            ("check_lines", lambda c: core.check_lines(c, client, forwarded)),
            ("check_raw", lambda c: core.check_raw(c, peer, forwarded)),
        ):
            for name, container, carried in containers():
                want_peer = client_peer if label == "check_lines" else peer
                self.guard_same(
                    f"{label} ({name})",
                    run(entry, container),
                    want_for(carried, want_peer, forwarded),
                    context,
                    allow_none=True,
                )
        for name, container, carried in containers():
            scope = {"type": "http", "headers": container, "client": client}
            want = want_for(carried, client_peer, None)
            self.guard_same(
                f"check_scope ({name})", run(core.check_scope, scope), want, context, allow_none=True
            )
            scope = {"type": "http", "headers": container, "client": client}
            outcome = run(core.enter, scope, SCOPE_KEY, GUARD_KEY, setup.subject)
            if outcome[0] == "raise" or outcome[1] is not None:
                self.guard_enter(setup, scope, want, context, label=f"enter ({name})")
        # A well-formed header list with an odd client: what the adapter's str(client[0]) says.
        headers = [(b"cookie", line) for line in lines]
        want = want_for(lines, client_peer, None)
        scope = {"type": "http", "headers": headers, "client": client}
        self.guard_same("check_lines (client)", run(core.check_lines, headers, client, None), want, context)
        self.guard_same("check_scope (client)", run(core.check_scope, scope), want, context)
        self.guard_enter(setup, scope, want, context, label="enter (client)")
        # Scopes that are not a plain dict, or not an HTTP request.
        for name, odd in (
            ("items", list(scope.items())),
            ("none", None),
            ("str", "http"),
            ("dict-subclass", _DictSubclass(scope)),
            ("mapping-proxy", types.MappingProxyType(scope)),
        ):
            for label, entry in (
                ("check_scope", core.check_scope),
                ("enter", lambda s: core.enter(s, SCOPE_KEY, GUARD_KEY, setup.subject)),
            ):
                outcome = run(entry, odd)
                if outcome != ("ok", None):
                    raise Finding(f"{label} of a {name} scope: {describe(outcome)}\n  context: {context}")
        for kind in ("websocket", "lifespan", None, b"http"):
            outcome = run(core.enter, {**scope, "type": kind}, SCOPE_KEY, GUARD_KEY, setup.subject)
            if outcome != ("ok", None):
                raise Finding(f"enter of a {kind!r} scope: {describe(outcome)}\n  context: {context}")
        no_headers = {"type": "http", "client": client}
        self.guard_same(
            "check_scope (no headers)", run(core.check_scope, no_headers), want_for([], None, None), context
        )


class Checker(GuardChecks):
    """``check(data)`` for one pair of cores; factory configurations are built lazily."""

    def __init__(self, compiled, pure, ops=OPS):
        from ticket_auth import _authtkt_format, _ticket_format
        from ticket_auth.exception import TicketDigestError, TicketError, TicketExpired, TicketParseError

        self.modules = (compiled, pure)
        self._configs = {}
        self._guards = {}
        if not ops or not set(ops) <= set(OPS):
            raise ValueError(f"ops must be some of {OPS}")
        self.ops = tuple(ops)
        self.TicketError, self.TicketParseError = TicketError, TicketParseError
        self.TicketDigestError, self.TicketExpired = TicketDigestError, TicketExpired
        self.unwrap = _authtkt_format.unwrap
        self.not_encodable = _ticket_format.NOT_ENCODABLE
        self.messages = {
            "ticket": {
                v
                for k, v in vars(_ticket_format).items()
                if k.isupper() and isinstance(v, str) and "{" not in v
            },
            "authtkt": {
                v
                for k, v in vars(_authtkt_format).items()
                if k.isupper() and isinstance(v, str) and "{" not in v
            },
        }
        for kind in self.messages:
            self.messages[kind] |= {"Invalid digest", "Ticket expired"}

    def config(self, inp, kind):
        code = inp.byte()
        algs = HASHALGS if kind == "ticket" else AUTHTKT_DIGESTS
        key = (
            kind,
            algs[code % len(algs)],
            bool(code & 0x08),
            MAX_LENGTHS[(code >> 4) & 3],
            TIMEOUTS[(code >> 6) & 3] if kind == "authtkt" else None,
        )
        if key not in self._configs:
            self._configs[key] = Config(self.modules, *key)
        return self._configs[key]

    def check(self, data):
        inp = Input(data)
        op = self.ops[inp.byte() % len(self.ops)]  # one op: every input is that op's
        real_time = time.time
        time.time = _fixed_clock
        try:
            if op == "read-ticket":
                self.read_ticket(inp)
            elif op == "read-authtkt":
                self.read_authtkt(inp)
            elif op == "new-ticket":
                self.new_ticket(inp)
            elif op == "new-authtkt":
                self.new_authtkt(inp)
            else:
                self.guard(inp)
        finally:
            time.time = real_time

    # --- common checks ---------------------------------------------------------------------------

    def check_error(self, label, outcome, ticket, kind, context, allowed=()):
        """A raised outcome is a TicketError with a known message that holds the input itself,
        or one of the ``allowed`` exception types."""
        exc = outcome[1]
        if isinstance(exc, self.TicketError):
            if exc.ticket is not ticket:
                raise Finding(
                    f"{label}: .ticket is not the object passed in ({exc.ticket!r:.200})\n  context: {context}"
                )
            if exc.msg not in self.messages[kind]:
                raise Finding(f"{label}: unknown message {exc.msg!r}\n  context: {context}")
            if SECRET.hex() in str(exc) or repr(SECRET)[2:-1] in exc.msg:
                raise Finding(f"{label}: the secret shows in the error\n  context: {context}")
            return
        if not isinstance(exc, allowed):
            raise Finding(
                f"{label}: undocumented exception {type(exc).__name__}: {exc!s:.300}\n  context: {context}"
            ) from exc

    def read_inputs(self, inp, kind):
        """What reading a ticket of ``kind`` takes from the input, in this order: the factories,
        the client address, now, the encoding (the 0.1.4 format only, else None), the form of
        the value and its raw bytes. Returns those and the value in that form."""
        config = self.config(inp, kind)
        client_ip = choose_ip(inp)
        now = choose_now(inp)
        encoding = inp.choice(ENCODINGS) if kind == "ticket" else None
        form_name, form = inp.choice(FORMS)
        raw = inp.rest()
        return config, client_ip, now, encoding, form_name, raw, form(raw)

    def check_refused_reads(self, value, kind, form_name, validated, parsed, context):
        """Both cores' ``validate`` and ``parse`` outcomes of ``value`` (a ticket of ``kind``
        "ticket", or an "authtkt" cookie) agree; for a value of the wrong type, or one that
        parse refuses, they raise what they must. True when that is all there is to check."""
        same("validate", validated, context)
        same("parse", parsed, context)
        if form_name == "wrong-type":
            expected = self.TicketParseError if hasattr(type(value), "__len__") else TypeError
            for label, outcome in (("validate", validated[1]), ("parse", parsed[1])):
                if outcome[0] != "raise" or type(outcome[1]) is not expected:
                    raise Finding(
                        f"{label} of a {type(value).__name__}: {describe(outcome)}\n  context: {context}"
                    )
            return True
        outcome, parse_outcome = validated[1], parsed[1]
        if parse_outcome[0] != "raise":
            return False
        self.check_error("parse", parse_outcome, value, kind, context)
        if not isinstance(parse_outcome[1], self.TicketParseError):
            raise Finding(f"parse raised {type(parse_outcome[1]).__name__}\n  context: {context}")
        # validate parses first: the same error.
        if signature(outcome) != signature(parse_outcome):
            what = "ticket" if kind == "ticket" else "cookie"
            raise Finding(f"validate and parse disagree on a malformed {what}\n  context: {context}")
        return True

    def check_new_outcomes(self, minted, kind, context):
        """Both cores' ``new`` outcomes agree; a raised error is a documented one (TypeError or
        ValueError for bad arguments, UnicodeEncodeError being a ValueError for a lone
        surrogate, ValueError when longer than max_length), never a TicketError. Returns the
        outcome when new returned, else None."""
        same("new", minted, context)
        outcome = minted[1]
        if outcome[0] != "raise":
            return outcome
        self.check_error("new", outcome, None, kind, context, allowed=NEW_ERRORS)
        if isinstance(outcome[1], self.TicketError):
            raise Finding(f"new raised a TicketError\n  context: {context}")
        return None

    def check_accepted(self, config, result, info, bad_ip, context):
        """What validate returned (``result``) for a ticket parse read as ``info``: no bad client
        address accepted, the same fields, the fallback secret only where there is one.
        Returns the secret the ticket says it was signed with."""
        if bad_ip:
            raise Finding(f"validate accepted a bad client address\n  context: {context}")
        if tuple(result) != tuple(info):
            raise Finding(f"validate and parse return different fields\n  context: {context}")
        secret = OLD_SECRET if getattr(result, "fallback_secret_used", False) else SECRET
        if secret is OLD_SECRET and not config.fallback:
            raise Finding(f"fallback secret reported without one\n  context: {context}")
        return secret

    # --- TicketFactory ---------------------------------------------------------------------------

    def read_ticket(self, inp):
        config, client_ip, now, encoding, form_name, raw, ticket = self.read_inputs(inp, "ticket")
        context = (
            f"{config.kind}/{config.alg} fallback={config.fallback} max_length={config.max_length} "
            f"ip={client_ip!r:.80} now={now!r} encoding={encoding} form={form_name} ticket={raw!r:.300}"
        )
        validated = [run(f.validate, ticket, client_ip, now, encoding) for f in config.factories]
        parsed = [run(f.parse, ticket) for f in config.factories]
        if self.check_refused_reads(ticket, "ticket", form_name, validated, parsed, context):
            return
        outcome, info = validated[1], parsed[1][1]
        bad_ip = ip_problem(client_ip, ipv4_only=False)
        text = str.__str__(ticket) if isinstance(ticket, str) else bytes(ticket).decode("ascii")
        # The strict parser accepts only what new mints: re-mint the fields, compare the text.
        minted = config.minters[SECRET].new(info.user_id, info.tokens, info.user_data, info.valid_until)
        if minted[config.hex_len :] != text[config.hex_len :] or info.digest != text[: config.hex_len]:
            raise Finding(
                f"parse accepted a ticket new would not mint: {minted!r:.300}\n  context: {context}"
            )
        if outcome[0] == "raise":
            self.check_error(
                "validate", outcome, ticket, "ticket", context, allowed=(ValueError,) if bad_ip else ()
            )
            exc = outcome[1]
            if isinstance(exc, ValueError) and not isinstance(exc, self.TicketError) and not bad_ip:
                raise Finding(f"validate raised ValueError for a good address\n  context: {context}")
            if isinstance(exc, self.TicketParseError) and exc.msg != self.not_encodable:
                raise Finding(f"validate raised a parse error that parse did not\n  context: {context}")
            if isinstance(exc, self.TicketExpired) and not info.valid_until <= (
                CLOCK if now is None else now
            ):
                raise Finding(f"TicketExpired although valid_until > now\n  context: {context}")
            if isinstance(exc, (self.TicketExpired, self.TicketDigestError)) and bad_ip:
                raise Finding(f"a bad client address got past the digest check\n  context: {context}")
            return
        secret = self.check_accepted(config, outcome[1], info, bad_ip, context)
        if info.valid_until <= (CLOCK if now is None else now):
            raise Finding(f"validate accepted an expired ticket\n  context: {context}")
        genuine = run(
            config.minters[secret].new,
            info.user_id,
            info.tokens,
            info.user_data,
            info.valid_until,
            client_ip,
            encoding,
        )
        if genuine != ("ok", text):
            raise Finding(
                f"validate accepted a ticket not minted with its secret: {describe(genuine)}\n  context: {context}"
            )

    def new_fields(self, inp, authtkt):
        def field():
            kind = inp.byte() % 7
            raw = inp.sized()
            if kind == 0:
                return raw.decode("utf-8", "surrogateescape")
            if kind == 1:
                return raw
            if kind == 2:
                return raw.decode("latin-1")
            if kind == 3:
                return bytearray(raw)
            if kind == 4:
                return raw[: len(raw) & ~1].decode("utf-16-le", "surrogatepass")
            if kind == 5:  # its data counts, not its overridable methods
                return LyingStr(raw.decode("utf-8", "surrogateescape"))
            return BytesSubclass(raw)

        user_id = field()
        count = inp.byte() % 6
        tokens_kind = inp.byte() % 4
        tokens = [field() for _ in range(count)]
        if tokens_kind == 1:
            tokens = tuple(tokens)
        elif tokens_kind == 2:
            tokens = None if not authtkt else ()
        elif tokens_kind == 3 and not tokens:
            tokens = ""  # falsy: no tokens
        user_data = field() if inp.byte() % 4 else None if not authtkt else ""
        when = inp.choice(VALID_UNTILS)
        if when == "FUZZ4":
            when = inp.uint(4)
        return user_id, tokens, user_data, when

    def new_ticket(self, inp):
        config = self.config(inp, "ticket")
        client_ip = choose_ip(inp)
        now = choose_now(inp)
        encoding = inp.choice(ENCODINGS)
        user_id, tokens, user_data, valid_until = self.new_fields(inp, authtkt=False)
        context = (
            f"{config.kind}/{config.alg} max_length={config.max_length} ip={client_ip!r:.80} now={now!r} "
            f"encoding={encoding} new{(user_id, tokens, user_data, valid_until)!r:.400}"
        )
        minted = [
            run(f.new, user_id, tokens, user_data, valid_until, client_ip, encoding) for f in config.factories
        ]
        outcome = self.check_new_outcomes(minted, "ticket", context)
        if outcome is None:
            return
        ticket = outcome[1]
        if type(ticket) is not str or not ticket.isascii():
            raise Finding(f"new returned {ticket!r:.200}\n  context: {context}")
        if ip_problem(client_ip, ipv4_only=False):
            raise Finding(f"new accepted a bad client address\n  context: {context}")
        if config.max_length is not None and len(ticket) > config.max_length:
            raise Finding(f"new made a ticket longer than max_length\n  context: {context}")
        validated = [run(f.validate, ticket, client_ip, now, encoding) for f in config.factories]
        same("validate(new)", validated, context)
        expected = self.expected_ticket_outcome(user_id, tokens, user_data, valid_until, now)
        got = validated[1]
        if expected[0] == "ok":
            if got[0] != "ok" or tuple(got[1]) != (ticket[: config.hex_len], *expected[1]):
                raise Finding(
                    f"a minted ticket did not validate to its fields: {describe(got)}\n  context: {context}"
                )
        elif expected[0] == "expired":
            if got[0] != "raise" or type(got[1]) is not self.TicketExpired:
                raise Finding(f"expected TicketExpired, got {describe(got)}\n  context: {context}")
        elif got[0] != "raise" or type(got[1]) is not self.TicketParseError or got[1].msg != expected[1]:
            raise Finding(
                f"expected TicketParseError({expected[1]!r}), got {describe(got)}\n  context: {context}"
            )

    def expected_ticket_outcome(self, user_id, tokens, user_data, valid_until, now):
        def text(value):
            if isinstance(value, str):
                return value
            try:
                return bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                return None

        uid = text(user_id)
        if uid is None:
            return ("parse", "user id is not valid UTF-8 once unquoted")
        token_texts = [text(t) for t in tokens] if tokens else []
        if None in token_texts:
            return ("parse", "a token is not valid UTF-8 once unquoted")
        data = text(user_data) if user_data else ""
        if data is None:
            return ("parse", "user data is not valid UTF-8 once unquoted")
        if len(token_texts) == 1 and token_texts[0] == "":
            token_texts = []
        until = int(CLOCK) + 120 if valid_until is None else int(valid_until)
        if until <= (CLOCK if now is None else now):
            return ("expired", None)
        return ("ok", (uid, tuple(token_texts), data, until))

    # --- AuthTktFactory (mod_auth_tkt) -----------------------------------------------------------

    def authtkt_expired(self, config, timestamp, now):
        mask = 2**32 - 1
        return bool(config.timeout) and (timestamp + config.timeout) & mask < int(now) & mask

    def read_authtkt(self, inp):
        config, client_ip, now, _encoding, form_name, raw, cookie = self.read_inputs(inp, "authtkt")
        context = (
            f"{config.kind}/{config.alg} fallback={config.fallback} max_length={config.max_length} "
            f"timeout={config.timeout} ip={client_ip!r:.80} now={now!r} form={form_name} cookie={raw!r:.300}"
        )
        validated = [run(f.validate, cookie, client_ip, now) for f in config.factories]
        parsed = [run(f.parse, cookie) for f in config.factories]
        if self.check_refused_reads(cookie, "authtkt", form_name, validated, parsed, context):
            return
        outcome, info = validated[1], parsed[1][1]
        bad_ip = ip_problem(client_ip, ipv4_only=True)
        bad_now = isinstance(now, float) and not math.isfinite(now)
        value = str.encode(cookie, "utf-8") if isinstance(cookie, str) else bytes(cookie)
        ticket = self.unwrap(cookie, value).decode("utf-8")
        minted = mint_raw(config.minters[SECRET], info.user_id, info.tokens, info.user_data, info.timestamp)
        self.check_authtkt_form(config, ticket, minted, info, context)
        if info.digest != ticket[: config.hex_len]:
            raise Finding(f"parse returned another digest\n  context: {context}")
        if outcome[0] == "raise":
            # A non-finite now cannot be turned into 32-bit seconds: int() raises
            # OverflowError/ValueError, after the digest check (both cores alike).
            allowed = ((ValueError,) if bad_ip else ()) + ((ValueError, OverflowError) if bad_now else ())
            self.check_error("validate", outcome, cookie, "authtkt", context, allowed=allowed)
            exc = outcome[1]
            if isinstance(exc, self.TicketParseError):
                raise Finding(f"validate raised a parse error that parse did not\n  context: {context}")
            if isinstance(exc, self.TicketExpired) and not self.authtkt_expired(
                config, info.timestamp, CLOCK if now is None else now
            ):
                raise Finding(f"TicketExpired although within the timeout\n  context: {context}")
            if isinstance(exc, (self.TicketExpired, self.TicketDigestError)) and bad_ip:
                raise Finding(f"a bad client address got past the digest check\n  context: {context}")
            return
        secret = self.check_accepted(config, outcome[1], info, bad_ip, context)
        if self.authtkt_expired(config, info.timestamp, CLOCK if now is None else now):
            raise Finding(f"validate accepted a timed-out ticket\n  context: {context}")
        genuine = mint_raw(
            config.minters[secret], info.user_id, info.tokens, info.user_data, info.timestamp, client_ip
        )
        if genuine[: config.hex_len] != ticket[: config.hex_len]:
            raise Finding(f"validate accepted a ticket not minted with its secret\n  context: {context}")

    def check_authtkt_form(self, config, ticket, minted, info, context):
        """The raw ticket is what new mints from its fields, except that ``uid!!data`` (an
        empty tokens part Apache writes when it reissues) is minted ``uid!data``."""
        body, again = ticket[config.hex_len :], minted[config.hex_len :]
        if body == again:
            return
        head = f"{info.timestamp:08x}{info.user_id}!"
        if (
            info.tokens == ()
            and "!" not in info.user_data
            and body == f"{head}!{info.user_data}"
            and again == f"{head}{info.user_data}"
        ):
            return
        raise Finding(
            f"parse accepted a ticket new would not mint: {minted!r:.300} vs {ticket!r:.300}\n  context: {context}"
        )

    def new_authtkt(self, inp):
        config = self.config(inp, "authtkt")
        client_ip = choose_ip(inp)
        now = choose_now(inp)
        raw_form = bool(inp.byte() & 1)
        user_id, tokens, user_data, timestamp = self.new_fields(inp, authtkt=True)
        context = (
            f"{config.kind}/{config.alg} max_length={config.max_length} timeout={config.timeout} "
            f"ip={client_ip!r:.80} now={now!r} raw={raw_form} new{(user_id, tokens, user_data, timestamp)!r:.400}"
        )
        minted = [
            run(f.new, user_id, tokens, user_data, timestamp, client_ip, raw=raw_form)
            for f in config.factories
        ]
        outcome = self.check_new_outcomes(minted, "authtkt", context)
        if outcome is None:
            return
        cookie = outcome[1]
        if type(cookie) is not str:
            raise Finding(f"new returned {cookie!r:.200}\n  context: {context}")
        if ip_problem(client_ip, ipv4_only=True):
            raise Finding(f"new accepted a bad client address\n  context: {context}")
        if config.max_length is not None and len(cookie) > config.max_length:
            raise Finding(f"new made a cookie longer than max_length\n  context: {context}")
        validated = [run(f.validate, cookie, client_ip, now) for f in config.factories]
        same("validate(new)", validated, context)
        got = validated[1]
        if isinstance(now, float) and not math.isfinite(now):
            if got[0] == "raise":
                self.check_error(
                    "validate(new)", got, cookie, "authtkt", context, allowed=(ValueError, OverflowError)
                )
            return

        def text(value):
            return value if isinstance(value, str) else bytes(value).decode("utf-8")

        token_text = ",".join(text(t) for t in tokens) if tokens else ""
        expected = (
            text(user_id),
            tuple(token_text.split(",")) if token_text else (),
            text(user_data) if user_data else "",
            int(CLOCK) if timestamp is None else int(timestamp),
        )
        if self.authtkt_expired(config, expected[3], CLOCK if now is None else now):
            if got[0] != "raise" or type(got[1]) is not self.TicketExpired:
                raise Finding(f"expected TicketExpired, got {describe(got)}\n  context: {context}")
        elif got[0] != "ok" or tuple(got[1])[1:] != expected:
            raise Finding(
                f"a minted cookie did not validate to its fields: {describe(got)}\n  context: {context}"
            )


# --- entry points -----------------------------------------------------------------------------------


def _recording(check):
    """``check`` that, on a finding, also writes the input to ``finding-<sha1>`` in
    TICKET_AUTH_FUZZ_ARTIFACTS (default: the current directory) before failing, so that a
    reproducer is kept however the fuzzer's own exit goes."""
    import base64 as b64
    import traceback

    directory = os.environ.get("TICKET_AUTH_FUZZ_ARTIFACTS") or "."

    def checked(data):
        try:
            check(data)
        except BaseException:
            path = os.path.join(directory, "finding-" + hashlib.sha1(data).hexdigest())  # noqa: S324 - a name
            with open(path, "wb") as out:
                out.write(data)
            traceback.print_exc()
            print(
                f"\nFINDING: input written to {path}\nbase64: {b64.b64encode(data).decode()}\n",
                file=sys.stderr,
                flush=True,
            )
            raise

    return checked


def main(argv):
    import atheris

    with atheris.instrument_imports(include=["ticket_auth"]):
        compiled, pure = load_cores(os.environ.get("TICKET_AUTH_FUZZ_SRC"))
    # TICKET_AUTH_FUZZ_OPS=guard (a comma-separated list): fuzz only those operations.
    ops = tuple(filter(None, os.environ.get("TICKET_AUTH_FUZZ_OPS", "").split(","))) or OPS
    checker = Checker(compiled, pure, ops)
    print(
        f"fuzzing compiled core {compiled.__file__} against {pure.__file__}, operations {', '.join(ops)}",
        file=sys.stderr,
        flush=True,
    )
    atheris.Setup(argv, _recording(checker.check))
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
