#!/usr/bin/env python3
"""Fuzz harness: arbitrary bytes and text into both cores, which must agree on everything.

One input drives one of four operations, on one factory configuration:

* ``read-ticket``: ``TicketFactory.validate`` and ``.parse`` of a fuzzed ticket (as str with
  lone surrogates or Latin-1 or any BMP character, a str subclass, bytes, bytearray or
  memoryview), with a fuzzed client address, ``now`` and encoding;
* ``read-authtkt``: the same for ``AuthTktFactory`` (the mod_auth_tkt validator), with every
  cookie form it reads;
* ``new-ticket`` / ``new-authtkt``: ``new`` from fuzzed fields on both cores, then
  ``validate`` of the minted ticket, checked against what the fields say it must give.

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
    from ticket_auth._core import load_core

    compiled, pure = load_core("compiled"), load_core("pure")
    if src_dir:
        for module in (compiled, pure):
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

OPS = ("read-ticket", "read-authtkt", "new-ticket", "new-authtkt")


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


class Checker:
    """``check(data)`` for one pair of cores; factory configurations are built lazily."""

    def __init__(self, compiled, pure):
        from ticket_auth import _authtkt_format, _ticket_format
        from ticket_auth.exception import TicketDigestError, TicketError, TicketExpired, TicketParseError

        self.modules = (compiled, pure)
        self._configs = {}
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
        op = OPS[inp.byte() % len(OPS)]
        real_time = time.time
        time.time = _fixed_clock
        try:
            if op == "read-ticket":
                self.read_ticket(inp)
            elif op == "read-authtkt":
                self.read_authtkt(inp)
            elif op == "new-ticket":
                self.new_ticket(inp)
            else:
                self.new_authtkt(inp)
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
    checker = Checker(compiled, pure)
    print(f"fuzzing compiled core {compiled.__file__} against {pure.__file__}", file=sys.stderr, flush=True)
    atheris.Setup(argv, _recording(checker.check))
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
