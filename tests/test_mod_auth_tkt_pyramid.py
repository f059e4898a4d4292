"""AuthTktFactory and Pyramid 2.x's auth_tkt (``pyramid.authentication``): where they agree.

Pyramid's ``AuthTicket(secret, userid, ip, tokens=(), user_data='', time=None,
hashalg='md5').cookie_value()`` writes a raw ticket and ``parse_ticket(secret, ticket, ip,
hashalg='md5')`` reads one (returning ``(timestamp, userid, tokens list, user_data)`` or raising
``BadTicket``). Tickets cross in both directions wherever Pyramid is itself consistent with
mod_auth_tkt. Where it is not (a user id outside ``A-Za-z0-9_.~/-``, whose quoted form Pyramid
writes but whose unquoted form it hashes; user data with '!' and no tokens, written
``uid!a!b``), the tests show that Apache refuses Pyramid's ticket and accepts ours: against the
real Apache when the tests/apache server is available, and always against the format's digest
recipe computed with hashlib (``_helpers.spec_digest``).
"""

import base64
import time

import pytest

from _helpers import spec_digest
from apache.server import DIGESTS, apache_server  # noqa: F401

mod_auth_tkt = pytest.importorskip(
    "ticket_auth.mod_auth_tkt", reason="ticket_auth.mod_auth_tkt is not there yet"
)
pyramid_authentication = pytest.importorskip("pyramid.authentication", reason="pyramid is not installed")

from ticket_auth import TicketDigestError  # noqa: E402

AuthTicket = pyramid_authentication.AuthTicket
BadTicket = pyramid_authentication.BadTicket
parse_ticket = pyramid_authentication.parse_ticket

SECRET = b"pyramid interop secret"
HEX_LEN = {"md5": 32, "sha256": 64, "sha512": 128}

# Fields both sides write and read identically: user ids in Pyramid's quote-safe set, tokens
# and data without '!' (or with '!' only after a tokens part), non-ASCII only where Pyramid
# does not quote.
CONSISTENT = [
    ("alice", (), ""),
    ("user.name_1~/-", ("admin", "staff"), "display=Alice"),
    ("bob", ("editor",), "a!b"),  # tokens present: uid!editor!a!b reads back the same
    ("carol", (), "plain data, with spaces"),
    ("dave", ("ü-token",), "données"),
    ("12345", ("a", "b", "c"), "x=1;y=2"),
]
CONSISTENT_IDS = ["plain", "safe-chars-tokens", "bang-after-tokens", "spaces", "nonascii-data", "digits"]

# User ids that Pyramid quotes in the text but hashes unquoted (Pyramid issue #1620).
QUOTED_UIDS = ["alice@example.com", "Jörg Müller", "a b", "日本"]


@pytest.fixture(params=DIGESTS)
def digest(request):
    return request.param


@pytest.fixture
def factory(core, digest):
    return core.AuthTktFactory(SECRET, digest, timeout=0)


@pytest.fixture
def apache_or_none(request):
    """The tests/apache server if it runs here, else None (it fails when required and absent)."""
    try:
        return request.getfixturevalue("apache_server")
    except pytest.skip.Exception:
        return None


# -- where Pyramid is consistent: tickets cross both ways ----------------------------------


@pytest.mark.parametrize("client_ip", [None, "192.0.2.7"], ids=["unbound", "bound"])
@pytest.mark.parametrize(("user_id", "tokens", "user_data"), CONSISTENT, ids=CONSISTENT_IDS)
def test_pyramid_reads_our_tickets(factory, digest, user_id, tokens, user_data, client_ip):
    timestamp = int(time.time())
    raw = factory.new(user_id, tokens, user_data, timestamp, client_ip, raw=True)
    ip = client_ip or "0.0.0.0"
    assert parse_ticket(SECRET, raw, ip, hashalg=digest) == (
        timestamp,
        user_id,
        list(tokens) or [""],
        user_data,
    )
    with pytest.raises(BadTicket):
        parse_ticket(SECRET, raw, "198.51.100.1", hashalg=digest)
    with pytest.raises(BadTicket):
        parse_ticket(b"another secret", raw, ip, hashalg=digest)


@pytest.mark.parametrize("client_ip", [None, "192.0.2.7"], ids=["unbound", "bound"])
@pytest.mark.parametrize(("user_id", "tokens", "user_data"), CONSISTENT, ids=CONSISTENT_IDS)
def test_we_read_pyramid_tickets(factory, digest, user_id, tokens, user_data, client_ip):
    timestamp = int(time.time()) - 10
    ticket = AuthTicket(
        SECRET,
        user_id,
        client_ip or "0.0.0.0",
        tokens=tokens,
        user_data=user_data,
        time=timestamp,
        hashalg=digest,
    ).cookie_value()
    # Identical text to ours, up to Pyramid's omitted empty tokens part.
    assert ticket == factory.new(user_id, tokens, user_data, timestamp, client_ip, raw=True)
    for cookie in (ticket, base64.b64encode(ticket.encode()).decode(), f'"{ticket}"'):
        info = factory.validate(cookie, client_ip=client_ip)
        assert (info.user_id, info.tokens, info.user_data, info.timestamp) == (
            user_id,
            tuple(tokens),
            user_data,
            timestamp,
        )
        assert info.digest == ticket[: HEX_LEN[digest]]
    with pytest.raises(TicketDigestError):
        factory.validate(ticket, client_ip="198.51.100.1")


