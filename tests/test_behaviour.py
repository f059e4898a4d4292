"""Behaviour left to 0.1.4 ("where the contract is silent, behave exactly as 0.1.4 does"):
defaults, order of checks, edge values, iterables, subclassing. (Re-initialising and
uninitialised factories are in test_factory.py; threads in test_threads.py.)"""

import time

import pytest

from _helpers import outcome
from ticket_auth import TicketDigestError, TicketExpired, TicketParseError

SECRET = b"behaviour-secret"


# --- time defaults ------------------------------------------------------------------------


def test_default_valid_until_is_now_plus_120(core, monkeypatch):
    factory = core.TicketFactory(SECRET, "sha1")
    monkeypatch.setattr(time, "time", lambda: 1_000_000.7)
    ticket = factory.new("u")
    assert ticket[40:48] == f"{1_000_120:08x}"
    assert ticket == factory.new("u", valid_until=1_000_120)
    monkeypatch.setattr(time, "time", lambda: 5.999)
    assert factory.new("u")[40:48] == f"{125:08x}"


def test_default_valid_until_matches_0_1_4(core, ta014, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1_234_567_890.25)
    ours = core.TicketFactory(SECRET).new("u", ["t"], "d", client_ip="1.2.3.4")
    assert ours == ta014.TicketFactory(SECRET).new("u", ["t"], "d", client_ip="1.2.3.4")


def test_validate_now_defaults_to_time_time(core, monkeypatch):
    factory = core.TicketFactory(SECRET)
    ticket = factory.new("u", valid_until=2000)
    for now, expired in (
        (0.0, False),
        (1999.5, False),
        (1999.9999, False),
        (2000.0, True),
        (2000.0001, True),
        (1e12, True),
    ):
        monkeypatch.setattr(time, "time", lambda now=now: now)
        if expired:
            with pytest.raises(TicketExpired):
                factory.validate(ticket)
            with pytest.raises(TicketExpired):
                factory.validate(ticket, None, None)
        else:
            assert factory.validate(ticket).valid_until == 2000


def test_default_lifetime_round_trip(core):
    factory = core.TicketFactory(SECRET)
    before = int(time.time())
    ticket = factory.new("u")
    info = factory.validate(ticket)
    assert before + 120 <= info.valid_until <= int(time.time()) + 120
    with pytest.raises(TicketExpired):
        factory.validate(ticket, now=time.time() + 121)


# --- order and edges of validation --------------------------------------------------------------


def test_digest_is_checked_before_expiry(core):
    factory = core.TicketFactory(SECRET)
    ticket = factory.new("u", valid_until=100, client_ip="10.0.0.1")
    tampered = factory.new("v", valid_until=100, client_ip="10.0.0.1")[:128] + ticket[128:]
    for now in (99, 100, 10**10):
        with pytest.raises(TicketDigestError):
            factory.validate(tampered, "10.0.0.1", now)
        with pytest.raises(TicketDigestError):
            factory.validate(ticket, "10.0.0.2", now)
    with pytest.raises(TicketExpired):
        factory.validate(ticket, "10.0.0.1", 100)


def test_digest_and_expiry_order_matches_0_1_4(core, ta014):
    ours, theirs = core.TicketFactory(SECRET), ta014.TicketFactory(SECRET)
    ticket = theirs.new("u", valid_until=100, client_ip="10.0.0.1")
    for ip in ("10.0.0.1", "10.0.0.2", None):
        for now in (0, 99, 99.999, 100, 100.5, 10**10):
            assert outcome(ours.validate, ticket, ip, now) == outcome(theirs.validate, ticket, ip, now)


@pytest.mark.parametrize("valid_until", [0, 1, 100, 2**31, 2**32 - 1])
def test_valid_until_equal_to_now_is_expired(core, valid_until):
    factory = core.TicketFactory(SECRET)
    ticket = factory.new("u", valid_until=valid_until)
    with pytest.raises(TicketExpired):
        factory.validate(ticket, None, valid_until)
    with pytest.raises(TicketExpired):
        factory.validate(ticket, None, float(valid_until))
    assert factory.validate(ticket, None, valid_until - 0.25).valid_until == valid_until
    assert factory.validate(ticket, None, valid_until - 1).valid_until == valid_until


def test_now_of_other_numeric_types(core, ta014):
    from decimal import Decimal
    from fractions import Fraction

    ours, theirs = core.TicketFactory(SECRET), ta014.TicketFactory(SECRET)
    ticket = ours.new("u", valid_until=10)
    for now in (Decimal("9.5"), Fraction(19, 2), True, Decimal(10), 10.0, "9"):
        assert outcome(ours.validate, ticket, None, now) == outcome(theirs.validate, ticket, None, now), now


