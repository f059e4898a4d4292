"""The public API: names, TicketInfo, exceptions, call signatures, which core is active."""

import collections
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import ticket_auth
from ticket_auth import TicketError

SECRET = b"api-secret"


def test_top_level_names():
    from ticket_auth import (
        TicketDigestError,
        TicketError,
        TicketExpired,
        TicketFactory,
        TicketInfo,
        TicketParseError,
        exception,
        ticket_factory,
    )

    assert TicketFactory is ticket_factory.TicketFactory
    assert TicketInfo is ticket_factory.TicketInfo
    assert TicketError is exception.TicketError
    assert TicketParseError is exception.TicketParseError
    assert TicketDigestError is exception.TicketDigestError
    assert TicketExpired is exception.TicketExpired


def test_submodule_names():
    from ticket_auth.exception import TicketDigestError, TicketError, TicketExpired, TicketParseError
    from ticket_auth.ticket_factory import TicketFactory, TicketInfo

    for obj in (TicketDigestError, TicketError, TicketExpired, TicketParseError, TicketFactory):
        assert isinstance(obj, type)
    assert TicketInfo._fields == ("digest", "user_id", "tokens", "user_data", "valid_until")


def test_star_import_exports():
    namespace = {}
    exec("from ticket_auth import *", namespace)  # noqa: S102 - checking __all__
    for name in (
        "TicketFactory",
        "TicketInfo",
        "TicketError",
        "TicketParseError",
        "TicketDigestError",
        "TicketExpired",
    ):
        assert namespace[name] is getattr(ticket_auth, name)


def test_ticket_info_is_a_namedtuple_with_fields_in_order():
    info = ticket_auth.TicketInfo("d", "u", ("t",), "x", 5)
    assert ticket_auth.TicketInfo._fields == ("digest", "user_id", "tokens", "user_data", "valid_until")
    assert isinstance(info, tuple)
    assert tuple(info) == ("d", "u", ("t",), "x", 5)
    assert info.digest == "d" and info.user_id == "u" and info.tokens == ("t",)
    assert info.user_data == "x" and info.valid_until == 5
    assert info._asdict() == collections.OrderedDict(
        digest="d", user_id="u", tokens=("t",), user_data="x", valid_until=5
    )
    assert ticket_auth.TicketInfo._make(["a", "b", (), "", 0]).user_id == "b"


def test_cores_return_the_public_ticket_info(core):
    factory = core.TicketFactory(SECRET)
    ticket = factory.new("u", ["t"], "d", valid_until=10)
    assert type(factory.parse(ticket)) is ticket_auth.TicketInfo
    assert type(factory.validate(ticket, now=0)) is ticket_auth.TicketInfo
    assert core.module.TicketInfo is ticket_auth.TicketInfo


# --- exceptions -----------------------------------------------------------------------


def test_ticket_error_attributes_and_str():
    from ticket_auth import TicketError

    err = TicketError("tkt", "went wrong")
    assert err.ticket == "tkt"
    assert err.msg == "went wrong"
    # 0.1.4's shape, but never the ticket itself (deliberate difference; docs/compatibility.md)
    assert str(err) == "Ticket error: went wrong  (<ticket of 3 characters>)"
    assert err.args == ("tkt", "went wrong")
    default = TicketError("tkt")
    assert default.msg == ""
    assert str(default) == "Ticket error:   (<ticket of 3 characters>)"
    assert default.args == ("tkt",)
    assert TicketError(ticket="a", msg="b").msg == "b"


def test_exception_subclasses():
    from ticket_auth import TicketDigestError, TicketError, TicketExpired, TicketParseError

    assert issubclass(TicketError, Exception)
    for cls in (TicketParseError, TicketDigestError, TicketExpired):
        assert issubclass(cls, TicketError)
    assert not issubclass(TicketParseError, (TicketDigestError, TicketExpired))
    assert not issubclass(TicketDigestError, (TicketParseError, TicketExpired))
    assert not issubclass(TicketExpired, (TicketParseError, TicketDigestError))


