"""Drop-in fidelity at the edges a migrating application meets first: names importable from
0.1.4's modules, what a non-text ticket raises, pickles across versions, copies and weak
references of factories, signatures, the order of ``new``'s argument checks, and the cores
agreeing on the odd argument. 0.1.4 (the ``ta014`` fixture) is the oracle where it has an
answer."""

import copy
import inspect
import itertools
import pickle
import re
import sys
import weakref

import pytest

import ticket_auth
from ticket_auth import ticket_factory
from ticket_auth.exception import TicketError, TicketParseError

SECRET = b"drop-in secret"


def ticket_names_014(ta014):
    """The classes 0.1.4's ticket_factory module offers (its factory, info and, re-exported,
    the exceptions), as 0.1.4 itself has them."""
    return sorted(
        name
        for name, value in vars(ta014.ticket_factory).items()
        if not name.startswith("_") and isinstance(value, type)
    )


# --- names ------------------------------------------------------------------------------------------


def test_ticket_factory_module_exports_what_0_1_4_code_imports_from_it(ta014):
    # Every class 0.1.4's ticket_factory module offers (it re-exports the exceptions) imports
    # from ours, and is the same object as the top-level name.
    names = ticket_names_014(ta014)
    assert "TicketFactory" in names and "TicketParseError" in names, names
    for name in names:
        assert hasattr(ta014.ticket_factory, name)
        assert getattr(ticket_factory, name) is getattr(ticket_auth, name), name


# The standard-library helpers 0.1.4's ticket_factory module happened to import: not its API,
# not offered here (the module docstring says so).
STDLIB_HELPERS_014 = {"hashlib", "ipaddress", "ip_address", "namedtuple", "pack", "ulp"}


def test_every_public_name_of_0_1_4_modules_is_offered_or_documented(ta014):
    import importlib

    for name in ("", ".exception", ".ticket_factory"):
        theirs = importlib.import_module("ticket_auth_014" + name)
        ours = importlib.import_module("ticket_auth" + name)
        public = {n for n in vars(theirs) if not n.startswith("_")} - {"exception", "ticket_factory"}
        for attribute in sorted(public):
            if name == ".ticket_factory" and attribute in STDLIB_HELPERS_014:
                assert not hasattr(ours, attribute), attribute
                assert attribute in ticket_factory.__doc__, attribute
                continue
            assert hasattr(ours, attribute), (name, attribute)
            if attribute != "time":
                assert getattr(ours, attribute) is getattr(ticket_auth, attribute), (name, attribute)
    # 0.1.4 has no __all__ there: a star import gave the exceptions too.
    namespace = {}
    exec("from ticket_auth.ticket_factory import *", namespace)  # noqa: S102 - checking __all__
    assert set(ticket_names_014(ta014)) <= set(namespace)


def test_ticket_factory_time_can_be_patched_with_mock(core):
    # The form 0.1.4-era suites use, for both factories.
    from unittest import mock

    ticket_factory_ = core.TicketFactory(SECRET)
    apache = core.AuthTktFactory(SECRET, "md5", timeout=60)
    with mock.patch("ticket_auth.ticket_factory.time.time", return_value=1_000_000.5):
        ticket = ticket_factory_.new("alice")
        cookie = apache.new("alice")
        assert apache.validate(cookie).timestamp == 1_000_000
    assert ticket_factory_.parse(ticket).valid_until == 1_000_000 + 120
    with mock.patch("ticket_auth.ticket_factory.time.time", return_value=1_000_061.0):
        with pytest.raises(ticket_auth.TicketExpired):
            apache.validate(cookie)


