"""What the benchmark suite measures: the ticket cases, the implementations, the floors.

Shared by ``conftest.py``, the ``test_*.py`` benchmark modules, ``test_targets.py`` and
``e2e_aiohttp.py``. It imports nothing optional at module level: itsdangerous and pyramid
are imported by ``load_impl`` only when asked for.

A *case* is (hashalg, size, ip). Every implementation of a case signs the same fields:

* ``minimal``: user id ``"a"``, no tokens, no user data;
* ``typical``: a 16-character user id, two tokens, short user data (``display=Alice``);
* ``4kb``: ``typical`` with 4096 characters of user data (URL-safe, so the ticket holds
  them unescaped and the bytes hashed grow by exactly 4 KB).

For ``validate`` the outcomes are ``valid``, ``bad_digest`` (the last digest character
changed), ``expired`` (minted, correctly signed, with ``valid_until`` an hour ago) and
``malformed`` (every ``!`` separator replaced by ``_``: the same length as the valid ticket,
rejected by the structure check only after the whole ticket has been read).

The *floors* of a case are the work no implementation of the ticket format can avoid, the two
digests over exactly the bytes the ticket's digest covers::

    inner_input = data0 + secret + data1      # see ticket_auth._arguments
    H(H(inner_input) + secret)

* **floor B** (``floor-b``): the two digests through OpenSSL's EVP functions from C, the
  algorithm fetched once and the context reused, one call from Python (``_floor_b.py``).
  Nothing that computes these digests with the same OpenSSL can cost less: it is the
  reference for the targets.
* **floor A** (``floor-a``): the same two digests through hashlib from Python,
  ``h(h(inner_input).digest() + secret).digest()`` with ``h`` the constructor the library's
  hashlib path uses (``ticket_auth._arguments.resolve_hashalg``).

``floor_input`` rebuilds ``inner_input`` from the ticket text (independently of the
library's code) and each floor checks once that its digest is the ticket's.

The cases are the typical ticket (sha512, typical size, IPv4) and its variations along one
axis at a time (hash algorithm, size, client address): what the README and the chart show.
"""

import dataclasses
import functools
import hashlib
import importlib
import ipaddress
import os
import random
import string
import sys
import time
from pathlib import Path

from ticket_auth._core import load_core

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TESTS_DIR = ROOT / "tests"

SECRET = hashlib.sha256(b"ticket_auth benchmark secret").digest()  # 32 bytes
NOW = int(time.time())
VALID_UNTIL = NOW + 365 * 86400  # valid for the whole run
EXPIRED_UNTIL = NOW - 3600  # expired an hour ago
TIMEOUT = 365 * 86400  # itsdangerous max_age / pyramid timeout for "valid"

HASHALGS = ("md5", "sha256", "sha512")
SIZES = ("minimal", "typical", "4kb")
IPS = {"none": None, "ipv4": "203.0.113.7", "ipv6": "2001:db8::8a2e:370:7334"}
OUTCOMES = ("valid", "bad_digest", "expired", "malformed")
REJECTED = OUTCOMES[1:]

# Implementations, in the order the report shows them.
FLOOR_A = "floor-a"
FLOOR_B = "floor-b"
FLOORS = (FLOOR_B, FLOOR_A)
COMPILED = "compiled"
COMPILED_HASHLIB = "compiled-hashlib"  # the compiled core kept on its hashlib hash path
PURE = "pure"
V014 = "0.1.4"
ITSDANGEROUS = "itsdangerous"
PYRAMID = "pyramid"
TICKET_AUTH_IMPLS = (COMPILED, COMPILED_HASHLIB, PURE, V014)
ALL_IMPLS = (FLOOR_B, FLOOR_A, COMPILED, COMPILED_HASHLIB, PURE, V014, ITSDANGEROUS, PYRAMID)
# Which operations each implementation has.
VALIDATE_IMPLS = ALL_IMPLS
NEW_IMPLS = ALL_IMPLS
PARSE_IMPLS = TICKET_AUTH_IMPLS

USER_ID = "u-0123456789abcd"  # 16 characters, nothing to escape
TOKENS = ("admin", "staff")
USER_DATA = "display=Alice"  # short, one escape ('=' is %3D in the ticket)
_URLSAFE = string.ascii_letters + string.digits + "-_"
USER_DATA_4KB = "".join(random.Random(4096).choice(_URLSAFE) for _ in range(4096))

