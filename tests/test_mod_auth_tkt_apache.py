"""AuthTktFactory against a real Apache with mod_auth_tkt (the reference for the format).

Every test runs for both cores and for each TKTAuthDigestType (MD5, SHA256, SHA512), against
the server of tests/apache/server.py: one VirtualHost per digest type with its own
TKTAuthSecret and TKTAuthSecretOld, and the locations /ignoreip/, /boundip/, /token/ (needs
the token ``admin``), /short/ (TKTAuthTimeout 60s) and /named/ (TKTAuthCookieName named_tkt).
Apache answers 200 and echoes REMOTE_USER, REMOTE_USER_TOKENS and REMOTE_USER_DATA in
X-Remote-User* headers when it accepts a ticket, and 307 to the login URL when it does not.
Each case also checks that our factory comes to the same decision with the same fields.

Needs ``apt-get install -y apache2 libapache2-mod-auth-tkt``: skipped without it, unless
TICKET_AUTH_REQUIRE_APACHE=1.
"""

import base64
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _helpers import EXAMPLES
from apache.server import DEFAULT_TIMEOUT, DIGESTS, LOGIN_URL, SHORT_TIMEOUT, apache_server  # noqa: F401

mod_auth_tkt = pytest.importorskip(
    "ticket_auth.mod_auth_tkt", reason="ticket_auth.mod_auth_tkt is not there yet"
)

from ticket_auth import TicketDigestError, TicketExpired, TicketParseError  # noqa: E402

HEX_LEN = {"md5": 32, "sha256": 64, "sha512": 128}

# (user id, tokens, user data): '@', spaces, non-ASCII, '!' and '=' in the data, tokens or none.
FIELD_CASES = [
    ("alice@example.com", ("admin", "staff"), "display=Alice"),
    ("Jörg Müller", (), ""),
    ("bob", (), "a!b"),  # no tokens and a '!' in the data: must be written bob!!a!b
    ("carol", ("editor",), "x!y!z"),
    ("日本 ユーザー", ("ü-token", "t2"), "データ: é"),
    ("dave", (), "plain"),
]
FIELD_IDS = ["email-tokens", "nonascii-space", "bang-data-no-tokens", "bang-data-tokens", "cjk", "plain"]


@pytest.fixture(scope="module", params=DIGESTS)
def digest(request):
    return request.param


@pytest.fixture(scope="module")
def site(apache_server, digest):  # noqa: F811 - the fixture imported above
    return apache_server.sites[digest]


@pytest.fixture(scope="module")
def factory(core, site):
    """Our factory configured like the VirtualHost (TKTAuthSecret, TKTAuthSecretOld, digest)."""
    return core.AuthTktFactory(site.secret, site.digest, fallback_secrets=[site.old_secret])


@pytest.fixture(scope="module")
def old_factory(core, site):
    """A factory that still signs with the VirtualHost's TKTAuthSecretOld."""
    return core.AuthTktFactory(site.old_secret, site.digest)


def b64(raw):
    return base64.b64encode(raw.encode("utf-8")).decode("ascii")


def assert_accepted(resp, user_id, tokens, user_data):
    assert resp.status == 200, resp.describe()
    assert (resp.remote_user, resp.remote_user_tokens, resp.remote_user_data) == (
        user_id,
        ",".join(tokens),
        user_data,
    )


def assert_refused(resp):
    assert resp.status == 307, resp.describe()
    assert resp.headers["Location"].startswith(LOGIN_URL + "?back="), resp.describe()


def assert_fields(info, user_id, tokens, user_data, timestamp=None):
    assert (info.user_id, info.tokens, info.user_data) == (user_id, tuple(tokens), user_data)
    if timestamp is not None:
        assert info.timestamp == timestamp


# -- our tickets, Apache's verdict ---------------------------------------------------------


@pytest.mark.parametrize("raw", [False, True], ids=["base64", "raw"])
@pytest.mark.parametrize(("user_id", "tokens", "user_data"), FIELD_CASES, ids=FIELD_IDS)
def test_apache_accepts_our_ticket(site, factory, user_id, tokens, user_data, raw):
    cookie = factory.new(user_id, tokens, user_data, raw=raw)
    resp = site.get("ignoreip", cookie)
    assert_accepted(resp, user_id, tokens, user_data)
    assert resp.set_cookies == []  # fresh, current secret: nothing to refresh
    info = factory.validate(cookie)
    assert_fields(info, user_id, tokens, user_data)
    assert not info.fallback_secret_used