# -- where Pyramid is wrong, and we match Apache ---------------------------------------------


@pytest.mark.parametrize("user_id", QUOTED_UIDS)
def test_pyramid_quoted_user_id_is_not_mod_auth_tkt(core, factory, digest, user_id, apache_or_none):
    timestamp = int(time.time())
    hex_len = HEX_LEN[digest]
    pyramid_ticket = AuthTicket(
        SECRET, user_id, "0.0.0.0", tokens=("admin",), user_data="d", time=timestamp, hashalg=digest
    ).cookie_value()
    # Pyramid writes the quoted user id but hashes the unquoted one ...
    written = pyramid_ticket[hex_len + 8 :].split("!", 1)[0]
    assert written != user_id and "%" in written
    assert pyramid_ticket[:hex_len] == spec_digest(
        digest, SECRET, "0.0.0.0", timestamp, user_id, "admin", "d"
    )
    assert pyramid_ticket[:hex_len] != spec_digest(
        digest, SECRET, "0.0.0.0", timestamp, written, "admin", "d"
    )
    # ... so it reads its own ticket back, but mod_auth_tkt (and we) hash what is written.
    assert parse_ticket(SECRET, pyramid_ticket, "0.0.0.0", hashalg=digest)[1] == user_id
    with pytest.raises(TicketDigestError):
        factory.validate(pyramid_ticket)

    # Ours: the user id as it is, and the spec's digest over exactly that.
    ours = factory.new(user_id, ("admin",), "d", timestamp, raw=True)
    assert ours == spec_digest(digest, SECRET, "0.0.0.0", timestamp, user_id, "admin", "d") + (
        f"{timestamp:08x}{user_id}!admin!d"
    )
    assert factory.validate(ours).user_id == user_id

    if apache_or_none is not None:
        site = apache_or_none.sites[digest]
        server_factory = core.AuthTktFactory(site.secret, digest)
        theirs = AuthTicket(
            site.secret, user_id, "0.0.0.0", tokens=("admin",), user_data="d", hashalg=digest
        ).cookie_value()
        assert site.get("ignoreip", theirs).status == 307
        resp = site.get("ignoreip", server_factory.new(user_id, ("admin",), "d"))
        assert (resp.status, resp.remote_user) == (200, user_id)


def test_pyramid_bang_in_data_without_tokens_is_misread(core, factory, digest, apache_or_none):
    timestamp = int(time.time())
    hex_len = HEX_LEN[digest]
    pyramid_ticket = AuthTicket(
        SECRET, "erin", "0.0.0.0", user_data="a!b", time=timestamp, hashalg=digest
    ).cookie_value()
    # Pyramid writes erin!a!b (hashing tokens '' and data 'a!b'), which reads as tokens 'a', data 'b'.
    assert pyramid_ticket[hex_len + 8 :] == "erin!a!b"
    assert pyramid_ticket[:hex_len] == spec_digest(digest, SECRET, "0.0.0.0", timestamp, "erin", "", "a!b")
    assert pyramid_ticket[:hex_len] != spec_digest(digest, SECRET, "0.0.0.0", timestamp, "erin", "a", "b")
    parsed = factory.parse(pyramid_ticket)
    assert (parsed.user_id, parsed.tokens, parsed.user_data) == ("erin", ("a",), "b")
    with pytest.raises(TicketDigestError):
        factory.validate(pyramid_ticket)
    # Pyramid even misreads its own ticket: tokens ['a'], user data 'b', bad digest.
    with pytest.raises(BadTicket):
        parse_ticket(SECRET, pyramid_ticket, "0.0.0.0", hashalg=digest)

    ours = factory.new("erin", (), "a!b", timestamp, raw=True)
    assert ours[hex_len + 8 :] == "erin!!a!b"
    assert ours[:hex_len] == spec_digest(digest, SECRET, "0.0.0.0", timestamp, "erin", "", "a!b")
    info = factory.validate(ours)
    assert (info.tokens, info.user_data) == ((), "a!b")
    # Pyramid reads our form correctly.
    assert parse_ticket(SECRET, ours, "0.0.0.0", hashalg=digest) == (timestamp, "erin", [""], "a!b")

    if apache_or_none is not None:
        site = apache_or_none.sites[digest]
        server_factory = core.AuthTktFactory(site.secret, digest)
        theirs = AuthTicket(site.secret, "erin", "0.0.0.0", user_data="a!b", hashalg=digest).cookie_value()
        assert site.get("ignoreip", theirs).status == 307
        resp = site.get("ignoreip", server_factory.new("erin", (), "a!b"))
        assert (resp.status, resp.remote_user, resp.remote_user_tokens, resp.remote_user_data) == (
            200,
            "erin",
            "",
            "a!b",
        )