FIELDS = {
    "minimal": ("a", (), None),
    "typical": (USER_ID, TOKENS, USER_DATA),
    "4kb": (USER_ID, TOKENS, USER_DATA_4KB),
}


class ImplUnavailableError(Exception):
    """An implementation cannot be loaded here (the message says why and what to install)."""


# --------------------------------------------------------------------------- cases


@dataclasses.dataclass(frozen=True)
class Case:
    hashalg: str
    size: str
    ip_name: str

    @property
    def ip(self):
        return IPS[self.ip_name]

    @property
    def fields(self):
        return FIELDS[self.size]

    @property
    def user_id(self):
        return self.fields[0]

    @property
    def tokens(self):
        return self.fields[1]

    @property
    def user_data(self):
        return self.fields[2]

    @property
    def hex_len(self):
        return 2 * hashlib.new(self.hashalg).digest_size

    @property
    def tickets(self):
        return ticket_set(self.hashalg, self.size, self.ip_name)

    def expected_info(self, outcome="valid"):
        """(user_id, tokens, user_data, valid_until) that parse/validate must return."""
        return (
            self.user_id,
            tuple(self.tokens),
            self.user_data or "",
            EXPIRED_UNTIL if outcome == "expired" else VALID_UNTIL,
        )


TYPICAL = Case("sha512", "typical", "ipv4")


def all_cases():
    """The typical case and its variations along one axis at a time (7 cases)."""
    cases = [dataclasses.replace(TYPICAL, hashalg=h) for h in HASHALGS]
    cases += [dataclasses.replace(TYPICAL, size=s) for s in SIZES]
    cases += [dataclasses.replace(TYPICAL, ip_name=i) for i in IPS]
    return list(dict.fromkeys(cases))


# (hashalg, size, ip) of every case, for pytest.mark.parametrize (plain strings, so that they
# are saved in the JSON and make ids such as "sha512-typical-ipv4").
CASE_PARAMS = [(c.hashalg, c.size, c.ip_name) for c in all_cases()]


@functools.cache
def ticket_set(hashalg, size, ip_name):
    """{outcome: ticket} for one case, minted by the pure core (every implementation of the
    format mints the same bytes; the ``new`` benchmarks check that)."""
    from ticket_auth._ticketcore_py import TicketFactory

    factory = TicketFactory(SECRET, hashalg)
    user_id, tokens, user_data = FIELDS[size]
    ip = IPS[ip_name]
    valid = factory.new(user_id, tokens=tokens, user_data=user_data, valid_until=VALID_UNTIL, client_ip=ip)
    expired = factory.new(
        user_id, tokens=tokens, user_data=user_data, valid_until=EXPIRED_UNTIL, client_ip=ip
    )
    hex_len = 2 * hashlib.new(hashalg).digest_size
    last = valid[hex_len - 1]
    bad_digest = valid[: hex_len - 1] + ("0" if last != "0" else "1") + valid[hex_len:]
    malformed = valid.replace("!", "_")
    return {"valid": valid, "bad_digest": bad_digest, "expired": expired, "malformed": malformed}


def floor_input(ticket, hashalg, client_ip):
    """data0 + secret + data1 for a well-formed ticket, built from the ticket's text."""
    hex_len = 2 * hashlib.new(hashalg).digest_size
    valid_until = int(ticket[hex_len : hex_len + 8], 16)
    address = ipaddress.ip_address(client_ip if client_ip is not None else "0.0.0.0")
    data0 = bytes([address.version]) + address.packed + valid_until.to_bytes(4, "big")
    data1 = ticket[hex_len + 8 :].replace("!", "\0").encode("ascii")
    return data0 + SECRET + data1


def hash_constructor(hashalg):
    """The hashlib constructor ticket_auth resolves for ``hashalg`` (the floor uses it too)."""
    from ticket_auth._arguments import resolve_hashalg

    return resolve_hashalg(hashalg)[0]


