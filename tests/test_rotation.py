"""Key rotation (``fallback_secrets``) and the ``max_length`` limit, on both cores."""

import hashlib
import pickle
import time

import pytest

from ticket_auth import TicketDigestError, TicketExpired, TicketInfo, TicketParseError, _ticket_format
from ticket_auth.ticket_info import FallbackTicketInfo

OLD, OLDER, CURRENT, STRANGER = b"old-secret", b"older-secret", b"current-secret", b"someone-else"
ARGS = dict(
    user_id="alice", tokens=("admin", "a,b"), user_data="x y", valid_until=2_000_000_000, client_ip="10.1.2.3"
)


class CountingHash:
    """A hash constructor that counts how many digests the factory computes."""

    def __init__(self, name):
        self.name, self.calls = name, 0

    def __call__(self, data=b""):
        self.calls += 1
        return hashlib.new(self.name, data)


@pytest.fixture
def counting(core, monkeypatch):
    """Make the next factory built by ``core`` hash with a CountingHash (returned)."""
    counter = CountingHash("sha256")
    monkeypatch.setattr(core.module, "resolve_hashalg", lambda name: (counter, 32))
    return counter


def test_new_signs_with_the_current_secret(core):
    rotating = core.TicketFactory(CURRENT, "sha256", fallback_secrets=[OLD, OLDER])
    assert rotating.new(**ARGS) == core.TicketFactory(CURRENT, "sha256").new(**ARGS)


def test_current_secret_gives_a_plain_ticket_info(core):
    rotating = core.TicketFactory(CURRENT, fallback_secrets=(OLD,))
    info = rotating.validate(core.TicketFactory(CURRENT).new(**ARGS), "10.1.2.3", 0)
    assert type(info) is TicketInfo
    assert info.fallback_secret_used is False


@pytest.mark.parametrize("signer", [OLD, OLDER])
def test_fallback_secret_is_accepted_and_reported(core, signer):
    ticket = core.TicketFactory(signer).new(**ARGS)
    info = core.TicketFactory(CURRENT, fallback_secrets=[OLD, OLDER]).validate(ticket, "10.1.2.3", 0)
    assert info.fallback_secret_used is True
    assert isinstance(info, FallbackTicketInfo) and isinstance(info, TicketInfo)
    assert info == core.TicketFactory(signer).validate(ticket, "10.1.2.3", 0)
    assert (info.user_id, info.tokens, info.user_data) == ("alice", ("admin", "a,b"), "x y")
    assert pickle.loads(pickle.dumps(info)) == info
    assert pickle.loads(pickle.dumps(info)).fallback_secret_used is True
    # Reissuing with the current secret gives a ticket the current secret alone accepts.
    fresh = core.TicketFactory(CURRENT, fallback_secrets=[OLD]).new(
        info.user_id, info.tokens, info.user_data, info.valid_until, "10.1.2.3"
    )
    assert core.TicketFactory(CURRENT).validate(fresh, "10.1.2.3", 0).fallback_secret_used is False


def test_no_secret_matches(core):
    ticket = core.TicketFactory(STRANGER).new(**ARGS)
    with pytest.raises(TicketDigestError) as err:
        core.TicketFactory(CURRENT, fallback_secrets=[OLD, OLDER]).validate(ticket, "10.1.2.3", 0)
    assert err.value.msg == "Invalid digest"


def test_fallback_ticket_still_expires_and_is_bound(core):
    ticket = core.TicketFactory(OLD).new(**ARGS)
    rotating = core.TicketFactory(CURRENT, fallback_secrets=[OLD])
    with pytest.raises(TicketExpired):
        rotating.validate(ticket, "10.1.2.3", 2_000_000_000)
    with pytest.raises(TicketDigestError):
        rotating.validate(ticket, "10.1.2.4", 0)


def test_parse_never_reports_a_fallback(core):
    ticket = core.TicketFactory(OLD).new(**ARGS)
    assert type(core.TicketFactory(CURRENT, fallback_secrets=[OLD]).parse(ticket)) is TicketInfo


def test_cores_agree_across_rotation(both_cores):
    compiled, pure = both_cores
    for minting, checking in ((compiled, pure), (pure, compiled)):
        ticket = minting.TicketFactory(OLD, "blake2b").new(**ARGS)
        info = checking.TicketFactory(CURRENT, "blake2b", fallback_secrets=[OLD]).validate(
            ticket, "10.1.2.3", 0
        )
        assert info.fallback_secret_used is True


def test_one_digest_per_secret(core, counting):
    factory = core.TicketFactory(CURRENT, "sha256", fallback_secrets=[OLD, OLDER])
    counting.calls = 0
    factory.validate(factory.new(**ARGS), "10.1.2.3", 0)
    assert counting.calls == 2 + 2  # new, then validate stops at the current secret

    counting.calls = 0
    with pytest.raises(TicketDigestError):
        factory.validate("0" * 64 + factory.new(**ARGS)[64:], "10.1.2.3", 0)
    assert counting.calls == 2 + 3 * 2  # new, then one nested digest (two hashes) per secret


