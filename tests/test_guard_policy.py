"""The framework-neutral guard policy (ticket_auth.guard.TicketGuard), in-process, both cores."""

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _guard_helpers import LIFETIME, SECRET, Clock, make_factory, make_guard
from ticket_auth.guard import REASONS, TicketGuard, client_address, parse_cookie_header


def value_of(set_cookie):
    return set_cookie.split(";", 1)[0]


def test_imports_stay_separate():
    code = (
        "import sys, ticket_auth\n"
        "assert 'ticket_auth.guard' not in sys.modules\n"
        "import ticket_auth.guard, ticket_auth.guard.asgi, ticket_auth.guard.wsgi\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'starlette', 'flask', 'django', 'werkzeug')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_remember_check_forget(core, kind):
    clock = Clock()
    guard = make_guard(core, kind, clock)
    cookie = value_of(guard.remember("alice", ("a", "b"), "data"))
    result = guard.check(cookie, path="/protected/x")
    assert result.allowed and result.reason == "ok" and result.set_cookie is None
    assert result.identity[:3] == ("alice", ("a", "b"), "data")
    assert result.identity.issued == int(clock.now)
    assert guard.forget() == (
        "auth_tkt=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax"
    )


def test_sliding_refresh_and_expiry(core, kind):
    clock = Clock()
    guard = make_guard(core, kind, clock)
    cookie = value_of(guard.remember("alice"))
    clock.advance(599)
    assert guard.check(cookie).set_cookie is None
    clock.advance(1)
    reissued = guard.check(cookie).set_cookie
    assert reissued is not None
    assert guard.check(value_of(reissued)).identity.issued == int(clock.now)
    clock.advance(LIFETIME)
    assert guard.check(cookie).reason == "expired"
    assert guard.check(value_of(reissued)).reason == "expired"


def test_authtkt_lifetime_enforced_by_guard(core):
    """The guard's lifetime applies even when the factory's timeout is longer or off."""
    clock = Clock()
    factory = core.module.AuthTktFactory(SECRET, "sha256", timeout=0)
    guard = TicketGuard(factory, lifetime=100, clock=clock)
    cookie = f"auth_tkt={factory.new('bob', timestamp=int(clock.now) - 100)}"
    assert guard.check(cookie).reason == "expired"


def test_reissue_switches(core, kind):
    clock = Clock()
    guard = make_guard(core, kind, clock, reissue_after=None)
    cookie = value_of(guard.remember("x"))
    clock.advance(LIFETIME - 1)
    assert guard.check(cookie).set_cookie is None
    old = make_guard(core, kind, clock)
    old_cookie = value_of(old.remember("x"))
    rotated = make_guard(core, kind, clock, reissue_on_fallback=False)
    rotated.factory = make_factory(core, kind, b"new", fallback=[SECRET])
    result = rotated.check(old_cookie)
    assert result.identity.fallback_secret_used and result.set_cookie is None
    rotated = make_guard(core, kind, clock)
    rotated.factory = make_factory(core, kind, b"new", fallback=[SECRET])
    assert rotated.check(old_cookie).set_cookie is not None


def test_ipv4_mapped_addresses(core, kind):
    guard = make_guard(core, kind, bind_ip=True)
    cookie = value_of(guard.remember("m", peer="::ffff:192.0.2.4"))
    assert make_factory(core, kind).validate(cookie.partition("=")[2], client_ip="192.0.2.4").user_id == "m"
    assert guard.check(cookie, peer="192.0.2.4").reason == "ok"
    assert guard.check(cookie, peer="::ffff:192.0.2.4").reason == "ok"
    assert guard.check(cookie, peer="192.0.2.5").identity is None


def test_ipv6_client_with_authtkt(core):
    guard = make_guard(core, "authtkt", bind_ip=True)
    cookie = value_of(make_guard(core, "authtkt").remember("v6"))
    assert guard.check(cookie, peer="2001:db8::1").reason == "client address unusable"
    with pytest.raises(ValueError, match="IPv4"):
        guard.remember("v6", peer="2001:db8::1")


def test_client_address_rules():
    trusted = TicketGuard(make_factory_plain(), trusted_proxies=["10.0.0.0/8", "::1"]).trusted_proxies
    assert str(client_address("203.0.113.1", "198.51.100.2", trusted)) == "203.0.113.1"
    assert str(client_address("10.0.0.1", "198.51.100.2", trusted)) == "198.51.100.2"
    assert str(client_address("10.0.0.1", "1.2.3.4, 198.51.100.2, 10.1.1.1", trusted)) == "198.51.100.2"
    assert str(client_address("::1", "::ffff:198.51.100.2", trusted)) == "198.51.100.2"
    assert client_address("10.0.0.1", "nonsense", trusted) is None
    assert client_address(None, "198.51.100.2", trusted) is None
    assert str(client_address("[2001:db8::5]", None, trusted)) == "2001:db8::5"


def make_factory_plain():
    from ticket_auth import TicketFactory

    return TicketFactory(SECRET)


def test_cookie_parsing():
    assert parse_cookie_header("a=1; auth_tkt=x;b=2;auth_tkt = y ", "auth_tkt") == ["x", "y"]
    assert parse_cookie_header("auth_tkt", "auth_tkt") == []
    guard = TicketGuard(make_factory_plain())
    assert guard.check(None).reason == "no cookie"
    assert guard.check("other=1").reason == "no cookie"
    assert guard.check("auth_tkt=a; auth_tkt=b").reason == "duplicate cookie"
    assert guard.check('auth_tkt="unterminated').reason == "malformed cookie"
    assert guard.check("auth_tkt=" + "a" * 4097).reason == "oversized cookie"
    assert guard.check("auth_tkt=abc").reason == "malformed ticket"


def test_quoted_value_round_trip(core):
    guard = make_guard(core, "ticket")
    header = guard.remember("q", ("t1", "t2"))
    assert value_of(header).startswith('auth_tkt="') and "\\054" in header
    assert guard.check(value_of(header)).identity.tokens == ("t1", "t2")


def test_protect_prefixes(core):
    guard = make_guard(core, "ticket", protect={"/a": (), "/a/b/": ("x",)})
    assert guard.required_tokens("/a") == ()
    assert guard.required_tokens("/a/z") == ()
    assert guard.required_tokens("/ab") is None
    assert guard.required_tokens("/a/b/c") == ("x",)
    assert guard.required_tokens("/") is None


def test_back_link_never_leaves_the_site(core):
    guard = make_guard(core, "ticket", login_url="/login")
    result = guard.check(None, path="/protected/", target="//evil.example/x")
    assert (result.status, result.location) == (303, "/login?back=%2Fevil.example%2Fx")


@pytest.mark.parametrize(
    "options",
    [
        {"cookie_name": "a b"},
        {"cookie_name": ""},
        {"lifetime": 0},
        {"reissue_after": -1},
        {"samesite": "None", "secure": False},
        {"samesite": "loose"},
        {"path": "/x;y"},
        {"domain": "a\r\nb"},
        {"public_origin": "evil.example"},
    ],
)
def test_bad_options(options):
    with pytest.raises(ValueError):
        TicketGuard(make_factory_plain(), **options)


def test_repr_and_reasons_carry_no_secret_or_ticket(core, kind):
    guard = make_guard(core, kind)
    cookie = value_of(guard.remember("secret-user"))
    assert "secret" not in repr(guard).lower().replace("secret-user", "")
    for header in (cookie, cookie + "x", cookie[:-3]):
        result = guard.check(header)
        assert result.reason in REASONS
        assert cookie.partition("=")[2] not in result.reason


@given(header=st.text(max_size=300), peer=st.one_of(st.none(), st.text(max_size=50)))
def test_any_header_never_raises(core, header, peer):
    guard = TicketGuard(
        core.TicketFactory(SECRET),
        bind_ip=True,
        trusted_proxies=["127.0.0.1"],
        protect={"/": ()},
        login_url="/l",
    )
    result = guard.check(header, path="/", target=header, peer=peer, forwarded=header)
    assert result.reason in REASONS
    assert result.status in (0, 303)


def test_check_result_repr_hides_the_new_ticket(core, kind):
    clock = Clock()
    guard = make_guard(core, kind, clock)
    cookie = value_of(guard.remember("rex"))
    clock.advance(LIFETIME // 2)
    result = guard.check(cookie)
    assert result.set_cookie is not None
    ticket = value_of(result.set_cookie).partition("=")[2]
    assert ticket not in repr(result) and "new ticket" in repr(result)


def test_factory_can_change_kind(core):
    guard = make_guard(core, "ticket")
    guard.factory = make_factory(core, "authtkt")
    cookie = value_of(guard.remember("k"))
    assert make_factory(core, "authtkt").validate(cookie.partition("=")[2]).user_id == "k"
    assert guard.check(cookie).reason == "ok"


def test_tokens_must_not_be_a_string(core):
    with pytest.raises(TypeError):
        make_guard(core, "ticket").remember("u", "admin")
