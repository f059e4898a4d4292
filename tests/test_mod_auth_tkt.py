"""AuthTktFactory (mod_auth_tkt 2.x) on both cores: the digest recipe of the format, every
cookie form Apache reads, clear errors for what the format cannot carry, and the two cores
agreeing on every input. (The real Apache is in test_mod_auth_tkt_apache.py.)"""

import base64
import ipaddress
import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _helpers import exact_outcome, spec_digest
from ticket_auth import TicketDigestError, TicketError, TicketExpired, TicketParseError, _authtkt_format
from ticket_auth.mod_auth_tkt import AuthTktFactory, AuthTktInfo, FallbackAuthTktInfo

SECRET, OLD = b"0123456789abcdef-apache", b"old-apache-secret"
DIGESTS = ["md5", "sha256", "sha512"]
T0 = 1_700_000_000


def test_public_factory_is_a_core_factory(core):
    assert AuthTktFactory.__module__ in ("ticket_auth._ticketcore", "ticket_auth._ticketcore_py")
    assert hasattr(core.module, "AuthTktFactory")


@pytest.mark.parametrize("digest", DIGESTS)
@pytest.mark.parametrize(
    "client_ip, ip4",
    [(None, b"\0\0\0\0"), ("127.0.0.1", b"\x7f\0\0\1"), (ipaddress.IPv4Address("10.0.0.9"), b"\n\0\0\t")],
)
def test_digest_follows_the_recipe(core, digest, client_ip, ip4):
    factory = core.AuthTktFactory(SECRET, digest.upper())
    raw = factory.new("alice@example.com", ("admin", "staff"), "name=A l!ce", T0, client_ip, raw=True)
    want = spec_digest(digest, SECRET, ip4, T0, b"alice@example.com", b"admin,staff", b"name=A l!ce")
    assert raw == f"{want}{T0:08x}alice@example.com!admin,staff!name=A l!ce"
    cookie = factory.new("alice@example.com", ("admin", "staff"), "name=A l!ce", T0, client_ip)
    assert base64.b64decode(cookie) == raw.encode()
    info = factory.validate(cookie, client_ip, T0)
    assert info == AuthTktInfo(want, "alice@example.com", ("admin", "staff"), "name=A l!ce", T0)
    assert type(info) is AuthTktInfo and info.fallback_secret_used is False


def test_tokens_part_written_as_apache_reads_it(core):
    factory = core.AuthTktFactory(SECRET, "sha256")
    plain = factory.new("u", user_data="data", timestamp=T0, raw=True)
    assert plain.endswith(f"{T0:08x}u!data")  # no tokens: part omitted
    banged = factory.new("u", user_data="a!b", timestamp=T0, raw=True)
    assert banged.endswith(f"{T0:08x}u!!a!b")  # data with '!': uid!!data
    assert factory.validate(banged, now=T0).user_data == "a!b"
    digest = spec_digest("sha256", SECRET, b"\0" * 4, T0, b"u", b"", b"a!b")
    assert banged.startswith(digest)
    # A ticket written uid!a!b (Pyramid's trap) means tokens 'a' and data 'b' to Apache.
    trap = spec_digest("sha256", SECRET, b"\0" * 4, T0, b"u", b"a", b"b") + f"{T0:08x}u!a!b"
    assert factory.validate(trap, now=T0)[1:4] == ("u", ("a",), "b")


@pytest.mark.parametrize("uid", ["alice@example.com", "a b", "jörg", "日本", "x%21y", "100%"])
def test_unusual_user_ids_are_hashed_as_written(core, uid):
    factory = core.AuthTktFactory(SECRET, "md5")
    raw = factory.new(uid, timestamp=T0, raw=True)
    assert raw == spec_digest("md5", SECRET, b"\0" * 4, T0, uid.encode(), b"", b"") + f"{T0:08x}{uid}!"
    for cookie in (raw, factory.new(uid, timestamp=T0)):
        assert factory.validate(cookie, now=T0).user_id == uid


def test_every_cookie_form_apache_reads(core):
    factory = core.AuthTktFactory(SECRET, "sha512")
    raw = factory.new("bob", ("t1",), "d", T0, raw=True)
    b64 = base64.b64encode(raw.encode()).decode()
    forms = {
        "raw": raw,
        "quoted raw": f'"{raw}"',
        "leading quote only": f'"{raw}',  # Apache strips each quote on its own
        "trailing quote only (base64)": f'{b64}"',
        "base64": b64,
        "base64 unpadded": b64.rstrip("="),
        "quoted base64": f'"{b64}"',
        "%21-escaped": raw.replace("!", "%21"),
        "fully escaped": urllib.parse.quote(raw, safe=""),
        "lowercase escapes": raw.replace("!", "%21").replace("bob", "b%6fb"),
        "bytes": raw.encode(),
        "bytearray base64": bytearray(b64.encode()),
        "memoryview": memoryview(raw.encode()),
    }
    for name, cookie in forms.items():
        assert factory.validate(cookie, now=T0)[1:] == ("bob", ("t1",), "d", T0), name