# --------------------------------------------------------------------------- benchmarks
#
# Every operation of every implementation returns a Bench: ``run`` is the zero-argument
# function that is timed (its body is the call itself, nothing else), ``check`` calls the
# implementation once, outside the timing, and raises AssertionError unless the result is
# the expected one (for a rejected ticket: the expected exception class, exactly).
#
# A rejected ticket is timed as ``try: <the same call> except <expected class>: return None``,
# written out in the function itself, so that accepted and rejected calls are timed at the
# same depth of Python calls (one frame: the run function).


@dataclasses.dataclass
class Bench:
    run: object
    check: object


def _check_raises(call, error, run):
    def check():
        try:
            call()
        except Exception as exc:  # noqa: BLE001
            assert type(exc) is error, f"expected {error.__name__}, got {type(exc).__name__}: {exc}"
        else:
            raise AssertionError(f"expected {error.__name__}, the ticket was accepted")
        assert run() is None

    return check


class Floor:
    """Floor A: the two digests through hashlib, from Python."""

    name = FLOOR_A

    def _functions(self, case, inner_input, secret):
        """(run, digest): zero-argument functions; run is timed (one Python frame around the
        work, as every implementation's), digest returns the digest for the check."""
        h = hash_constructor(case.hashalg)

        def run():
            return h(h(inner_input).digest() + secret).digest()

        return run, run

    def _bench(self, case, ticket, expected_hex):
        run, digest = self._functions(case, floor_input(ticket, case.hashalg, case.ip), SECRET)

        def check():
            assert digest().hex() == expected_hex, f"{self.name} does not compute the ticket's digest"

        return Bench(run, check)

    def validate(self, case, outcome):
        tickets = case.tickets
        # bad_digest and malformed tickets hash the bytes of the valid one (malformed has no
        # parseable fields; its floor is the valid ticket's, same length).
        source = tickets["expired"] if outcome == "expired" else tickets["valid"]
        return self._bench(case, source, source[: case.hex_len])

    def new(self, case):
        valid = case.tickets["valid"]
        return self._bench(case, valid, valid[: case.hex_len])


class FloorB(Floor):
    """Floor B: the two digests through OpenSSL's EVP functions, from C (``_floor_b``)."""

    name = FLOOR_B

    def __init__(self):
        import _floor_b

        try:
            _floor_b.load()
        except _floor_b.FloorBUnavailableError as exc:
            raise ImplUnavailableError(str(exc)) from None

    def _functions(self, case, inner_input, secret):
        import _floor_b

        try:
            floor = _floor_b.floor(case.hashalg)
        except _floor_b.FloorBUnavailableError as exc:
            raise ImplUnavailableError(str(exc)) from None
        digests = floor.run

        def run():
            return digests(inner_input, secret)

        return run, functools.partial(floor.digest, inner_input, secret)


class TicketAuthImpl:
    """This project's two cores (the compiled one on each hash path) and ticket_auth 0.1.4:
    the same API and tickets."""

    def __init__(self, name, factory_cls, errors):
        self.name = name
        self.factory_cls = factory_cls
        self.errors = errors  # outcome -> exception class

    def validate(self, case, outcome):
        validate = self.factory_cls(SECRET, case.hashalg).validate
        ticket = case.tickets[outcome]
        ip = case.ip

        def call():
            return validate(ticket, client_ip=ip)

        if outcome == "valid":

            def check():
                info = call()
                assert tuple(info[1:]) == case.expected_info(), info

            return Bench(call, check)
        error = self.errors[outcome]

        def run():
            try:
                validate(ticket, client_ip=ip)
            except error:
                return None
            return "accepted"

        return Bench(run, _check_raises(call, error, run))

    def new(self, case):
        new = self.factory_cls(SECRET, case.hashalg).new
        user_id, tokens, user_data = case.fields
        ip = case.ip
        expected = case.tickets["valid"]

        def run():
            return new(user_id, tokens=tokens, user_data=user_data, valid_until=VALID_UNTIL, client_ip=ip)

        def check():
            assert run() == expected, "new() does not mint the reference ticket"

        return Bench(run, check)

    def parse(self, case):
        parse = self.factory_cls(SECRET, case.hashalg).parse
        ticket = case.tickets["valid"]

        def run():
            return parse(ticket)

        def check():
            info = run()
            assert tuple(info[1:]) == case.expected_info() and info[0] == ticket[: case.hex_len], info

        return Bench(run, check)