def test_ticket_factory_time_can_be_patched_as_with_0_1_4(core, monkeypatch):
    # Suites written for 0.1.4 patch "ticket_auth.ticket_factory.time.time": the name resolves
    # to the time module, and both cores read time.time on each call.
    assert ticket_factory.time is __import__("time")
    monkeypatch.setattr("ticket_auth.ticket_factory.time.time", lambda: 1_000_000.0)
    factory = core.TicketFactory(SECRET)
    ticket = factory.new("alice")
    assert factory.parse(ticket).valid_until == 1_000_000 + 120
    monkeypatch.setattr("ticket_auth.ticket_factory.time.time", lambda: 2_000_000.0)
    with pytest.raises(ticket_auth.TicketExpired):
        factory.validate(ticket)


# --- what a ticket of another type raises -------------------------------------------------------------


class _Sized:
    def __len__(self):
        return 3


class _BigSized:
    def __len__(self):
        return 500


class _NoLen:
    pass


@pytest.mark.parametrize("ticket", [[1], ["a"], (1,), (), {1: 2}, {}, [], {"a"}.__class__(["a"])], ids=repr)
def test_container_tickets_are_ticket_errors_as_in_0_1_4(core, ta014, ticket):
    with pytest.raises(ta014.TicketError):
        ta014.TicketFactory(SECRET).validate(ticket)
    factory = core.TicketFactory(SECRET)
    for call in (factory.validate, factory.parse):
        with pytest.raises(TicketParseError) as info:
            call(ticket)
        assert info.value.ticket is ticket


@pytest.mark.parametrize("ticket", [None, 5, 1.5, object(), _NoLen(), iter("abc")], ids=repr)
def test_what_0_1_4_rejects_with_type_error_stays_a_type_error(core, ta014, ticket):
    with pytest.raises(TypeError):
        ta014.TicketFactory(SECRET).validate(ticket)
    with pytest.raises(TypeError) as info:
        core.TicketFactory(SECRET).validate(ticket)
    assert not isinstance(info.value, TicketError)


@pytest.mark.parametrize(
    "ticket",
    [set(), frozenset("ab"), range(5), range(500), list(range(500)), tuple("a" * 500), _Sized()],
    ids=repr,
)
def test_other_sized_tickets_are_ticket_errors_as_in_0_1_4(core, ta014, ticket):
    with pytest.raises(ta014.TicketError):
        ta014.TicketFactory(SECRET).validate(ticket)
    for factory in (core.TicketFactory(SECRET), core.TicketFactory(SECRET, max_length=10)):
        for call in (factory.validate, factory.parse):
            with pytest.raises(TicketParseError) as info:
                call(ticket)
            assert info.value.ticket is ticket
            assert info.value.msg == f"ticket must be str or bytes-like, not {type(ticket).__name__}"


# What 0.1.4 raises for each: it measures a ticket, then slices it (ticket[:128] for its default
# sha512), which fails by accident of the ticket's size. A set or other unsliceable object
# raises TypeError. A dict looks the slice up as a key: before Python 3.12 a slice is
# unhashable (TypeError); from 3.12 on it is hashable, and the missing key is a KeyError.
_DICT_STUMBLE_014 = KeyError if sys.version_info >= (3, 12) else TypeError


@pytest.mark.parametrize(
    ("ticket", "error_014"),
    [
        pytest.param(set(range(500)), TypeError, id="set"),
        pytest.param(dict.fromkeys(range(500)), _DICT_STUMBLE_014, id="dict"),
        pytest.param(_BigSized(), TypeError, id="sized"),
    ],
)
def test_sized_tickets_are_parse_errors_even_where_0_1_4_stumbles(core, ta014, ticket, error_014):
    # Here anything with a len() that is not text is a TicketParseError, whatever its size.
    with pytest.raises((TypeError, KeyError)) as stumble:
        ta014.TicketFactory(SECRET).validate(ticket)
    assert type(stumble.value) is error_014, repr(stumble.value)
    if error_014 is KeyError:
        assert stumble.value.args == (slice(None, 128, None),)
    with pytest.raises(TicketParseError):
        core.TicketFactory(SECRET).validate(ticket)