@pytest.mark.parametrize(
    "cookie, message",
    [
        ("", _authtkt_format.BAD_BASE64),
        ("!", _authtkt_format.TOO_SHORT),
        ("not base64 at all", _authtkt_format.BAD_BASE64),
        ("YWJj", _authtkt_format.BAD_BASE64),  # base64 of 'abc': no '!'
        ("abc%2", _authtkt_format.BAD_BASE64),
        ("a%21b%2", _authtkt_format.BAD_ESCAPE),
        ("a%21b%zz", _authtkt_format.BAD_ESCAPE),
        ("A" * 64 + "00000000!", _authtkt_format.BAD_DIGEST),
        ("a" * 64 + "0000000G!", _authtkt_format.BAD_TIME),
        ("a" * 64 + "00000000", _authtkt_format.BAD_BASE64),  # no '!' anywhere: read as base64
        ("a" * 64 + "00000000x!y\0z", _authtkt_format.HAS_NUL),
        ("a" * 64 + "00000000x%21y%00", _authtkt_format.HAS_NUL),
        (b"a" * 64 + b"00000000\xff!", _authtkt_format.UID_NOT_UTF8),
        (b"a" * 64 + b"00000000u!\xc0\x80!d", _authtkt_format.TOKENS_NOT_UTF8),
        (b"a" * 64 + b"00000000u!t!\xed\xa0\x80", _authtkt_format.DATA_NOT_UTF8),
        (b"a" * 64 + b"00000000u!\xf4\x90\x80\x80", _authtkt_format.DATA_NOT_UTF8),
        ("\ud800!", _authtkt_format.NOT_ENCODABLE),
    ],
)
def test_malformed_cookies(core, cookie, message):
    factory = core.AuthTktFactory(SECRET, "sha256")
    for method in (factory.parse, factory.validate):
        with pytest.raises(TicketParseError) as err:
            method(cookie)
        assert err.value.msg == message
        assert err.value.ticket is cookie


def test_digest_then_timeout(core):
    factory = core.AuthTktFactory(SECRET, "md5", timeout=60)
    cookie = factory.new("u", timestamp=T0, client_ip="127.0.0.1")
    assert factory.validate(cookie, "127.0.0.1", T0 + 60).user_id == "u"  # timestamp + timeout >= now
    with pytest.raises(TicketExpired):
        factory.validate(cookie, "127.0.0.1", T0 + 61)
    with pytest.raises(TicketDigestError):  # digest is checked first
        factory.validate(cookie, "127.0.0.2", T0 + 61)
    with pytest.raises(TicketDigestError):
        factory.validate(cookie, None, T0)
    assert factory.validate(cookie, "127.0.0.1", T0 - 10_000).user_id == "u"  # future timestamps pass
    no_timeout = core.AuthTktFactory(SECRET, "md5", timeout=0)
    assert no_timeout.validate(cookie, "127.0.0.1", 2**32 - 1).user_id == "u"


def test_timeout_arithmetic_is_unsigned_32_bit(core):
    factory = core.AuthTktFactory(SECRET, "sha256", timeout=7200)
    late = factory.new("u", timestamp=2**32 - 100)
    # 2**32 - 100 + 7200 wraps to 7100, which is before any real "now".
    with pytest.raises(TicketExpired):
        factory.validate(late, now=T0)
    assert factory.validate(late, now=7000).user_id == "u"


def test_rotation(core):
    old_cookie = core.AuthTktFactory(OLD, "sha256").new("u", timestamp=T0)
    rotating = core.AuthTktFactory(SECRET, "sha256", fallback_secrets=[OLD])
    info = rotating.validate(old_cookie, now=T0)
    assert info.fallback_secret_used is True and isinstance(info, FallbackAuthTktInfo)
    fresh = rotating.new(info.user_id, info.tokens, info.user_data)
    assert core.AuthTktFactory(SECRET, "sha256").validate(fresh).fallback_secret_used is False
    with pytest.raises(TicketDigestError):
        core.AuthTktFactory(SECRET, "sha256").validate(old_cookie, now=T0)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(user_id="a!b"), ValueError, "'!'"),
        (dict(user_id="u", tokens=("a!b",)), ValueError, "'!'"),
        (dict(user_id="u", tokens=("a,b",)), ValueError, "','"),
        (dict(user_id="u\0"), ValueError, "NUL"),
        (dict(user_id="u", user_data="d\0"), ValueError, "NUL"),
        (dict(user_id=b"\xff"), ValueError, "UTF-8"),
        (dict(user_id="u", client_ip="::1"), ValueError, "IPv4"),
        (dict(user_id="u", client_ip="1.2.3"), ValueError, ""),
        (dict(user_id="u", timestamp=-1), ValueError, "timestamp"),
        (dict(user_id="u", timestamp=2**32), ValueError, "timestamp"),
        (dict(user_id=5), TypeError, "user_id"),
        (dict(user_id="u", tokens="admin"), TypeError, "tokens"),
        (dict(user_id="u", tokens=(5,)), TypeError, "token"),
        (dict(user_id="\ud800"), UnicodeEncodeError, ""),
        (dict(user_id="u", user_data='"hi"', raw=True), ValueError, "base64"),
    ],
)
def test_new_refuses_what_the_format_cannot_carry(core, kwargs, error, words):
    with pytest.raises(error) as err:
        core.AuthTktFactory(SECRET, "sha256").new(**kwargs)
    assert words in str(err.value)


