"""Key rotation (``fallback_secrets``), on both cores. (``max_length`` is in test_max_length.py;
that fallback secrets never show in a repr is in test_factory.py.)"""

import pickle

import pytest

from ticket_auth import TicketDigestError, TicketExpired, TicketInfo
from ticket_auth.ticket_info import FallbackTicketInfo

OLD, OLDER, CURRENT, STRANGER = b"old-secret", b"older-secret", b"current-secret", b"someone-else"
ARGS = dict(
    user_id="alice", tokens=("admin", "a,b"), user_data="x y", valid_until=2_000_000_000, client_ip="10.1.2.3"
)


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