def test_exception_messages():
    from ticket_auth import TicketDigestError, TicketExpired, TicketParseError

    parse = TicketParseError("abc", "bad")
    assert (parse.ticket, parse.msg, str(parse), parse.args) == (
        "abc",
        "bad",
        "Ticket error: bad  (<ticket of 3 characters>)",
        ("abc", "bad"),
    )
    assert TicketParseError("abc").msg == ""
    # The two errors that take only the ticket: their message is fixed.
    for error, msg in (
        (TicketDigestError("abc"), "Invalid digest"),
        (TicketExpired("abc"), "Ticket expired"),
    ):
        assert (error.ticket, error.msg, str(error), error.args) == (
            "abc",
            msg,
            f"Ticket error: {msg}  (<ticket of 3 characters>)",
            ("abc",),
        )
    with pytest.raises(TypeError):
        TicketDigestError("abc", "extra")
    with pytest.raises(TypeError):
        TicketExpired("abc", "extra")


@pytest.mark.parametrize("name", ["TicketError", "TicketParseError", "TicketDigestError", "TicketExpired"])
def test_exceptions_match_0_1_4(ta014, name):
    ours, theirs = getattr(ticket_auth, name), getattr(ta014, name)
    args = ("the-ticket", "a message") if name in ("TicketError", "TicketParseError") else ("the-ticket",)
    a, b = ours(*args), theirs(*args)
    assert (a.msg, a.ticket, a.args) == (b.msg, b.ticket, b.args)
    # The one deliberate difference (docs/compatibility.md): str() has 0.1.4's shape but shows
    # the ticket's length and a short prefix where 0.1.4 showed the whole ticket.
    assert str(b) == f"Ticket error: {b.msg}  (the-ticket)"
    assert str(a) == f"Ticket error: {a.msg}  (<ticket of 10 characters starting 't'>)"
    # Pickling round trips (or fails) the same way.
    copy_a, copy_b = pickle.loads(pickle.dumps(a)), pickle.loads(pickle.dumps(b))
    assert (type(copy_a), str(copy_a), copy_a.msg, copy_a.ticket) == (ours, str(a), copy_b.msg, copy_b.ticket)


# --- call signatures --------------------------------------------------------------------


def test_positional_and_keyword_calls(core):
    factory = core.TicketFactory(SECRET, "sha256")
    keyword = core.TicketFactory(secret=SECRET, hashalg="sha256")
    ticket = factory.new("alice", ("a", "b"), "data", 1000, "10.0.0.1", "utf-8")
    assert ticket == keyword.new(
        user_id="alice",
        tokens=("a", "b"),
        user_data="data",
        valid_until=1000,
        client_ip="10.0.0.1",
        encoding="utf-8",
    )
    # aiohttp_auth calls validate(ticket, ip, now)
    info = factory.validate(ticket, "10.0.0.1", 999)
    assert info == factory.validate(ticket, "10.0.0.1", 999, "utf-8")
    assert info == keyword.validate(ticket=ticket, client_ip="10.0.0.1", now=999, encoding="utf-8")
    assert info == (ticket[:64], "alice", ("a", "b"), "data", 1000)
    assert factory.parse(ticket) == keyword.parse(ticket=ticket) == info


def test_default_hashalg_is_sha512(core):
    ticket = core.TicketFactory(SECRET).new("u", valid_until=1)
    assert ticket == core.TicketFactory(SECRET, "sha512").new("u", valid_until=1)
    assert len(ticket) == 128 + 8 + len("u!!")


def test_method_parameters_match_0_1_4(core, ta014):
    import inspect

    for name in ("new", "validate", "parse"):
        ours = inspect.signature(getattr(core.TicketFactory, name))
        theirs = inspect.signature(getattr(ta014.TicketFactory, name))
        assert [(p.name, p.default) for p in ours.parameters.values()] == [
            (p.name, p.default) for p in theirs.parameters.values()
        ], name


# --- which core is active ---------------------------------------------------------------


def test_core_value_matches_exported_class():
    from ticket_auth import _ticketcore_py

    assert ticket_auth.CORE in ("compiled", "pure")
    if ticket_auth.CORE == "compiled":
        from ticket_auth import _ticketcore

        assert ticket_auth.TicketFactory is _ticketcore.TicketFactory
    else:
        assert ticket_auth.TicketFactory is _ticketcore_py.TicketFactory
    from ticket_auth import ticket_factory

    assert ticket_factory.CORE == ticket_auth.CORE


