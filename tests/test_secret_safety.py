"""Secrets stay secret: digests are compared in constant time (validate's verdict comes from
that comparison alone, after every secret has cost the same), and no message, repr or
chained exception ever shows the secret, whatever the input."""

import copy
import hmac
import pickle

import pytest

from _cases import BOUNDARY_CASES, PARSE_CASES, SECRET, T, fake_digest, flip_hex
from ticket_auth import TicketDigestError, TicketError

# --- constant-time comparison -----------------------------------------------------------------


def test_digest_differing_in_one_place_is_rejected(core):
    factory = core.TicketFactory(SECRET, "sha256")
    ticket = factory.new("u", ["t"], "d", valid_until=100)
    assert factory.validate(ticket, now=0).user_id == "u"
    for index in [0, 63, *range(1, 63)]:  # first, last, then every other position
        bad = ticket[:index] + flip_hex(ticket[index]) + ticket[index + 1 :]
        with pytest.raises(TicketDigestError):
            factory.validate(bad, now=0)
        # ... even when also expired: the digest is checked first.
        with pytest.raises(TicketDigestError):
            factory.validate(bad, now=10**10)


def test_pure_core_compares_with_compare_digest(pure_core, monkeypatch):
    module = pure_core.module
    factory = pure_core.TicketFactory(SECRET, "sha256")
    ticket = factory.new("u", valid_until=100)
    calls = []
    real = hmac.compare_digest
    verdict = {"value": None}

    def spy(a, b):
        calls.append((a, b))
        return real(a, b) if verdict["value"] is None else verdict["value"]

    if hasattr(module, "compare_digest"):
        monkeypatch.setattr(module, "compare_digest", spy)
    else:
        assert module.hmac is hmac
        monkeypatch.setattr(module.hmac, "compare_digest", spy)

    assert factory.validate(ticket, now=0).digest == ticket[:64]
    assert len(calls) == 1
    assert ticket[:64] in calls[0] and len(calls[0][0]) == len(calls[0][1])
    # The verdict comes from compare_digest alone.
    verdict["value"] = False
    with pytest.raises(TicketDigestError):
        factory.validate(ticket, now=0)
    verdict["value"] = True
    forged = flip_hex(ticket[0]) + ticket[1:]
    assert factory.validate(forged, now=0).user_id == "u"
    assert len(calls) == 3
    # parse never compares.
    factory.parse(ticket)
    assert len(calls) == 3


@pytest.mark.parametrize("position", [0, 1, 31, 32, 62, 63])
def test_a_forgery_costs_what_a_fallback_match_costs(core, counting, position):
    """Whatever position a forged digest differs at, validate tries every secret and computes
    exactly one digest (two hashes) for each, as for a ticket that only the last fallback
    secret signed: the search over the secrets never stops early on a mismatch. (That each
    comparison is constant time, in both cores, is what benchmarks/timing_dudect.py measures.)"""
    factory = core.TicketFactory(SECRET, "sha256", fallback_secrets=[b"older", b"oldest"])
    signed_by_oldest = core.TicketFactory(b"oldest", "sha256").new("u", ["t"], "d", valid_until=100)
    forged = (
        signed_by_oldest[:position] + flip_hex(signed_by_oldest[position]) + signed_by_oldest[position + 1 :]
    )
    counting.calls = 0
    assert factory.validate(signed_by_oldest, now=0).fallback_secret_used is True
    assert counting.calls == 3 * 2
    counting.calls = 0
    with pytest.raises(TicketDigestError) as err:
        factory.validate(forged, now=0)
    assert err.value.ticket is forged
    assert counting.calls == 3 * 2
    counting.calls = 0
    assert factory.parse(forged).digest == forged[:64]
    assert counting.calls == 0  # parse never hashes


# --- the secret never leaks -------------------------------------------------------------------


def _texts_of(exc):
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    for item in seen:
        yield str(item)
        yield repr(item)
        yield repr(item.args)
        yield repr(vars(item)) if hasattr(item, "__dict__") else ""


def _leaks(text):
    secret_forms = [SECRET.decode(), SECRET.hex(), SECRET.hex().upper(), repr(SECRET)]
    return [form for form in secret_forms if form in text]