def test_raw_ticket_text_is_what_apache_reads(site, factory):
    """No escaping, and the tokens part is written when the data holds a '!'."""
    hex_len = HEX_LEN[site.digest]
    timestamp = int(time.time())
    raw = factory.new("bob@example.com", (), "a!b", timestamp, raw=True)
    assert raw[hex_len:] == f"{timestamp:08x}bob@example.com!!a!b"
    assert base64.b64decode(factory.new("bob@example.com", (), "a!b", timestamp)).decode() == raw
    assert_accepted(site.get("ignoreip", raw), "bob@example.com", (), "a!b")
    raw = factory.new("eve", ("admin", "staff"), "", timestamp, raw=True)
    assert raw[hex_len:] == f"{timestamp:08x}eve!admin,staff!"
    assert factory.new("eve", (), "", timestamp, raw=True)[hex_len:] == f"{timestamp:08x}eve!"
    assert_accepted(site.get("ignoreip", raw), "eve", ("admin", "staff"), "")


def cookie_forms(raw):
    """Every cookie form Apache reads, for one raw ticket (without '%' in it)."""
    encoded = b64(raw)
    return {
        "raw": raw,
        "base64": encoded,
        "base64-unpadded": encoded.rstrip("="),
        "quoted-raw": f'"{raw}"',
        "quoted-base64": f'"{encoded}"',
        "percent-escaped": raw.replace("!", "%21"),
    }


@pytest.mark.parametrize("form", list(cookie_forms("x!y")))
def test_cookie_forms_read_alike(site, factory, form):
    # A user id that makes the base64 text need padding, for every digest length.
    raw = factory.new("frank.o", ("t1",), "d=1 x", raw=True)
    assert b64(raw).endswith("=")
    cookie = cookie_forms(raw)[form]
    assert_accepted(site.get("ignoreip", cookie), "frank.o", ("t1",), "d=1 x")
    assert_fields(factory.validate(cookie), "frank.o", ("t1",), "d=1 x")
    assert factory.parse(cookie) == factory.parse(raw)


def test_cookie_among_others_and_cookie_name(site, factory):
    cookie = factory.new("grace", ("admin",), "g")
    header = f"session=abc; x_auth_tkt=junk; auth_tkt={cookie}; other=1".encode("ascii")
    assert_accepted(site.get("ignoreip", cookie_header=header), "grace", ("admin",), "g")
    # TKTAuthCookieName named_tkt: only that cookie counts there.
    assert_refused(site.get("named", cookie))
    assert_accepted(site.get("named", cookie, cookie_name="named_tkt"), "grace", ("admin",), "g")


# -- refused tickets: Apache and we agree --------------------------------------------------


def tamper_digest(raw):
    replacement = "0" if raw[0] != "0" else "1"
    return replacement + raw[1:]


def test_refuses_tampered_tickets(site, factory):
    hex_len = HEX_LEN[site.digest]
    raw = factory.new("alice", ("staff",), "data", raw=True)
    tampered = {
        "digest": tamper_digest(raw),
        "last-digest-char": raw[: hex_len - 1] + ("0" if raw[hex_len - 1] != "0" else "1") + raw[hex_len:],
        "uid": raw[: hex_len + 8] + "alicf" + raw[hex_len + 8 + len("alice") :],
        "tokens": raw.replace("!staff!", "!admin!"),
        "data": raw[:-1] + "A",
        "timestamp": raw[:hex_len] + f"{int(raw[hex_len : hex_len + 8], 16) + 1:08x}" + raw[hex_len + 8 :],
    }
    for what, ticket in tampered.items():
        assert ticket != raw, what
        for cookie in (ticket, b64(ticket)):
            assert_refused(site.get("ignoreip", cookie))
            with pytest.raises(TicketDigestError):
                factory.validate(cookie)
    assert_accepted(site.get("ignoreip", raw), "alice", ("staff",), "data")