class ItsdangerousImpl:
    """itsdangerous ``TimestampSigner`` (HMAC with the same hash) over the ticket's payload
    ``UID!TOKENS!DATA``. It binds no client address, so its numbers repeat across ``ip``."""

    name = ITSDANGEROUS

    def __init__(self):
        import itsdangerous

        self.mod = itsdangerous

    def _signer(self, case, past=False):
        digest = getattr(hashlib, case.hashalg)
        cls = self.mod.TimestampSigner
        if past:

            class PastSigner(cls):
                def get_timestamp(self):
                    return NOW - TIMEOUT - 3600

            cls = PastSigner
        return cls(SECRET, digest_method=digest)

    @staticmethod
    def _payload(case):
        valid = case.tickets["valid"]
        return valid[case.hex_len + 8 :].encode("ascii")

    def validate(self, case, outcome):
        mod = self.mod
        payload = self._payload(case)
        unsign = self._signer(case).unsign
        if outcome == "expired":
            signed = self._signer(case, past=True).sign(payload)
        else:
            signed = self._signer(case).sign(payload)
        if outcome == "bad_digest":
            value, sig = signed.rsplit(b".", 1)
            signed = value + b"." + (b"A" if sig[:1] != b"A" else b"B") + sig[1:]
        elif outcome == "malformed":
            signed = signed.replace(b".", b"_")
        max_age = TIMEOUT

        def call():
            return unsign(signed, max_age=max_age)

        if outcome == "valid":

            def check():
                assert call() == payload

            return Bench(call, check)
        error = {
            "bad_digest": mod.BadTimeSignature,
            "expired": mod.SignatureExpired,
            "malformed": mod.BadSignature,
        }[outcome]

        def run():
            try:
                unsign(signed, max_age=max_age)
            except error:
                return None
            return "accepted"

        return Bench(run, _check_raises(call, error, run))

    def new(self, case):
        payload = self._payload(case)
        sign = self._signer(case).sign
        unsign = self._signer(case).unsign

        def run():
            return sign(payload)

        def check():
            assert unsign(run(), max_age=TIMEOUT) == payload

        return Bench(run, check)


class PyramidExpiredError(Exception):
    """Raised by the pyramid wrapper for a ticket older than its timeout."""


def pyramid_identify(parse_ticket, ticket, ip, hashalg, timeout):
    """What pyramid's AuthTktCookieHelper.identify does with a ticket: parse_ticket, then
    reject a ticket minted more than ``timeout`` seconds ago."""
    timestamp, userid, tokens, user_data = parse_ticket(SECRET, ticket, ip, hashalg)
    if timestamp + timeout < time.time():
        raise PyramidExpiredError(ticket)
    return userid, tokens, user_data


class PyramidImpl:
    """Pyramid's ``AuthTicket(...).cookie_value()`` and ``parse_ticket`` followed by the
    timeout check its ``AuthTktCookieHelper.identify`` applies (parse_ticket itself does not
    look at the time). Pyramid's timestamp is the minting time, not an expiry."""

    name = PYRAMID

    def __init__(self):
        from pyramid import authentication

        self.mod = authentication

    def _mint(self, case, timestamp):
        user_id, tokens, user_data = case.fields
        return self.mod.AuthTicket(
            SECRET,
            user_id,
            case.ip or "0.0.0.0",
            tokens=tokens,
            user_data=user_data or "",
            time=timestamp,
            hashalg=case.hashalg,
        ).cookie_value()

    def validate(self, case, outcome):
        parse_ticket = self.mod.parse_ticket
        hashalg = case.hashalg
        ip = case.ip or "0.0.0.0"
        if outcome == "expired":
            ticket = self._mint(case, NOW - TIMEOUT - 3600)
        else:
            ticket = self._mint(case, NOW)
        if outcome == "bad_digest":
            last = ticket[case.hex_len - 1]
            ticket = ticket[: case.hex_len - 1] + ("0" if last != "0" else "1") + ticket[case.hex_len :]
        elif outcome == "malformed":
            ticket = ticket.replace("!", "_")

        def call():
            return pyramid_identify(parse_ticket, ticket, ip, hashalg, TIMEOUT)

        if outcome == "valid":

            def check():
                userid, tokens, user_data = call()
                assert userid == case.user_id and tokens == list(case.tokens or [""]), (userid, tokens)
                assert user_data == (case.user_data or "")

            return Bench(call, check)
        error = PyramidExpiredError if outcome == "expired" else self.mod.BadTicket

        def run():
            try:
                pyramid_identify(parse_ticket, ticket, ip, hashalg, TIMEOUT)
            except error:
                return None
            return "accepted"

        return Bench(run, _check_raises(call, error, run))

    def new(self, case):
        AuthTicket = self.mod.AuthTicket  # noqa: N806
        parse_ticket = self.mod.parse_ticket
        user_id, tokens, user_data = case.fields
        user_data = user_data or ""
        ip = case.ip or "0.0.0.0"
        hashalg = case.hashalg

        def run():
            return AuthTicket(
                SECRET, user_id, ip, tokens=tokens, user_data=user_data, time=NOW, hashalg=hashalg
            ).cookie_value()

        def check():
            assert parse_ticket(SECRET, run(), ip, hashalg)[1] == user_id

        return Bench(run, check)


