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

from _helpers import EXAMPLES, spec_digest
from apache.server import DEFAULT_TIMEOUT, DIGESTS, LOGIN_URL, SHORT_TIMEOUT, apache_server  # noqa: F401

mod_auth_tkt = pytest.importorskip(
    "ticket_auth.mod_auth_tkt", reason="ticket_auth.mod_auth_tkt is not there yet"
)

from ticket_auth import TicketDigestError, TicketExpired, TicketParseError  # noqa: E402

pytestmark = pytest.mark.slow  # a real Apache: the slow tier
from ticket_auth import _authtkt_format as mod_auth_tkt_format  # noqa: E402

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


# -- where we are stricter than Apache -----------------------------------------------------
#
# Apache reads some cookie texts that no writer produces (not Apache itself, not its helper
# libraries, not AuthTktFactory.new): it decodes base64 only up to the first character outside
# the alphabet, ignores a last lone base64 character, keeps a '%' that starts no %XX escape,
# stops at a NUL byte, reads the timestamp with sscanf("%8x") and passes any bytes through as
# fields. validate refuses all of these (TicketParseError): each lets one ticket travel as many
# different texts, or carry bytes that no digest covers. The two tests below are the proof, for
# every digest type: the first shows each such form accepted by Apache and refused by us, the
# second makes single edits (mutations()) of good cookies in every form and checks that whenever
# Apache and we disagree, it is one of these forms, and that we never accept what Apache
# refuses (nor read an accepted cookie differently).


def timestamp_with_a_letter():
    """Now, moved back by up to 15 s so that its hex ends in 'a' (so it has a letter)."""
    now = int(time.time())
    return now - (now % 16) + 10 - (16 if now % 16 < 10 else 0)


def signed_raw(site, user_id, tokens, user_data, timestamp):
    """A raw ticket (bytes) for any field bytes, signed here from the format's recipe."""
    digest = spec_digest(site.digest, site.secret, b"\0\0\0\0", timestamp, user_id, tokens, user_data)
    return f"{digest}{timestamp:08x}".encode() + user_id + b"!" + tokens + b"!" + user_data


def stricter_cases(site, factory):
    """{name: (cookie, what Apache reads as (user id, tokens, user data), our parse error)}."""
    hex_len = HEX_LEN[site.digest]
    timestamp = timestamp_with_a_letter()
    # User data chosen so that the raw ticket's length is a multiple of 3 (no padding) or not.
    unpadded = next(
        raw
        for data in ("d", "dd", "ddd")
        if len(raw := factory.new("olga", ("t1",), data, timestamp, raw=True)) % 3 == 0
    )
    padded = next(
        raw
        for data in ("d", "dd", "ddd")
        if len(raw := factory.new("olga", ("t1",), data, timestamp, raw=True)) % 3 == 1
    )
    assert b64(padded).endswith("==") and not b64(unpadded).endswith("=")
    fields = {raw: ("olga", "t1", raw.rsplit("!", 1)[1]) for raw in (unpadded, padded)}
    percent = factory.new("olga", ("t1",), "100% sure", timestamp, raw=True)
    upper = unpadded[:hex_len] + unpadded[hex_len : hex_len + 8].upper() + unpadded[hex_len + 8 :]
    assert upper != unpadded
    latin1 = signed_raw(site, b"olga", b"t1", b"caf\xe9", timestamp)
    latin1_uid = signed_raw(site, b"\xf6lga", b"t1", b"d", timestamp)
    msg = mod_auth_tkt_format
    return {
        "base64-then-space-and-junk": (b64(padded) + " junk", fields[padded], msg.BAD_BASE64),
        "base64-then-other-character": (b64(unpadded) + "*", fields[unpadded], msg.BAD_BASE64),
        "base64-short-padding": (b64(padded)[:-1], fields[padded], msg.BAD_BASE64),
        "base64-extra-padding": (b64(padded) + "=", fields[padded], msg.BAD_BASE64),
        "base64-padding-then-more": (b64(padded) + "AAAA", fields[padded], msg.BAD_BASE64),
        "base64-4k+1-characters": (b64(unpadded) + "Q", fields[unpadded], msg.BAD_BASE64),
        "percent-with-literal-percent": (
            percent.replace("!", "%21"),
            ("olga", "t1", "100% sure"),
            msg.BAD_ESCAPE,
        ),
        "percent-with-nul-then-junk": (
            unpadded.replace("!", "%21") + "%00junk",
            fields[unpadded],
            msg.HAS_NUL,
        ),
        "base64-with-nul-then-junk": (
            base64.b64encode(unpadded.encode() + b"\0junk").decode(),
            fields[unpadded],
            msg.HAS_NUL,
        ),
        "uppercase-timestamp": (upper, fields[unpadded], msg.BAD_TIME),
        "non-utf8-user-data": (
            base64.b64encode(latin1).decode(),
            ("olga", "t1", "caf\xe9"),
            msg.DATA_NOT_UTF8,
        ),
        "non-utf8-user-data-raw": (latin1, ("olga", "t1", "caf\xe9"), msg.DATA_NOT_UTF8),
        "non-utf8-user-id": (base64.b64encode(latin1_uid).decode(), ("\xf6lga", "t1", "d"), msg.UID_NOT_UTF8),
    }


STRICTER_FORMS = [
    "base64-then-space-and-junk",
    "base64-then-other-character",
    "base64-short-padding",
    "base64-extra-padding",
    "base64-padding-then-more",
    "base64-4k+1-characters",
    "percent-with-literal-percent",
    "percent-with-nul-then-junk",
    "base64-with-nul-then-junk",
    "uppercase-timestamp",
    "non-utf8-user-data",
    "non-utf8-user-data-raw",
    "non-utf8-user-id",
]