def test_refuses_uppercase_digest(site, factory):
    hex_len = HEX_LEN[site.digest]
    raw = factory.new("alice", raw=True)
    upper = raw[:hex_len].upper() + raw[hex_len:]
    assert upper != raw
    assert_refused(site.get("ignoreip", upper))
    with pytest.raises(TicketParseError):
        factory.validate(upper)


def test_refuses_wrong_secret(core, site, factory):
    stranger = core.AuthTktFactory(b"not the secret of this server", site.digest)
    cookie = stranger.new("alice", ("admin",), "x")
    assert_refused(site.get("ignoreip", cookie))
    with pytest.raises(TicketDigestError):
        factory.validate(cookie)


def test_refuses_other_digest_type(core, site, factory):
    other = next(d for d in DIGESTS if d != site.digest)
    cookie = core.AuthTktFactory(site.secret, other).new("alice")
    assert_refused(site.get("ignoreip", cookie))
    with pytest.raises((TicketDigestError, TicketParseError)):
        factory.validate(cookie)


def test_expired_after_timeout(core, site, factory):
    now = int(time.time())
    # Default TKTAuthTimeout (2 h) on /ignoreip/; 60 s on /short/.
    old = factory.new("henry", (), "h", timestamp=now - DEFAULT_TIMEOUT - 5)
    resp = site.get("ignoreip", old)
    assert_refused(resp)
    assert resp.cookie_value() == ""  # Apache also clears the cookie
    with pytest.raises(TicketExpired):
        factory.validate(old, now=time.time())

    short = core.AuthTktFactory(site.secret, site.digest, timeout=SHORT_TIMEOUT)
    stale = short.new("henry", timestamp=now - SHORT_TIMEOUT - 5)
    assert_refused(site.get("short", stale))
    assert_accepted(site.get("ignoreip", stale), "henry", (), "")  # 65 s is fine under 2 h
    with pytest.raises(TicketExpired):
        short.validate(stale, now=time.time())
    assert factory.validate(stale, now=time.time()).user_id == "henry"
    # timeout=0 (TKTAuthTimeout 0) never expires, as with Apache.
    forever = core.AuthTktFactory(site.secret, site.digest, timeout=0)
    assert forever.validate(old, now=time.time()).user_id == "henry"


def test_timestamp_is_unsigned_32_bit(site, factory):
    now = int(time.time())
    future = factory.new("ivy", timestamp=now + 10**8)  # about 3 years ahead: not refused
    assert_accepted(site.get("ignoreip", future), "ivy", (), "")
    assert factory.validate(future, now=time.time()).timestamp == now + 10**8
    # timestamp + timeout wraps past 2**32 to a small number: expired for both.
    wrapped = factory.new("ivy", timestamp=2**32 - 30)
    assert_refused(site.get("ignoreip", wrapped))
    assert_refused(site.get("short", wrapped))
    with pytest.raises(TicketExpired):
        factory.validate(wrapped, now=time.time())
    # The last timestamp that does not wrap under the 2 h timeout is still good.
    edge = factory.new("ivy", timestamp=2**32 - 1 - DEFAULT_TIMEOUT)
    assert_accepted(site.get("ignoreip", edge), "ivy", (), "")
    factory.validate(edge, now=time.time())
    zero = factory.new("ivy", timestamp=0)
    assert_refused(site.get("ignoreip", zero))
    with pytest.raises(TicketExpired):
        factory.validate(zero, now=time.time())


# -- TKTAuthToken and TKTAuthIgnoreIP ------------------------------------------------------


@pytest.mark.parametrize(
    ("tokens", "admitted"),
    [
        (("admin",), True),
        (("staff", "admin"), True),
        (("staff",), False),
        ((), False),
        (("administrator",), False),
        (("Admin",), False),
    ],
)
def test_token_location(site, factory, tokens, admitted):
    cookie = factory.new("jack", tokens, "j")
    resp = site.get("token", cookie)
    if admitted:
        assert_accepted(resp, "jack", tokens, "j")
    else:
        assert_refused(resp)
    assert ("admin" in factory.validate(cookie).tokens) is admitted
    assert_accepted(site.get("ignoreip", cookie), "jack", tokens, "j")