@pytest.mark.parametrize(
    ("cookie", "error"),
    [
        ([1], TicketParseError),
        ((), TicketParseError),
        ({}, TicketParseError),
        ({"a"}, TicketParseError),
        (range(3), TicketParseError),
        (_Sized(), TicketParseError),
        (None, TypeError),
        (5, TypeError),
        (1.5, TypeError),
        (_NoLen(), TypeError),
    ],
    ids=repr,
)
def test_authtkt_factory_follows_the_same_rule(core, cookie, error):
    # AuthTktFactory has no 0.1.4 twin: it refuses a cookie of another type as TicketFactory does.
    factory = core.AuthTktFactory(SECRET, "md5")
    for call in (factory.validate, factory.parse):
        with pytest.raises(error) as info:
            call(cookie)
        assert isinstance(info.value, TicketError) is (error is TicketParseError)
        message = f"cookie must be str or bytes-like, not {type(cookie).__name__}"
        assert (info.value.msg if error is TicketParseError else str(info.value)) == message


# --- pickles cross versions ---------------------------------------------------------------------------


def test_ticket_info_pickles_load_in_0_1_4_and_back(core, ta014):
    factory = core.TicketFactory(SECRET)
    info = factory.validate(factory.new("alice", ("a", "b"), "data", valid_until=2**32 - 1))
    data = pickle.dumps(info)
    # The pickle names a module 0.1.4 has: ticket_auth.ticket_factory.
    assert b"ticket_auth.ticket_factory" in data
    assert b"ticket_auth.ticket_info" not in data
    old = _loads_as_014(data, ta014)
    assert type(old) is ta014.TicketInfo
    assert tuple(old) == tuple(info)
    # And a 0.1.4 pickle loads here as our TicketInfo.
    old_info = ta014.TicketFactory(SECRET).parse(ta014.TicketFactory(SECRET).new("bob", valid_until=7))
    back = pickle.loads(_dumps_as_ticket_auth(old_info, ta014))
    assert type(back) is ticket_auth.TicketInfo
    assert back == tuple(old_info)


def _loads_as_014(data, ta014):
    """Unpickle with "ticket_auth" resolved to 0.1.4, as a process running 0.1.4 would."""

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if module.split(".")[0] == "ticket_auth":
                module = "ticket_auth_014" + module[len("ticket_auth") :]
            return super().find_class(module, name)

    import io

    return Unpickler(io.BytesIO(data)).load()


def _dumps_as_ticket_auth(obj, ta014):
    """Pickle a 0.1.4 object as a process running 0.1.4 would write it (module ticket_auth.*).
    Protocol 2 names classes with a GLOBAL opcode: "c<module>\\n<name>\\n"."""
    data = pickle.dumps(obj, protocol=2)
    assert b"cticket_auth_014.ticket_factory\nTicketInfo\n" in data
    return data.replace(b"cticket_auth_014.", b"cticket_auth.")


def test_fallback_ticket_info_pickles_as_itself(core):
    factory = core.TicketFactory(SECRET, fallback_secrets=[b"old"])
    old = core.TicketFactory(b"old")
    info = factory.validate(old.new("alice", valid_until=2**32 - 1))
    assert info.fallback_secret_used
    back = pickle.loads(pickle.dumps(info))
    assert back == info and back.fallback_secret_used and type(back) is type(info)


# --- factories: copies, weak references, pickling ----------------------------------------------------


def _factories(core):
    return [
        core.TicketFactory(SECRET),
        core.TicketFactory(SECRET, "sha256", fallback_secrets=[b"old"], max_length=300),
        core.AuthTktFactory(SECRET, "sha256"),
    ]


def test_factories_copy_to_themselves(core, ta014):
    copy.copy(ta014.TicketFactory(SECRET))  # 0.1.4's can be copied: so can ours
    for factory in _factories(core):
        assert copy.copy(factory) is factory
        assert copy.deepcopy(factory) is factory
        assert copy.deepcopy([factory, factory]) == [factory, factory]