@pytest.mark.parametrize(
    "args, kwargs, error",
    [
        ((SECRET,), {}, TypeError),
        ((SECRET, "sha1"), {}, ValueError),
        ((SECRET, 5), {}, TypeError),
        ((SECRET, "shake_128"), {}, ValueError),
        (("secret", "md5"), {}, TypeError),
        ((b"", "md5"), {}, ValueError),
        ((SECRET, "md5"), dict(timeout=-1), ValueError),
        ((SECRET, "md5"), dict(timeout=1.5), TypeError),
        ((SECRET, "md5"), dict(fallback_secrets=b"x"), TypeError),
        ((SECRET, "md5"), dict(max_length=0), ValueError),
    ],
)
def test_constructor_errors(core, args, kwargs, error):
    with pytest.raises(error) as err:
        core.AuthTktFactory(*args, **kwargs)
    assert SECRET.decode() not in str(err.value)


def test_ipv6_client_cannot_validate_a_bound_check(core):
    factory = core.AuthTktFactory(SECRET, "sha256")
    with pytest.raises(ValueError, match="IPv4"):
        factory.validate(factory.new("u"), "::1")


# --- the two cores agree on everything -------------------------------------------------------------

field = st.one_of(
    st.text(max_size=12), st.binary(max_size=12), st.sampled_from(["!", ",", "a!b", "", "é", "\0"])
)
cookie_values = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=60),
    st.binary(max_size=40).map(lambda b: base64.b64encode(b"a" * 32 + b"0" * 8 + b).decode()),
    st.binary(max_size=40).map(lambda b: b"a" * 32 + b"00000000" + b),
    st.builds(lambda b, q: f'"{b}"' if q else b, st.text(max_size=30), st.booleans()),
)


@given(
    uid=field,
    tokens=st.lists(field, max_size=3),
    data=field,
    timestamp=st.integers(0, 2**32 - 1),
    ip=st.sampled_from([None, "127.0.0.1", "10.1.2.3", "::1"]),
    raw=st.booleans(),
    digest=st.sampled_from(DIGESTS),
)
def test_cores_mint_and_read_alike(both_cores, uid, tokens, data, timestamp, ip, raw, digest):
    # timeout=0: a timestamp near 2**32 would otherwise wrap (see the unsigned 32-bit test).
    compiled, pure = (c.AuthTktFactory(SECRET, digest, fallback_secrets=[OLD], timeout=0) for c in both_cores)
    minted = [exact_outcome(f.new, uid, tokens, data, timestamp, ip, raw=raw) for f in (compiled, pure)]
    assert minted[0][0] == "ok" or issubclass(minted[0][1], (TicketError, ValueError, TypeError)), minted[0]
    assert minted[0] == minted[1]
    if minted[0][0] == "ok":
        cookie = minted[0][2]
        for f in (compiled, pure):
            info = f.validate(cookie, ip if ip != "::1" else None, timestamp)
            assert info.timestamp == timestamp


@given(cookie=cookie_values, now=st.integers(0, 2**32 - 1), digest=st.sampled_from(["md5", "sha256"]))
def test_cores_reject_alike(both_cores, cookie, now, digest):
    compiled, pure = (c.AuthTktFactory(SECRET, digest, timeout=100) for c in both_cores)
    for method in ("validate", "parse"):
        results = [exact_outcome(getattr(f, method), cookie) for f in (compiled, pure)]
        assert results[0] == results[1]
        assert results[0][0] == "ok" or results[0][1] in (TicketParseError, TicketDigestError, TicketExpired)


def test_validate_never_attaches_a_utf8_copy_to_the_callers_string(core):
    """A non-ASCII cookie is encoded into a private copy (or, past max_length, not at all):
    the caller's str must not grow a cached UTF-8 form of attacker-sized text."""
    import sys

    cookie = "é" * 100_000
    size = sys.getsizeof(cookie)
    for factory in (
        core.AuthTktFactory(SECRET, "md5", max_length=4096),
        core.AuthTktFactory(SECRET, "md5"),
    ):
        with pytest.raises(TicketParseError):
            factory.validate(cookie)
    assert sys.getsizeof(cookie) == size