# --------------------------------------------------------------------------- mod_auth_tkt
#
# AuthTktFactory (mod_auth_tkt 2.x cookies): the typical fields, IPv4, a base64 cookie, for
# each digest mod_auth_tkt offers. Its floors hash the same bytes, with the inner digest as
# lowercase hex (mod_auth_tkt's construction). Groups ``authtkt-{op}-{digest}``.

AUTHTKT_DIGESTS = ("md5", "sha256", "sha512")
AUTHTKT_IMPLS = (FLOOR_B, FLOOR_A, COMPILED, COMPILED_HASHLIB, PURE)
AUTHTKT_TIMESTAMP = NOW - 60  # minted a minute ago; valid for the whole run (timeout below)
AUTHTKT_TIMEOUT = 365 * 86400
AUTHTKT_IP = IPS["ipv4"]


def authtkt_class(name):
    if name in (COMPILED, COMPILED_HASHLIB):
        cls = compiled_module().AuthTktFactory
        return hashlib_factory(cls) if name == COMPILED_HASHLIB else cls
    if name == PURE:
        return load_core("pure").AuthTktFactory
    raise ValueError(f"no AuthTktFactory in {name!r}")


@functools.cache
def authtkt_cookie(digest):
    """The reference cookie, minted by the pure core."""
    return authtkt_class(PURE)(SECRET, digest, timeout=AUTHTKT_TIMEOUT).new(
        USER_ID, TOKENS, USER_DATA, AUTHTKT_TIMESTAMP, AUTHTKT_IP
    )


def authtkt_floor_input(digest):
    """ip4 + timestamp + secret + UID NUL TOKENS NUL DATA, built from the fields."""
    fields = "\0".join((USER_ID, ",".join(TOKENS), USER_DATA)).encode("utf-8")
    packed = ipaddress.IPv4Address(AUTHTKT_IP).packed
    return packed + AUTHTKT_TIMESTAMP.to_bytes(4, "big") + SECRET + fields


def authtkt_bench(impl_name, op, digest):
    """The Bench of AuthTktFactory ``op`` ("validate" or "new") for one implementation."""
    import base64

    cookie = authtkt_cookie(digest)
    expected_hex = base64.b64decode(cookie)[: 2 * hashlib.new(digest).digest_size].decode("ascii")
    if impl_name in FLOORS:
        inner_input, secret = authtkt_floor_input(digest), SECRET
        if impl_name == FLOOR_B:
            load_impl(FLOOR_B)  # ImplUnavailableError with the reason
            import _floor_b

            digests = _floor_b.floor(digest, hex_inner=True)
            run_digests = digests.run

            def run():
                return run_digests(inner_input, secret)

            def result():
                return digests.digest(inner_input, secret)
        else:
            h = hash_constructor(digest)

            def run():
                return h(h(inner_input).hexdigest().encode("ascii") + secret).digest()

            result = run

        def check():
            assert result().hex() == expected_hex, f"{impl_name} does not compute the cookie's digest"

        return Bench(run, check)
    factory = authtkt_class(impl_name)(SECRET, digest, timeout=AUTHTKT_TIMEOUT)
    if op == "validate":
        validate, ip = factory.validate, AUTHTKT_IP

        def run():
            return validate(cookie, client_ip=ip)

        def check():
            info = run()
            assert (info.user_id, info.tokens, info.user_data) == (USER_ID, TOKENS, USER_DATA), info

        return Bench(run, check)
    new, ip, timestamp = factory.new, AUTHTKT_IP, AUTHTKT_TIMESTAMP

    def run():
        return new(USER_ID, TOKENS, USER_DATA, timestamp, ip)

    def check():
        assert run() == cookie, "new() does not mint the reference cookie"

    return Bench(run, check)