def test_float_valid_until_truncates(core):
    factory = core.TicketFactory(SECRET)
    assert factory.new("u", valid_until=99.99) == factory.new("u", valid_until=99)
    assert factory.new("u", valid_until="99") == factory.new("u", valid_until=99)
    assert factory.new("u", valid_until=-0.9) == factory.new("u", valid_until=0)
    assert factory.new("u", valid_until=True) == factory.new("u", valid_until=1)


# --- tokens and user data ------------------------------------------------------------------------


def test_single_empty_token_round_trips_as_no_tokens(core, ta014):
    factory = core.TicketFactory(SECRET)
    ticket = factory.new("u", tokens=("",), valid_until=10)
    assert ticket == factory.new("u", valid_until=10)
    assert factory.validate(ticket, now=0).tokens == ()
    two = factory.new("u", tokens=("", ""), valid_until=10)
    assert factory.validate(two, now=0).tokens == ("", "")
    reference = ta014.TicketFactory(SECRET)
    assert reference.new("u", tokens=("",), valid_until=10) == ticket
    assert reference.validate(ticket, now=0).tokens == ()


class OldStyleSequence:
    """Iterable only through __getitem__ (the legacy iteration protocol)."""

    def __init__(self, items):
        self.items = items

    def __getitem__(self, index):
        return self.items[index]

    def __len__(self):
        return len(self.items)


@pytest.mark.parametrize(
    "make",
    [
        lambda: (t for t in ["a", b"b", "c,d"]),
        lambda: iter(["a", b"b", "c,d"]),
        lambda: map(lambda t: t, ["a", b"b", "c,d"]),  # noqa: C417 - a map object is the input tested
        lambda: dict.fromkeys(["a", b"b", "c,d"]),
        lambda: OldStyleSequence(["a", b"b", "c,d"]),
        lambda: ("a", b"b", "c,d"),
    ],
    ids=["generator", "iterator", "map", "dict", "getitem-sequence", "tuple"],
)
def test_iterable_tokens(core, ta014, make):
    factory = core.TicketFactory(SECRET)
    expected = factory.new("u", ["a", b"b", "c,d"], valid_until=10)
    assert factory.new("u", make(), valid_until=10) == expected
    assert ta014.TicketFactory(SECRET).new("u", make(), valid_until=10) == expected
    assert factory.validate(expected, now=0).tokens == ("a", "b", "c,d")


def test_empty_generator_tokens(core):
    factory = core.TicketFactory(SECRET)
    assert factory.new("u", (t for t in []), valid_until=10) == factory.new("u", valid_until=10)


@pytest.mark.parametrize(
    "falsy",
    [None, 0, 0.0, False, "", b"", bytearray(), [], ()],
    ids=["None", "0", "0.0", "False", "str", "bytes", "bytearray", "list", "tuple"],
)
def test_falsy_user_data_gives_empty_data(core, ta014, falsy):
    factory = core.TicketFactory(SECRET)
    ticket = factory.new("u", ["t"], falsy, valid_until=10)
    assert ticket.endswith("u!t!")
    assert ticket == factory.new("u", ["t"], None, valid_until=10)
    assert factory.validate(ticket, now=0).user_data == ""
    assert ta014.TicketFactory(SECRET).new("u", ["t"], falsy, valid_until=10) == ticket


@pytest.mark.parametrize("falsy", [None, [], (), "", b""], ids=["None", "list", "tuple", "str", "bytes"])
def test_falsy_tokens_give_empty_tokens(core, falsy):
    factory = core.TicketFactory(SECRET)
    ticket = factory.new("u", falsy, "d", valid_until=10)
    assert ticket.endswith("u!!d")
    assert factory.validate(ticket, now=0).tokens == ()


def test_unquoted_fields_are_str(core):
    factory = core.TicketFactory(SECRET)
    ticket = factory.new(b"bytes-user", [b"tok", "t\u00e9"], b"data\x01", valid_until=10)
    info = factory.validate(ticket, now=0)
    assert info == (ticket[:128], "bytes-user", ("tok", "té"), "data\x01", 10)
    assert all(type(field) is str for field in (info.digest, info.user_id, info.user_data, *info.tokens))
    assert type(info.valid_until) is int


# --- errors docs/compatibility.md does not list: same type as 0.1.4 ----------------------------------------------