@pytest.mark.parametrize(
    "fallbacks, error",
    [
        (b"old", TypeError),
        ("old", TypeError),
        (5, TypeError),
        ([b""], ValueError),
        (["old"], TypeError),
        ([5], TypeError),
    ],
)
def test_bad_fallback_secrets(core, fallbacks, error):
    with pytest.raises(error) as err:
        core.TicketFactory(CURRENT, fallback_secrets=fallbacks)
    assert "old" not in str(err.value) or "fallback_secrets" in str(err.value)


def test_fallback_secrets_are_keyword_only(core):
    with pytest.raises(TypeError):
        core.TicketFactory(CURRENT, "sha256", [OLD])


def test_fallback_secrets_never_shown(core):
    factory = core.TicketFactory(CURRENT, fallback_secrets=[OLD])
    assert "secret" not in repr(factory).replace("fallback", "")
    assert OLD.decode() not in repr(factory)
    with pytest.raises(TypeError):
        pickle.dumps(factory)


# --- max_length -----------------------------------------------------------------------------------


def test_max_length_is_off_by_default(core):
    factory = core.TicketFactory(CURRENT)
    ticket = factory.new("u", user_data="x" * 100_000, valid_until=5)
    assert factory.validate(ticket, None, 0).user_data == "x" * 100_000


def test_max_length_boundary(core):
    ticket = core.TicketFactory(CURRENT).new(**ARGS)
    exact = core.TicketFactory(CURRENT, max_length=len(ticket))
    assert exact.validate(ticket, "10.1.2.3", 0).user_id == "alice"
    short = core.TicketFactory(CURRENT, max_length=len(ticket) - 1)
    for value in (ticket, ticket.encode(), bytearray(ticket.encode())):
        for method in (lambda t: short.validate(t, "10.1.2.3", 0), short.parse):
            with pytest.raises(TicketParseError) as err:
                method(value)
            assert err.value.msg == _ticket_format.TOO_LONG
            assert err.value.ticket is value


def test_long_ticket_is_rejected_before_any_hashing(core, counting):
    factory = core.TicketFactory(CURRENT, max_length=4096)
    counting.calls = 0
    huge = "a" * 64 + "00000000" + "x" * 2_000_000 + "!!"
    started = time.perf_counter()
    for _ in range(100):
        with pytest.raises(TicketParseError) as err:
            factory.validate(huge)
    assert err.value.msg == _ticket_format.TOO_LONG
    assert counting.calls == 0
    # Not a timing assertion on the machine: rejecting is O(1), so 100 rejections of a 2 MB
    # ticket are far from the ~seconds a scan of 200 MB would take. Generous bound.
    assert time.perf_counter() - started < 5


def test_max_length_comes_before_other_checks(core):
    factory = core.TicketFactory(CURRENT, max_length=10)
    with pytest.raises(TicketParseError) as err:
        factory.parse("é" * 11)  # not ASCII either: the length is checked first
    assert err.value.msg == _ticket_format.TOO_LONG
    with pytest.raises(TicketParseError) as err:
        factory.parse("é" * 10)
    assert err.value.msg == _ticket_format.NOT_ASCII


def test_new_refuses_a_ticket_its_validate_would_reject(core):
    factory = core.TicketFactory(CURRENT, "md5", max_length=62)
    assert len(factory.new("u" * 20, valid_until=5)) == 32 + 8 + 20 + 2
    with pytest.raises(ValueError, match="63 characters long, more than max_length=62"):
        factory.new("u" * 19, user_data="dd", valid_until=5)


@pytest.mark.parametrize(
    "value, error",
    [(0, ValueError), (-1, ValueError), ("10", TypeError), (1.5, TypeError), (True, TypeError)],
)
def test_bad_max_length(core, value, error):
    with pytest.raises(error):
        core.TicketFactory(CURRENT, max_length=value)


@pytest.mark.parametrize(
    "make",
    [lambda m: m.TicketFactory(CURRENT), lambda m: m.AuthTktFactory(CURRENT, "md5")],
    ids=["TicketFactory", "AuthTktFactory"],
)
def test_factory_is_configured_once(core, make):
    """Calling __init__ again is refused: a factory shared between threads never changes
    under them (the compiled core reads its configuration without a lock)."""
    factory = make(core.module)
    args = (b"other",) if "Ticket" in type(factory).__name__ else (b"other", "md5")
    ticket = factory.new("u")
    with pytest.raises(TypeError, match="already configured"):
        factory.__init__(*args)
    assert factory.validate(ticket).user_id == "u"