def test_bound_ip(site, factory):
    bound = factory.new("kate", ("admin",), "k", client_ip="127.0.0.1")
    unbound = factory.new("kate", ("admin",), "k")
    elsewhere = factory.new("kate", ("admin",), "k", client_ip="192.0.2.1")  # TEST-NET-1, a string only
    assert_accepted(site.get("boundip", bound), "kate", ("admin",), "k")
    assert_refused(site.get("boundip", unbound))
    assert_refused(site.get("boundip", elsewhere))
    # With TKTAuthIgnoreIP on, Apache checks for 0.0.0.0: only the unbound ticket passes.
    assert_accepted(site.get("ignoreip", unbound), "kate", ("admin",), "k")
    assert_refused(site.get("ignoreip", bound))

    assert factory.validate(bound, client_ip="127.0.0.1").user_id == "kate"
    assert factory.validate(elsewhere, client_ip="192.0.2.1").user_id == "kate"
    for cookie, client_ip in ((bound, None), (unbound, "127.0.0.1"), (elsewhere, "127.0.0.1")):
        with pytest.raises(TicketDigestError):
            factory.validate(cookie, client_ip=client_ip)


# -- TKTAuthSecretOld: Apache reissues; both directions of the reissued cookie -------------

REISSUED_COOKIE = re.compile(r"auth_tkt=([A-Za-z0-9+/]+={0,2}); path=/; domain=127\.0\.0\.1")


def reissued_ticket(resp):
    """The raw ticket of the cookie Apache set (always base64, always uid!tokens!data)."""
    (header,) = resp.set_cookies
    match = REISSUED_COOKIE.fullmatch(header)
    assert match, header
    return match.group(1), base64.b64decode(match.group(1), validate=True).decode("utf-8")


@pytest.mark.parametrize(("user_id", "tokens", "user_data"), FIELD_CASES, ids=FIELD_IDS)
def test_old_secret_accepted_and_reissued(site, factory, old_factory, user_id, tokens, user_data):
    hex_len = HEX_LEN[site.digest]
    issued = int(time.time()) - 100
    old_cookie = old_factory.new(user_id, tokens, user_data, timestamp=issued)

    # Our factory (TKTAuthSecret + fallback TKTAuthSecretOld) accepts it and says "reissue".
    info = factory.validate(old_cookie)
    assert info.fallback_secret_used
    assert_fields(info, user_id, tokens, user_data, issued)

    before = int(time.time())
    resp = site.get("ignoreip", old_cookie)
    after = int(time.time())
    assert_accepted(resp, user_id, tokens, user_data)
    cookie, raw = reissued_ticket(resp)

    # Apache writes "digest + %08x + uid!tokens!data", the tokens part even when empty.
    timestamp = int(raw[hex_len : hex_len + 8], 16)
    # Timestamped "now" by Apache, whose clock second may differ from ours by one at a boundary.
    assert before - 1 <= timestamp <= after + 1
    assert raw[hex_len + 8 :] == f"{user_id}!{','.join(tokens)}!{user_data}"

    # The reverse direction: our factory reads Apache's cookie (and its raw text) alike.
    for form in (cookie, raw):
        assert_fields(factory.parse(form), user_id, tokens, user_data, timestamp)
        new_info = factory.validate(form)
        assert_fields(new_info, user_id, tokens, user_data, timestamp)
        assert not new_info.fallback_secret_used
        assert new_info.digest == raw[:hex_len]
    with pytest.raises(TicketDigestError):
        old_factory.validate(cookie)
    # ... and it is what we mint for the same fields and time: the same digest, and the same
    # text except that we omit an empty tokens part when the data has no '!'.
    ours = factory.new(user_id, tokens, user_data, timestamp, raw=True)
    if tokens or "!" in user_data:
        assert ours == raw
    else:
        assert ours == raw[: hex_len + 8] + f"{user_id}!{user_data}"

    # Apache takes its own cookie back without reissuing it again.
    again = site.get("ignoreip", cookie)
    assert_accepted(again, user_id, tokens, user_data)
    assert again.set_cookies == []