# --------------------------------------------------------------------------- loading


def _load_014():
    if str(TESTS_DIR) not in sys.path:
        sys.path.append(str(TESTS_DIR))
    import _ta014

    module, error = _ta014.load()
    if module is None:
        raise ImplUnavailableError(f"ticket_auth 0.1.4 could not be loaded: {error}")
    return module


def hashlib_factory(cls):
    """``cls`` (a compiled core factory class) as a constructor of factories kept on the
    hashlib hash path, as ``TICKET_AUTH_FORCE_HASHLIB=1`` would keep them."""
    module = sys.modules[cls.__module__]

    def make(*args, **kwargs):
        token = module._FORCE_HASHLIB.set(True)
        try:
            factory = cls(*args, **kwargs)
        finally:
            module._FORCE_HASHLIB.reset(token)
        assert factory.hash_path == "hashlib"
        return factory

    return make


def compiled_module():
    try:
        return load_core("compiled")
    except ModuleNotFoundError as exc:
        raise ImplUnavailableError(
            f"the compiled core ticket_auth._ticketcore is not built ({exc}); build it with "
            "`python setup.py build_ext --inplace`"
        ) from None


def factory_class(name):
    """TicketFactory of ``compiled``, ``compiled-hashlib``, ``pure`` or ``0.1.4``
    (ImplUnavailableError if it cannot be imported)."""
    if name == COMPILED:
        return compiled_module().TicketFactory
    if name == COMPILED_HASHLIB:
        return hashlib_factory(compiled_module().TicketFactory)
    if name == PURE:
        return load_core("pure").TicketFactory
    if name == V014:
        return _load_014().TicketFactory
    raise ValueError(f"not a ticket_auth implementation: {name!r}")


def error_classes(name):
    """{"bad_digest"|"expired"|"malformed": exception class} for a ticket_auth implementation."""
    if name == V014:
        module = _load_014()
    else:
        module = importlib.import_module("ticket_auth.exception")
    return {
        "bad_digest": module.TicketDigestError,
        "expired": module.TicketExpired,
        "malformed": module.TicketParseError,
    }


@functools.cache
def load_impl(name):
    """The adapter for ``name``; ImplUnavailableError (with what to install) if it cannot load."""
    if name == FLOOR_A:
        return Floor()
    if name == FLOOR_B:
        return FloorB()
    if name in TICKET_AUTH_IMPLS:
        return TicketAuthImpl(name, factory_class(name), error_classes(name))
    try:
        if name == ITSDANGEROUS:
            return ItsdangerousImpl()
        if name == PYRAMID:
            return PyramidImpl()
    except ImportError as exc:
        raise ImplUnavailableError(
            f"{name} is not installed ({exc}); `pip install -r benchmarks/requirements.txt`"
        ) from None
    raise ValueError(f"unknown implementation {name!r}")


def bench(impl_name, op, case, outcome="valid"):
    """The Bench of ``op`` ("validate", "new", "parse") for one implementation and case."""
    impl = load_impl(impl_name)
    if op == "validate":
        return impl.validate(case, outcome)
    return getattr(impl, op)(case)


def group_name(op, case, outcome=None):
    """The pytest-benchmark group; report.py also reads the same fields from extra_info."""
    if op == "parse":
        return f"parse-{case.hashalg}-{case.size}"
    if op == "new":
        return f"new-{case.hashalg}-{case.size}-{case.ip_name}"
    return f"validate-{case.hashalg}-{case.size}-{case.ip_name}-{outcome}"


def env_flag(name):
    return os.environ.get(name, "") not in ("", "0")