def test_factories_are_weakly_referenceable(core, ta014):
    weakref.ref(ta014.TicketFactory(SECRET))
    for factory in _factories(core):
        ref = weakref.ref(factory)
        assert ref() is factory
        cache = weakref.WeakValueDictionary({"f": factory})
        assert cache["f"] is factory


def test_factories_still_refuse_pickling(core):
    for factory in _factories(core):
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            with pytest.raises(TypeError, match="cannot be pickled") as info:
                pickle.dumps(factory, protocol)
            assert SECRET.decode() not in str(info.value)


# --- signatures ---------------------------------------------------------------------------------------


def test_factory_signatures(core):
    ticket = inspect.signature(core.TicketFactory)
    assert list(ticket.parameters) == ["secret", "hashalg", "fallback_secrets", "max_length"]
    assert ticket.parameters["hashalg"].default == "sha512"
    apache = inspect.signature(core.AuthTktFactory)
    assert list(apache.parameters) == ["secret", "digest", "fallback_secrets", "timeout", "max_length"]
    assert apache.parameters["timeout"].default == 7200
    for signature in (ticket, apache):
        for name in ("fallback_secrets", "max_length"):
            assert signature.parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert signature.parameters["fallback_secrets"].default == ()
        assert signature.parameters["max_length"].default is None


def test_method_signatures_are_readable(core):
    for cls in (core.TicketFactory, core.AuthTktFactory):
        for name in ("new", "validate", "parse"):
            parameters = list(inspect.signature(getattr(cls, name)).parameters)
            assert parameters[0] == "self", (cls, name)
    assert list(inspect.signature(core.AuthTktFactory.new).parameters)[-1] == "raw"
    assert inspect.signature(core.AuthTktFactory.new).parameters["raw"].kind is inspect.Parameter.KEYWORD_ONLY


@pytest.mark.parametrize(
    ("kind", "args", "kwargs"),
    [
        ("TicketFactory", (), {}),
        ("TicketFactory", (SECRET, "sha256", ()), {}),
        ("TicketFactory", (SECRET,), {"fallback": ()}),
        ("TicketFactory", (), {"hashalg": "sha256"}),
        ("TicketFactory", (SECRET,), {"secret": SECRET}),
        ("AuthTktFactory", (SECRET,), {}),
        ("AuthTktFactory", (SECRET, "md5", 60), {}),
        ("AuthTktFactory", (SECRET, "md5"), {"timeout_": 60}),
        ("AuthTktFactory", (), {"digest": "md5"}),
    ],
)
def test_argument_errors_read_alike_in_both_cores(both_cores, kind, args, kwargs):
    messages = set()
    for core in both_cores:
        with pytest.raises(TypeError) as info:
            getattr(core, kind)(*args, **kwargs)
        messages.add(str(info.value))
    assert len(messages) == 1, messages
    assert messages.pop().startswith(f"{kind}.__init__() ")


def test_signatures_are_one_in_both_cores(both_cores):
    # The compiled classes carry their signature in their docstring and bind their arguments
    # with the format modules' init_arguments: all must say what the pure __init__ says.
    from ticket_auth import _authtkt_format, _ticket_format

    compiled, pure = both_cores
    for name, binder in (("TicketFactory", _ticket_format), ("AuthTktFactory", _authtkt_format)):
        expected = inspect.signature(getattr(pure, name)).replace(return_annotation=inspect.Signature.empty)
        expected = expected.replace(
            parameters=[p.replace(annotation=inspect.Parameter.empty) for p in expected.parameters.values()]
        )
        assert inspect.signature(getattr(compiled, name)) == expected, name
        bound = inspect.signature(binder.init_arguments)
        bound = bound.replace(
            parameters=[p.replace(annotation=inspect.Parameter.empty) for p in bound.parameters.values()][1:],
            return_annotation=inspect.Signature.empty,
        )
        assert bound == expected, name


