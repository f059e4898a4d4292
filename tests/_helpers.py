"""Strategies and small helpers shared by the test modules (no test code of 0.1.4 here)."""

import hashlib
import ipaddress
import os
import time

from hypothesis import strategies as st

from ticket_auth import _ticket_format

# hypothesis max_examples for the main property tests (conftest's profile uses it too).
EXAMPLES = int(os.environ.get("TICKET_AUTH_HYPOTHESIS_EXAMPLES") or 300)

HASHALGS = ["md5", "sha1", "sha256", "sha384", "sha512", "blake2b", "sha3_256", "SHA256"]
# utf-16 and cp037 are not ASCII-compatible; the others take both cores' fast and slow paths.
ENCODINGS = [
    "utf-8",
    "utf-16",
    "cp037",
    "utf-16-le",
    "utf-32",
    "utf-8-sig",
    "latin-1",
    "ascii",
    "UTF-8",
    "utf_8",
]
VALID_UNTIL_EDGES = [0, 1, 2**31, 2**32 - 1]
SPECIAL_IPS = [
    "fe80::1%eth0",
    "fe80::1",
    "::ffff:1.2.3.4",
    "1.2.3.4",
    "0.0.0.0",
    "255.255.255.255",
    "::",
    "::1",
    "fe80::1%1",
    "2001:db8::8a2e:370:7334",
]
SPECIAL_FIELDS = [
    ",",
    "!",
    "%",
    "",
    "%2C",
    "%25",
    "a,b",
    "x!y",
    "100%",
    "~/._-",
    " ",
    "\x00",
    "\x7f",
    "é",
    "\U0001f600",
    "日本",
    "\ufffd",
    "+",
    "a b",
    b"",
    b",",
    b"!",
    b"%",
    b"\xff",
    b"\xc3\xa9",
    b"\x00",
    b"\xed\xa0\x80",
    b"\xc0\x80",
]

# All of Unicode except surrogates (which no codec used here can encode).
unicode_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)
field_values = st.one_of(unicode_text, st.binary(max_size=24), st.sampled_from(SPECIAL_FIELDS))
tokens_values = st.one_of(
    st.none(),
    st.lists(field_values, max_size=5),
    st.lists(field_values, max_size=5).map(tuple),
    st.sampled_from([(), [], ("",), ["", ""], [","], ["!", "%"]]),
)
user_data_values = st.one_of(st.none(), field_values)
valid_until_values = st.one_of(
    st.sampled_from(VALID_UNTIL_EDGES),
    st.integers(0, 2**32 - 1),
    st.floats(min_value=-0.99, max_value=4294967295.0, allow_nan=False),
    st.integers(0, 2**32 - 1).map(str),
    st.sampled_from(["123", "0", "4294967295", " 42 "]),
)
_ipv4 = st.ip_addresses(v=4)
_ipv6 = st.ip_addresses(v=6)
client_ip_values = st.one_of(
    st.none(),
    _ipv4.map(str),
    _ipv6.map(str),
    st.sampled_from(SPECIAL_IPS),
    st.integers(0, 2**32 - 1),
    st.integers(2**32, 2**128 - 1),
    _ipv4.map(lambda a: a.packed),
    _ipv6.map(lambda a: a.packed),
    _ipv4,
    _ipv6,
    st.sampled_from(SPECIAL_IPS).map(ipaddress.ip_address),
)
hashalgs = st.sampled_from(HASHALGS)
encodings = st.sampled_from(ENCODINGS)
secrets = st.one_of(st.binary(min_size=1, max_size=80), st.sampled_from([b"secret", b"S3CRET-do-not-leak"]))


def normalized_ip(client_ip):
    return ipaddress.IPv4Address(0) if client_ip is None else ipaddress.ip_address(client_ip)


def other_ip(client_ip):
    """An address whose digest input differs from client_ip's (None means 0.0.0.0)."""
    if normalized_ip(client_ip) == ipaddress.IPv4Address(0):
        return "10.9.8.7"
    return None


def is_non_utf8(value):
    if isinstance(value, (bytes, bytearray)):
        try:
            bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return True
    return False


def non_utf8_message(user_id, tokens, user_data):
    """The TicketParseError message a ticket minted from these gets (None if it parses).

    This is the documented divergence from 0.1.4: a field minted from bytes that are not
    UTF-8 is a parse error here (0.1.4 gives TicketDigestError on validate).
    """
    if is_non_utf8(user_id):
        return _ticket_format.UID_NOT_UTF8
    if tokens and any(is_non_utf8(token) for token in tokens):
        return _ticket_format.TOKEN_NOT_UTF8
    if user_data and is_non_utf8(user_data):
        return _ticket_format.DATA_NOT_UTF8
    return None