ERROR_CASES = [
    ("user-id-none", lambda f, t: f.new(None)),
    ("user-id-int", lambda f, t: f.new(5)),
    ("token-int", lambda f, t: f.new("u", [5])),
    ("tokens-int", lambda f, t: f.new("u", 5)),
    ("user-data-int", lambda f, t: f.new("u", None, 7)),
    ("surrogate-user-id", lambda f, t: f.new("\ud800")),
    ("surrogate-token", lambda f, t: f.new("u", ["\udfff"])),
    ("bad-ip-new", lambda f, t: f.new("u", client_ip="1.2.3.256")),
    ("bad-ip-validate", lambda f, t: f.validate(t, "::g", 0)),
    ("unknown-encoding", lambda f, t: f.new("u", encoding="nope-codec")),
    ("valid-until-text", lambda f, t: f.new("u", valid_until="soon")),
    ("valid-until-nan", lambda f, t: f.new("u", valid_until=float("nan"))),
    ("now-str", lambda f, t: f.validate(t, None, "later")),
    ("now-list", lambda f, t: f.validate(t, None, [1])),
    ("wrong-encoding", lambda f, t: f.validate(t, None, 0, "utf-16")),
]


@pytest.mark.parametrize("case", [c[1] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_error_types_match_0_1_4(core, ta014, case):
    ours, theirs = core.TicketFactory(SECRET), ta014.TicketFactory(SECRET)
    ticket = theirs.new("u", valid_until=100)

    def kind(factory):
        try:
            case(factory, ticket)
        except Exception as exc:  # noqa: BLE001
            return type(exc).__name__
        return None

    assert kind(ours) == kind(theirs)
    assert kind(ours) is not None


def test_infinite_valid_until_is_a_range_error_unlike_0_1_4(core, ta014):
    """Deliberate difference (docs/compatibility.md, deliberate difference 4: valid_until outside 0..2**32-1 is a ValueError): 0.1.4
    lets int() raise OverflowError for an infinite float."""
    with pytest.raises(OverflowError):
        ta014.TicketFactory(SECRET).new("u", valid_until=float("inf"))
    with pytest.raises(ValueError, match="between 0 and 4294967295"):
        core.TicketFactory(SECRET).new("u", valid_until=float("inf"))


def test_string_valid_until_forms_match_0_1_4(core, ta014):
    for value in ("12", " 12 ", "+12", "1_2", "٣"):  # int() accepts all of these
        assert core.TicketFactory(SECRET).new("u", valid_until=value) == ta014.TicketFactory(SECRET).new(
            "u", valid_until=value
        )


# --- subclassing ------------------------------------------------------------------------------------


def test_subclassing(core):
    class AppFactory(core.TicketFactory):
        def __init__(self, secret, app, hashalg="sha256"):
            super().__init__(secret, hashalg)
            self.app = app

        def new(self, user_id, *args, **kwargs):
            return super().new(f"{self.app}:{user_id}", *args, **kwargs)

        def user(self, ticket, now):
            return self.validate(ticket, now=now).user_id.split(":", 1)[1]

    factory = AppFactory(SECRET, "shop")
    assert isinstance(factory, core.TicketFactory)
    assert factory.app == "shop"
    factory.extra = 1  # subclass instances get a __dict__
    ticket = factory.new("ann", ["t"], valid_until=50)
    assert ticket == core.TicketFactory(SECRET, "sha256").new("shop:ann", ["t"], valid_until=50)
    assert factory.user(ticket, 0) == "ann"
    assert factory.parse(ticket).tokens == ("t",)
    with pytest.raises(TicketExpired):
        factory.validate(ticket, now=50)
    assert "AppFactory(hashalg='sha256')" in repr(factory)


def test_validate_does_not_dispatch_to_overridden_parse(core, ta014):
    """Deliberate difference from 0.1.4 (documented in the README): 0.1.4's validate calls
    self.parse and self.new, so a subclass overriding parse could loosen validate. Here
    validate always applies the strict parser and the digest check itself."""

    def with_lenient_parse(base):
        class Lenient(base):
            def parse(self, ticket):
                return super().parse(ticket.strip())

        return Lenient

    ticket = " " + core.TicketFactory(SECRET).new("u", valid_until=10) + " "
    assert with_lenient_parse(ta014.TicketFactory)(SECRET).validate(ticket, now=0).user_id == "u"
    lenient = with_lenient_parse(core.TicketFactory)(SECRET)
    assert lenient.parse(ticket).user_id == "u"
    with pytest.raises(TicketParseError):
        lenient.validate(ticket, now=0)