def _run_in_subprocess(env_updates):
    env = {k: v for k, v in os.environ.items() if k != "TICKET_AUTH_NO_EXTENSIONS"}
    env.update(env_updates)
    code = "import ticket_auth; print(ticket_auth.CORE, ticket_auth.TicketFactory.__module__)"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_no_extensions_env_gives_pure_core():
    assert _run_in_subprocess({"TICKET_AUTH_NO_EXTENSIONS": "1"}) == ["pure", "ticket_auth._ticketcore_py"]


def test_default_core_in_fresh_interpreter():
    try:
        import ticket_auth._ticketcore  # noqa: F401
    except ImportError:
        expected = ["pure", "ticket_auth._ticketcore_py"]
    else:
        expected = ["compiled", "ticket_auth._ticketcore"]
    assert _run_in_subprocess({}) == expected


def test_compiled_core_is_active():
    if os.environ.get("TICKET_AUTH_REQUIRE_EXTENSION") != "1":
        pytest.skip("set TICKET_AUTH_REQUIRE_EXTENSION=1 to require the compiled core")
    assert ticket_auth.CORE == "compiled"
    import ticket_auth._ticketcore as compiled

    assert ticket_auth.TicketFactory is compiled.TicketFactory
    suffix = Path(compiled.__file__).suffix
    assert suffix in (".so", ".pyd"), compiled.__file__
    assert compiled.__spec__.loader.__class__.__name__ == "ExtensionFileLoader"


# A finder that makes the compiled core look absent, or present but broken, in a fresh
# interpreter: the selector must fall back only in the first case.
_FAKE_CORE = """
import sys
class Finder:
    def find_spec(self, name, path=None, target=None):
        if name == "ticket_auth._ticketcore":
            raise {error}
sys.meta_path.insert(0, Finder())
import ticket_auth, ticket_auth.mod_auth_tkt as m
print(ticket_auth.CORE, ticket_auth.TicketFactory.__module__, m.AuthTktFactory.__module__)
"""


def _run_selector(error):
    env = {k: v for k, v in os.environ.items() if k != "TICKET_AUTH_NO_EXTENSIONS"}
    code = _FAKE_CORE.format(error=error)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_selector_falls_back_only_when_the_extension_is_absent():
    absent = _run_selector("ModuleNotFoundError(name='ticket_auth._ticketcore')")
    assert absent.returncode == 0, absent.stderr
    assert absent.stdout.split() == ["pure", "ticket_auth._ticketcore_py", "ticket_auth._ticketcore_py"]


def test_selector_reports_a_broken_extension():
    broken = _run_selector("ImportError('undefined symbol: EVP_Digest')")
    assert broken.returncode != 0
    assert "undefined symbol: EVP_Digest" in broken.stderr


def test_selector_reports_a_missing_dependency_of_the_extension():
    # The extension is there but something it imports is not: that is not "no extension".
    missing = _run_selector("ModuleNotFoundError(name='some_dependency')")
    assert missing.returncode != 0
    assert "ModuleNotFoundError" in missing.stderr


# --- exceptions built by the compiled core -----------------------------------------------------


def _error_state(exc):
    return type(exc), exc.args, vars(exc), str(exc), repr(exc), exc.ticket, exc.msg


@pytest.mark.parametrize(
    "kind", ["parse", "digest", "expired", "authtkt-parse", "authtkt-digest", "authtkt-expired"]
)
def test_compiled_errors_are_built_as_their_init_builds_them(both_cores, kind):
    """The compiled core builds its TicketError instances in C (no Python frame); they must be
    indistinguishable from the ones the pure core makes by calling the classes."""
    results = []
    for core in both_cores:
        if kind.startswith("authtkt"):
            factory = core.AuthTktFactory(SECRET, "md5", timeout=10)
            good = factory.new("u", timestamp=100)
            raw = factory.new("u", timestamp=100, raw=True)
            ticket = {
                "authtkt-parse": good + "=",
                "authtkt-digest": "0" * 32 + raw[32:],
                "authtkt-expired": good,
            }[kind]
        else:
            factory = core.TicketFactory(SECRET, "md5")
            good = factory.new("u", valid_until=100)
            ticket = {"parse": good.upper(), "digest": "0" * 32 + good[32:], "expired": good}[kind]
        with pytest.raises(TicketError) as err:
            factory.validate(ticket, now=10**6)
        results.append(_error_state(err.value))
        assert pickle.loads(pickle.dumps(err.value)).args == err.value.args
    assert results[0] == results[1]