def test_no_secret_in_errors_or_repr(core):
    factory = core.TicketFactory(SECRET, "sha256")
    texts = [repr(factory), str(factory), format(factory, ""), repr(type(factory))]
    ticket = factory.new("u", ["t"], "d", valid_until=100)
    errors = []

    def collect(call, *args, **kwargs):
        try:
            call(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        else:
            raise AssertionError(f"{call} did not raise")

    for case in BOUNDARY_CASES:
        collect(case[1], core.TicketFactory)
    for _, builder, _message in PARSE_CASES:
        collect(factory.validate, builder(fake_digest(64), T), None, 0)
    collect(factory.validate, flip_hex(ticket[0]) + ticket[1:], None, 0)
    collect(factory.validate, ticket, "9.9.9.9", 0)
    collect(factory.validate, ticket, None, 10**10)
    collect(factory.validate, ticket, "bad ip", 0)
    collect(factory.validate, "a" * 70, None, 0, "idna")
    collect(factory.validate, ("a" * 70).encode(), None, 0)
    collect(pickle.dumps, factory)
    assert copy.copy(factory) is factory and copy.deepcopy(factory) is factory  # nothing written out
    collect(setattr, factory, "_config", None)
    collect(core.TicketFactory, hashalg="sha256")
    collect(core.TicketFactory, SECRET.decode())
    for exc in errors:
        texts.extend(_texts_of(exc))
    leaked = {text: _leaks(text) for text in texts if _leaks(text)}
    assert not leaked
    assert len(errors) > len(BOUNDARY_CASES) + len(PARSE_CASES)


@pytest.mark.parametrize("secret", [987654321, 98765.4321, ["S3CRET-do-not-leak"], "S3CRET-do-not-leak"])
def test_bad_secret_value_not_echoed(core, secret):
    with pytest.raises(TypeError) as err:
        core.TicketFactory(secret)
    for text in _texts_of(err.value):
        assert str(secret) not in text and repr(secret) not in text


# --- nor the ticket: nothing in a log could be replayed ---------------------------------------


def _ticket_errors(core):
    """(ticket, error) for every kind of TicketError, from both formats: parse, digest, expiry."""
    ticket_factory = core.TicketFactory(SECRET, "sha256")
    authtkt = core.AuthTktFactory(SECRET, "sha256", timeout=60)
    good = ticket_factory.new("alice", ["t"], "d", valid_until=100)
    cookie = authtkt.new("alice", ("t",), "d", timestamp=100)
    raw = authtkt.new("alice", ("t",), "d", timestamp=100, raw=True)
    calls = [
        (ticket_factory.validate, good, None, 100),  # expired
        (ticket_factory.validate, flip_hex(good[0]) + good[1:], None, 0),  # digest
        (ticket_factory.validate, good, "9.9.9.9", 0),  # digest (another address)
        (ticket_factory.validate, good[:70] + "\x00" + good[71:], None, 0),  # parse
        (authtkt.validate, cookie, None, 10**6),  # expired
        (authtkt.validate, raw, None, 10**6),
        (authtkt.validate, flip_hex(raw[0]) + raw[1:], None, 100),  # digest
        (authtkt.validate, cookie + "*junk", None, 100),  # parse
        (authtkt.validate, raw + "\x00", None, 100),  # parse
    ]
    for validate, ticket, client_ip, now in calls:
        with pytest.raises(TicketError) as err:
            validate(ticket, client_ip=client_ip, now=now)
        yield ticket, err.value


def test_no_ticket_in_error_texts(core):
    kinds = set()
    for ticket, error in _ticket_errors(core):
        kinds.add(type(error).__name__)
        assert error.ticket == ticket  # kept for the program, as in 0.1.4
        for text in (str(error), repr(error)):
            assert ticket not in text
            assert ticket[8:24] not in text  # no part beyond a short prefix either
            assert f"<ticket of {len(ticket)} characters starting {ticket[:4]!r}>" in text
        assert (
            str(error)
            == f"Ticket error: {error.msg}  (<ticket of {len(ticket)} characters starting {ticket[:4]!r}>)"
        )
    assert kinds == {"TicketParseError", "TicketDigestError", "TicketExpired"}
