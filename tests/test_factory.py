"""A factory's life: configured once by ``__init__`` (a second call is refused and a failed one
changes nothing), refusing to work when ``__init__`` never ran, shown by ``repr`` without its
secrets, and never pickled (a copy is the factory itself: see test_dropin.py). Both factories,
both cores (they share this code: the ``_Factory`` base of each core).

Related: test_arguments.py (the errors each bad argument gets), test_threads.py (a factory
shared between threads).
"""

import pickle

import pytest

from ticket_auth import TicketDigestError, TicketExpired

SECRET = b"S3CRET-do-not-leak"
CURRENT, OLD = b"current-secret", b"old-secret"
KINDS = ["TicketFactory", "AuthTktFactory"]


def make(core, kind, cls=None, secret=SECRET, **kwargs):
    """A factory of ``kind`` (or of ``cls``, a subclass of it) from ``core``."""
    cls = cls or getattr(core, kind)
    return cls(secret, **kwargs) if kind == "TicketFactory" else cls(secret, "sha256", **kwargs)


# --- configured once ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_factory_is_configured_once(core, kind):
    """Calling __init__ again is refused: a factory shared between threads never changes
    under them (the compiled core reads its configuration without a lock)."""
    factory = make(core, kind, secret=CURRENT)
    args = (b"other",) if kind == "TicketFactory" else (b"other", "md5")
    ticket = factory.new("u")
    with pytest.raises(TypeError, match="already configured"):
        factory.__init__(*args)
    assert factory.validate(ticket).user_id == "u"


def _uninitialized(cls):
    class Forgetful(cls):
        def __init__(self, secret):  # forgets super().__init__
            self.secret = secret

    return [cls.__new__(cls), Forgetful(SECRET)]


@pytest.mark.parametrize(
    ("kind", "call"),
    [
        ("TicketFactory", lambda f: f.new("u", valid_until=5)),
        ("TicketFactory", lambda f: f.validate("a" * 136 + "u!!", None, 0)),
        ("TicketFactory", lambda f: f.parse("a" * 136 + "u!!")),
        ("TicketFactory", lambda f: f.parse("a" * 64 + "0000000au!t!d")),
        # The compiled core's check is shared by both factories: AuthTktFactory too.
        ("AuthTktFactory", lambda f: f.new("u", timestamp=5)),
        ("AuthTktFactory", lambda f: f.validate("a" * 32 + "00000005u!t!d", None, 10)),
        ("AuthTktFactory", lambda f: f.parse("a" * 32 + "00000005u!t!d")),
    ],
    ids=["new", "validate", "parse", "parse-short", "authtkt-new", "authtkt-validate", "authtkt-parse"],
)
def test_uninitialized_factory_raises(core, kind, call):
    """A factory whose __init__ never ran (TicketFactory.__new__, or a subclass that forgets
    super().__init__) has no secret and no hash: every method must raise, never return a
    made-up result or read the missing secret as bytes."""
    for factory in _uninitialized(getattr(core, kind)):
        with pytest.raises(Exception) as err:
            result = call(factory)
            pytest.fail(f"returned {result!r}")
        assert not isinstance(err.value, (TicketDigestError, TicketExpired))


@pytest.mark.parametrize(
    "bad",
    [(b"two", "nope"), (b"two", "shake_128"), (b"two", 5), ("two", "sha1"), (b"", "sha1")],
    ids=["unknown-hash", "shake", "hash-type", "str-secret", "empty-secret"],
)
def test_failed_reinit_leaves_factory_unchanged(core, bad):
    """__init__ called again with bad arguments raises and changes nothing (the compiled core
    validates everything before assigning; the pure core must not be half-updated)."""
    factory = core.TicketFactory(b"one", "sha256")
    ticket = factory.new("u", valid_until=5)
    with pytest.raises((TypeError, ValueError)):
        factory.__init__(*bad)
    assert factory.new("u", valid_until=5) == ticket
    assert factory.validate(ticket, None, 0).user_id == "u"


# --- repr and pickling ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_secrets_never_shown(core, kind):
    """Neither the secret nor a fallback secret appears in repr, and pickling is refused."""
    factory = make(core, kind, secret=CURRENT, fallback_secrets=[OLD])
    assert "secret" not in repr(factory).replace("fallback", "")
    assert CURRENT.decode() not in repr(factory) and OLD.decode() not in repr(factory)
    with pytest.raises(TypeError):
        pickle.dumps(factory)


PICKLE_CALLS = [
    *(
        (f"pickle-{proto}", lambda f, p=proto: pickle.dumps(f, protocol=p))
        for proto in range(pickle.HIGHEST_PROTOCOL + 1)
    ),
    ("reduce_ex", lambda f: f.__reduce_ex__(2)),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("call", [c[1] for c in PICKLE_CALLS], ids=[c[0] for c in PICKLE_CALLS])
def test_factory_cannot_be_pickled(core, kind, call):
    factory = make(core, kind)
    with pytest.raises(TypeError) as err:
        call(factory)
    assert "pickle" in str(err.value)
    assert str(err.value).startswith(f"{kind} holds a secret")

    class Sub(getattr(core, kind)):
        pass

    with pytest.raises(TypeError) as err:
        call(make(core, kind, Sub))
    assert str(err.value).startswith(f"{kind} holds a secret")


@pytest.mark.parametrize("kind", KINDS)
def test_pickle_error_same_in_both_cores(both_cores, kind):
    messages = set()
    for c in both_cores:
        with pytest.raises(TypeError) as err:
            pickle.dumps(make(c, kind))
        messages.add(str(err.value))
    assert len(messages) == 1


def test_repr_same_shape_in_both_cores(both_cores):
    reprs = [repr(c.TicketFactory(SECRET, "SHA256")) for c in both_cores]
    assert [r.split("TicketFactory", 1)[1] for r in reprs] == ["(hashalg='SHA256')"] * 2
    reprs = [repr(c.AuthTktFactory(SECRET, "SHA256", timeout=60)) for c in both_cores]
    assert [r.split("AuthTktFactory", 1)[1] for r in reprs] == ["(digest='SHA256', timeout=60)"] * 2