def outcome(fn, *args, **kwargs):
    """("ok", result) or ("raise", exception class name, message) - comparable across
    implementations whose exception classes are different objects."""
    try:
        result = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001
        return ("raise", type(exc).__name__, getattr(exc, "msg", str(exc)))
    if isinstance(result, tuple):
        result = tuple(result)
    return ("ok", result)


def exact_outcome(fn, *args, **kwargs):
    """Like outcome() but keeps the exception class itself, the full str() and the type of
    a returned TicketInfo: for comparing the two cores of this project with each other."""
    try:
        result = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001
        return ("raise", type(exc), str(exc), getattr(exc, "ticket", None))
    return ("ok", type(result), tuple(result) if isinstance(result, tuple) else result)


class CountingHash:
    """A hash constructor that counts how many digests a factory computes (the ``counting``
    fixture of conftest.py makes the next factory hash with one)."""

    def __init__(self, name):
        self.name, self.calls = name, 0

    def __call__(self, data=b""):
        self.calls += 1
        return hashlib.new(self.name, data)


def spec_digest(hashalg, secret, ip4, timestamp, user_id, tokens, user_data):
    """The hex digest of a mod_auth_tkt ticket, computed here from the format's recipe:

        inner  = H(ip4 + timestamp (4 bytes, big-endian) + secret + UID + NUL + TOKENS + NUL + DATA)
        digest = H(hex(inner) + secret)

    ``ip4`` is the packed address (4 bytes) or its text; the fields are the bytes exactly as
    they are in the ticket (str is taken as UTF-8)."""
    if not isinstance(ip4, bytes):
        ip4 = ipaddress.IPv4Address(ip4).packed
    fields = [field.encode() if isinstance(field, str) else field for field in (user_id, tokens, user_data)]
    inner = hashlib.new(hashalg, ip4 + timestamp.to_bytes(4, "big") + secret + b"\0".join(fields))
    return hashlib.new(hashalg, inner.hexdigest().encode("ascii") + secret).hexdigest()


# --- cost, as ratios of two timings taken in the same test -------------------------------------------
# No test asserts a wall time: a slow or emulated machine slows both measurements alike.

# An input GROWTH times longer costs about GROWTH times more when the work is linear, GROWTH**2
# times more when it is quadratic.
GROWTH = 64
GROWTH_SLACK = 8  # so at most 512x: generous for linear work (noise, caches), an 8th of quadratic
# When a bound is exceeded, both sides are timed again this many rounds (best of all runs):
# a burst of load on the machine can land on one run and not the other.
RETIMES = 3


def best_time(call, runs=1):
    """The least time of ``runs`` calls of ``call()`` (seconds, ``time.perf_counter``)."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def assert_costs_at_most(check, baseline, times, runs=1, what="the check"):
    """Assert that ``check()`` takes at most ``times`` times as long as ``baseline()``: each is
    timed ``runs`` times (best run), and both again, up to RETIMES rounds, while the bound is
    exceeded. Both run at least once, so their own assertions are checked too. ``what`` names
    the check in the failure message."""
    check_time, baseline_time = best_time(check, runs), best_time(baseline, runs)
    for _ in range(RETIMES):
        if check_time <= times * baseline_time:
            return
        baseline_time = min(baseline_time, best_time(baseline, runs))
        check_time = min(check_time, best_time(check, runs))
    ratio = check_time / baseline_time if baseline_time else float("inf")
    assert check_time <= times * baseline_time, (
        f"{what} took {ratio:.1f}x the baseline's time, more than {times}x"
    )


def assert_cost_grows_linearly(make, size):
    """Assert that a check costs no more than linear work in the length of its input.

    ``make(n)`` builds an input of about ``n`` characters and returns the check on it (a
    callable without arguments that raises on a wrong result). The check runs at ``size`` and
    at ``size // GROWTH``; the larger may take at most ``GROWTH * GROWTH_SLACK`` times as long.
    Work that does not grow with the input (a length limit) passes too."""
    small, large = make(size // GROWTH), make(size)
    what = f"the check on {size} characters (baseline: {size // GROWTH})"
    assert_costs_at_most(large, small, GROWTH * GROWTH_SLACK, runs=3, what=what)