def test_help_shows_the_keyword_only_arguments(core):
    import pydoc

    for cls, names in (
        (core.TicketFactory, ["secret", "hashalg", "*", "fallback_secrets", "max_length"]),
        (core.AuthTktFactory, ["secret", "digest", "*", "fallback_secrets", "timeout", "max_length"]),
    ):
        text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
        # Under "class X(_Factory)", up to the first empty line, is the constructor's signature
        # (annotated in the pure core): its parameters, in order, with the keyword-only marker
        # in its place. pydoc writes it on one line, or (from Python 3.13, when it is long) one
        # parameter a line; read either as one line.
        lines = text.split(f"class {cls.__name__}(_Factory)\n")[1].splitlines()
        assert all(line.startswith(" |") for line in lines[:2]), lines[:2]
        block = itertools.takewhile(bool, (line.removeprefix(" |").strip() for line in lines))
        signature = re.sub(r",?\s*\)", ")", re.sub(r"\(\s*", "(", " ".join(block)))
        assert signature.startswith(f"{cls.__name__}(secret"), signature
        found = re.findall(r"([*]|\w+)(?=: |=|, |\))", signature.split("(", 1)[1].split(") ->")[0])
        assert [name for name in found if name in names] == names, signature
    # The class docstring reads as prose (the signature line is not part of __doc__).
    assert core.TicketFactory.__doc__.startswith("Mints and validates tickets")


def test_subclass_signatures_are_the_factory_s(core):
    class Mine(core.TicketFactory):
        pass

    assert inspect.signature(Mine) == inspect.signature(core.TicketFactory)


def test_missing_arguments_read_alike_in_both_cores(both_cores):
    messages = set()
    for core in both_cores:
        with pytest.raises(TypeError) as info:
            core.AuthTktFactory()
        messages.add(str(info.value))
    assert len(messages) == 1, messages
    assert "secret" in messages.pop()


# --- the cores agree on odd arguments -------------------------------------------------------------------


@pytest.mark.parametrize("max_length", [2**31, 2**63 - 1, 2**63, 2**64, 10**30])
def test_huge_max_length_is_no_limit_in_both_cores(core, max_length):
    for factory in (
        core.TicketFactory(SECRET, max_length=max_length),
        core.AuthTktFactory(SECRET, "md5", max_length=max_length),
    ):
        assert factory.parse(factory.new("alice")).user_id == "alice"


class _Sneaky(bytearray):
    def __bytes__(self):
        return b"sneaky"

    def __iter__(self):
        return iter(b"iterated")


def test_bytearray_subclass_fields_are_read_as_their_buffer(core, ta014):
    factory = core.TicketFactory(SECRET)
    fields = {"user_id": _Sneaky(b"alice"), "tokens": [_Sneaky(b"t")], "user_data": _Sneaky(b"d")}
    ticket = factory.new(**fields, valid_until=99)
    assert ticket == ta014.TicketFactory(SECRET).new(**fields, valid_until=99)
    assert ticket == factory.new("alice", ["t"], "d", valid_until=99)
    apache = core.AuthTktFactory(SECRET, "md5")
    assert apache.new(**fields, timestamp=99) == apache.new("alice", ["t"], "d", timestamp=99)


def test_cores_mint_bytearray_subclasses_alike(both_cores):
    tickets = {
        core.TicketFactory(SECRET).new(_Sneaky(b"a"), [_Sneaky(b"b")], _Sneaky(b"c"), 5)
        for core in both_cores
    }
    assert len(tickets) == 1


class _SneakyBytes(bytes):
    def __bytes__(self):
        return b"sneaky"

    def __iter__(self):
        return iter(b"iterated")