@pytest.mark.parametrize("form", STRICTER_FORMS)
def test_where_we_are_stricter_than_apache(site, factory, form):
    cookie, (user_id, tokens, user_data), message = stricter_cases(site, factory)[form]
    resp = site.get("ignoreip", cookie)
    assert resp.status == 200, resp.describe()
    # Apache echoes the bytes it read (http.client shows them as latin-1: the non-UTF-8 cases
    # are written here as their latin-1 text).
    assert echoed_fields(resp) == (user_id, tokens, user_data)
    for call in (factory.validate, factory.parse):
        with pytest.raises(TicketParseError) as info:
            call(cookie)
        assert info.value.msg == message


def echoed_fields(resp):
    """(user id, tokens, user data) as Apache echoed them, each byte as one latin-1 character."""
    return tuple(resp.headers.get(f"X-Remote-User{part}") for part in ("", "-Tokens", "-Data"))


_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/]*")
_BAD_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def known_stricter_form(cookie, message, hex_len):
    """Which documented difference explains that Apache accepts ``cookie`` and we refuse it
    with ``message`` (None: none does, a difference we do not know of)."""
    value = cookie[1:] if cookie[:1] == b'"' else cookie
    value = value[:-1] if value[-1:] == b'"' else value
    if b"!" in value:
        ticket = value
    elif b"%21" in value:
        if _BAD_PERCENT.search(value):
            return "percent-with-literal-percent" if message == mod_auth_tkt_format.BAD_ESCAPE else None
        ticket = re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes.fromhex(m.group(1).decode()), value)
    else:
        run = _BASE64_RUN.match(value).end()
        if run < len(value) or run % 4 == 1:
            return "base64-prefix" if message == mod_auth_tkt_format.BAD_BASE64 else None
        ticket = base64.b64decode(value + b"=" * (-len(value) % 4))
    if b"\0" in ticket:
        return "nul" if message == mod_auth_tkt_format.HAS_NUL else None
    timestamp = ticket[hex_len : hex_len + 8]
    if timestamp != timestamp.lower() and re.fullmatch(rb"[0-9a-f]{8}", timestamp.lower()):
        return "uppercase-timestamp" if message == mod_auth_tkt_format.BAD_TIME else None
    if message.endswith("not UTF-8"):
        return "non-utf8"
    return None


def mutations(cookie, hex_len):
    """Single edits of a cookie (bytes): appended, inserted, deleted and case-swapped characters.
    None ends in whitespace, which HTTP strips from a header before mod_auth_tkt reads it (as
    web frameworks do when they parse a cookie): validate is given the value already parsed."""
    n = len(cookie)
    positions = sorted({1, hex_len - 1, hex_len + 3, n // 2, n - 1})
    appended = (b" *", b"*", b"=", b"==", b"A", b"Q", b"%", b"%2", b"%00", b"%21", b"!", b"\xe9", b'"', b"x")
    for extra in appended:
        yield cookie + extra
    for extra in (b"*", b"=", b"%", b"!", b" ", b"%00"):
        for at in positions:
            yield cookie[:at] + extra + cookie[at:]
    for at in positions:
        yield cookie[:at] + cookie[at + 1 :]
    for at in range(n):
        swapped = cookie[at : at + 1].swapcase()
        if swapped != cookie[at : at + 1] and (at < 4 or hex_len <= at < hex_len + 8 or at >= n - 4):
            yield cookie[:at] + swapped + cookie[at + 1 :]


@pytest.fixture(scope="module")
def apache_verdicts():
    """Apache's answer per (digest, cookie), shared by both cores' runs."""
    return {}


def test_every_disagreement_with_apache_is_a_documented_one(site, factory, apache_verdicts):
    hex_len = HEX_LEN[site.digest]
    timestamp = timestamp_with_a_letter()
    raw = factory.new("pavel", ("t1", "t2"), "some data", timestamp, raw=True).encode()
    percent_raw = factory.new("pavel", ("t1",), "100%", timestamp, raw=True).encode()
    encoded = base64.b64encode(raw)
    starts = [raw, encoded, encoded.rstrip(b"="), b'"' + encoded + b'"', raw.replace(b"!", b"%21")]
    starts.append(percent_raw.replace(b"%", b"%25").replace(b"!", b"%21"))
    seen, disagreements = set(), {}
    for start in starts:
        for cookie in mutations(start, hex_len):
            if cookie in seen:
                continue
            seen.add(cookie)
            key = (site.digest, cookie)
            if key not in apache_verdicts:
                resp = site.get("ignoreip", cookie)
                apache_verdicts[key] = echoed_fields(resp) if resp.status == 200 else None
            apache = apache_verdicts[key]
            try:
                info = factory.validate(cookie)
            except TicketParseError as exc:
                ours = exc.msg
            except (TicketDigestError, TicketExpired) as exc:
                ours = type(exc).__name__
            else:
                # Never looser than Apache, and what we accept reads as Apache reads it.
                assert apache is not None, cookie
                latin1 = tuple(
                    t.encode().decode("latin-1")
                    for t in (info.user_id, ",".join(info.tokens), info.user_data)
                )
                assert latin1 == apache, cookie
                continue
            if apache is not None:
                form = known_stricter_form(cookie, ours, hex_len)
                assert form is not None, (cookie, ours, apache)
                disagreements[form] = disagreements.get(form, 0) + 1
    assert len(seen) > 250
    # The mutations reach the documented differences (the cases above show each one alone).
    assert {"base64-prefix", "nul", "uppercase-timestamp"} <= set(disagreements), disagreements