def test_old_secret_bound_ticket_reissued_bound(site, factory, old_factory):
    old_cookie = old_factory.new("liam", ("admin",), "l", client_ip="127.0.0.1")
    assert factory.validate(old_cookie, client_ip="127.0.0.1").fallback_secret_used
    resp = site.get("boundip", old_cookie)
    assert_accepted(resp, "liam", ("admin",), "l")
    cookie, _ = reissued_ticket(resp)
    info = factory.validate(cookie, client_ip="127.0.0.1")
    assert_fields(info, "liam", ("admin",), "l")
    assert not info.fallback_secret_used
    with pytest.raises(TicketDigestError):
        factory.validate(cookie)  # bound to 127.0.0.1, not 0.0.0.0


def test_old_secret_refused_without_fallback(core, site, old_factory):
    only_current = core.AuthTktFactory(site.secret, site.digest)
    with pytest.raises(TicketDigestError):
        only_current.validate(old_factory.new("mia"))


def test_apache_refreshes_ageing_ticket(core, site):
    """TKTAuthTimeoutRefresh (default 0.5): less than half of /short/'s 60 s left -> reissue."""
    short = core.AuthTktFactory(site.secret, site.digest, timeout=SHORT_TIMEOUT)
    young = short.new("noah", ("admin",), "n", timestamp=int(time.time()) - 5)
    resp = site.get("short", young)
    assert_accepted(resp, "noah", ("admin",), "n")
    assert resp.set_cookies == []

    issued = int(time.time()) - 45
    ageing = short.new("noah", ("admin",), "n", timestamp=issued)
    assert short.validate(ageing, now=time.time()).timestamp == issued
    resp = site.get("short", ageing)
    assert_accepted(resp, "noah", ("admin",), "n")
    cookie, _ = reissued_ticket(resp)
    info = short.validate(cookie, now=time.time())
    assert_fields(info, "noah", ("admin",), "n")
    # Timestamped "now" by Apache: its clock second may trail ours by one.
    assert issued + 44 <= info.timestamp <= time.time() + 1


# -- any fields, both directions ----------------------------------------------------------

# Printable text (letters, digits, punctuation, symbols; any plane): what a header can echo.
_text = st.characters(categories=("L", "N", "P", "S"), exclude_characters="!")
field_user_id = st.text(_text, max_size=12)
field_tokens = st.lists(
    st.text(st.characters(categories=("L", "N", "P", "S"), exclude_characters="!,"), min_size=1, max_size=6),
    max_size=3,
).map(tuple)
field_user_data = st.text(st.one_of(_text, st.just("!")), max_size=16)


@settings(max_examples=max(10, EXAMPLES // 10))
@given(user_id=field_user_id, tokens=field_tokens, user_data=field_user_data)
def test_random_fields_cross_both_ways(site, factory, old_factory, user_id, tokens, user_data):
    """Any fields: Apache reads our ticket (signed with TKTAuthSecretOld) as we wrote it, and
    we read the cookie it reissues with the current secret as Apache wrote it."""
    resp = site.get("ignoreip", old_factory.new(user_id, tokens, user_data))
    assert_accepted(resp, user_id, tokens, user_data)
    cookie, raw = reissued_ticket(resp)
    info = factory.validate(cookie)
    assert_fields(info, user_id, tokens, user_data)
    assert not info.fallback_secret_used
    if not user_data.endswith('"'):  # Apache (and so we) would drop that quote from a raw ticket
        assert factory.validate(raw) == info


def test_raw_ticket_ending_in_a_quote_is_misread_so_new_refuses_it(site, factory):
    """Apache drops a trailing '"' from a cookie value even when it belongs to the user
    data, so the raw form of such a ticket fails there: new(raw=True) refuses to write it,
    and the base64 form carries it."""
    data = 'say "hi"'
    ticket = base64.b64decode(factory.new("u", user_data=data)).decode()
    assert_refused(site.get("ignoreip", ticket))
    with pytest.raises(ValueError, match="quote"):
        factory.new("u", user_data=data, raw=True)
    assert_accepted(site.get("ignoreip", factory.new("u", user_data=data)), "u", (), data)