@pytest.mark.parametrize("cls", [_Sneaky, _SneakyBytes])
@pytest.mark.parametrize("value", [b"alice", b"a b/%\xc3\xa9"], ids=["safe", "escaped"])
def test_bytes_subclass_fields_mint_as_their_plain_bytes(both_cores, cls, value):
    # Characters that quote escapes too: 0.1.4 itself iterates then, so the plain bytes are
    # the reference here.
    for core in both_cores:
        factory = core.TicketFactory(SECRET)
        assert factory.new(cls(value), [cls(value)], cls(value), 5) == factory.new(value, [value], value, 5)
        apache = core.AuthTktFactory(SECRET, "md5")
        assert apache.new(cls(value), [cls(value)], cls(value), 5) == apache.new(value, [value], value, 5)


# --- the pure core is as fixed as the compiled one ------------------------------------------------------


def test_factories_cannot_be_rekeyed(core):
    for factory in _factories(core):
        for name in ("_secrets", "_secret", "_hash", "_max_length", "secret", "x"):
            with pytest.raises((AttributeError, TypeError)):
                setattr(factory, name, (b"attacker",))
        with pytest.raises((AttributeError, TypeError)):
            del factory._secrets


def test_subclass_overrides_do_not_loosen_validate(core):
    factory = core.TicketFactory(SECRET)
    good = factory.new("alice", valid_until=2**32 - 1)
    forged = "0" * len(good[:128]) + good[128:]

    class Loose(core.TicketFactory):
        def _digest(self, *args):
            return forged[:128]

        def _parse(self, *args):
            raise AssertionError("validate must not dispatch to an overridable _parse")

        def _text(self, ticket):
            return good

        def parse(self, ticket):
            raise AssertionError("validate must not dispatch to parse")

        def new(self, *args, **kwargs):
            raise AssertionError("validate must not dispatch to new")

    loose = Loose(SECRET)
    with pytest.raises(ticket_auth.TicketDigestError):
        loose.validate(forged)
    assert loose.validate(good).user_id == "alice"


def test_subclass_attributes_cannot_shadow_the_configuration(core):
    attacker = core.TicketFactory(b"attacker")
    forged = attacker.new("admin", valid_until=2**32 - 1)

    class Shadow(core.TicketFactory):
        _config = property(lambda self: (b"attacker",))
        _secrets = (b"attacker",)
        _secret = b"attacker"
        _hash = None

        def _sign(self, *args):
            return forged[:128]

    shadow = Shadow(SECRET)
    with pytest.raises(ticket_auth.TicketDigestError):
        shadow.validate(forged)
    assert shadow.validate(shadow.new("alice")).user_id == "alice"


def test_factories_cannot_change_class(core):
    class Loose(core.TicketFactory):
        __slots__ = ()

        def validate(self, ticket, *args, **kwargs):
            return self.parse(ticket)

    for factory in _factories(core):
        with pytest.raises((AttributeError, TypeError)):
            factory.__class__ = Loose
        with pytest.raises((AttributeError, TypeError)):
            del factory.__class__
    assert type(_factories(core)[0]) is core.TicketFactory


def test_authtkt_subclass_overrides_do_not_loosen_validate(core):
    factory = core.AuthTktFactory(SECRET, "md5")
    good = factory.new("alice", raw=True, timestamp=2**32 - 1)
    forged = "0" * 32 + good[32:]

    class Loose(core.AuthTktFactory):
        def _sign(self, *args):
            return forged[:32]

        def _parse(self, cookie):
            raise AssertionError("validate must not dispatch to an overridable _parse")

        def _ticket(self, cookie, *args):
            raise AssertionError("validate must not dispatch to an overridable _ticket")

        def _fields(self, *args):
            raise AssertionError("validate must not dispatch to an overridable _fields")

        def _hashlib_name(self, algorithm):
            return "sha1"

    loose = Loose(SECRET, "md5", timeout=0)
    with pytest.raises(ticket_auth.TicketDigestError):
        loose.validate(forged)
    assert loose.validate(good).user_id == "alice"
    with pytest.raises(ValueError, match="digest must be one of"):
        Loose(SECRET, "sha1")


def test_subclasses_keep_their_own_attributes(core):
    # Sealing the configuration leaves a subclass free to hold its own state, in both cores.
    class WithState(core.TicketFactory):
        def __init__(self, secret, label):
            super().__init__(secret)
            self.label = label

    factory = WithState(SECRET, "one")
    factory.label = "two"
    assert factory.label == "two"
    del factory.label
    assert factory.validate(factory.new("alice")).user_id == "alice"


# --- new(): the order of the argument checks, as in 0.1.4 -----------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"user_id": 1.5, "valid_until": 2**40}, TypeError),
        ({"user_id": "a", "tokens": [1.5], "valid_until": 2**40}, TypeError),
        ({"user_id": "a", "user_data": 1.5, "valid_until": -1}, TypeError),
        ({"user_id": "a", "client_ip": "not an address", "valid_until": 2**40}, ValueError),
        ({"user_id": "a", "valid_until": "not a number", "client_ip": "bad"}, ValueError),
    ],
)
def test_new_reports_field_and_address_errors_before_the_range_of_valid_until(core, ta014, kwargs, error):
    with pytest.raises(error) as theirs:
        ta014.TicketFactory(SECRET).new(**kwargs)
    with pytest.raises(error) as ours:
        core.TicketFactory(SECRET).new(**kwargs)
    if "client_ip" in kwargs and kwargs["valid_until"] != "not a number":
        assert "address" in str(ours.value), str(ours.value)
        assert "valid_until" not in str(ours.value)
    del theirs


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"user_id": 1.5, "timestamp": "soon"}, ValueError, "invalid literal"),
        ({"user_id": 1.5, "timestamp": 2**40}, TypeError, "user_id"),
        ({"user_id": "a!b", "timestamp": 2**40, "client_ip": "bad"}, ValueError, "'!'"),
        ({"user_id": "a", "tokens": [1.5], "timestamp": -1}, TypeError, "a token"),
        ({"user_id": "a", "tokens": ["x,y"], "timestamp": -1}, ValueError, "','"),
        ({"user_id": "a", "user_data": 1.5, "timestamp": 2**40}, TypeError, "user_data"),
        ({"user_id": "a", "user_data": "\0", "client_ip": "bad"}, ValueError, "NUL"),
        ({"user_id": "a", "client_ip": "not an address", "timestamp": 2**40}, ValueError, "address"),
        ({"user_id": "a", "client_ip": "::1", "timestamp": 2**40}, ValueError, "IPv4"),
        ({"user_id": "a", "timestamp": 2**40}, ValueError, "timestamp must be between"),
    ],
)
def test_authtkt_new_checks_in_the_same_order_in_both_cores(both_cores, kwargs, error, fragment):
    # As TicketFactory.new: the time converted first, then the fields as they are met, the
    # client address, and the 32-bit range last.
    messages = set()
    for core in both_cores:
        with pytest.raises(error) as info:
            core.AuthTktFactory(SECRET, "md5").new(**kwargs)
        messages.add(str(info.value))
    assert len(messages) == 1, messages
    assert fragment in messages.pop()


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"user_id": "a", "valid_until": 2**40, "encoding": "no-such-codec"}, ValueError, "valid_until"),
        ({"user_id": "a", "valid_until": 5, "encoding": "no-such-codec"}, LookupError, "no-such-codec"),
        ({"user_id": "a", "valid_until": float("inf"), "client_ip": "bad"}, ValueError, "valid_until"),
        ({"user_id": 1.5, "valid_until": 2**40}, TypeError, "user_id"),
    ],
)
def test_ticket_new_checks_in_the_same_order_in_both_cores(both_cores, kwargs, error, fragment):
    # The range comes before the encoding (0.1.4 packs the time before encoding the fields);
    # an infinite time is a conversion error (int() fails first in 0.1.4 too).
    messages = set()
    for core in both_cores:
        with pytest.raises(error) as info:
            core.TicketFactory(SECRET).new(**kwargs)
        messages.add(str(info.value))
    assert len(messages) == 1, messages
    assert fragment in messages.pop()
