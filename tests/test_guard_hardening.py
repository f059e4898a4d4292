"""The guard's hardened policy (issue 17): header caps, websocket origins, the transport warning,
configuration checks, refusals, ticket life bounds, Apache-compatible cookie values."""

import warnings

import pytest

from _guard_helpers import SECRET, make_guard
from ticket_auth.guard import REASONS, InsecureCookieWarning, TicketGuard


def value_of(set_cookie):
    return set_cookie.split(";", 1)[0]


def plain_factory():
    from ticket_auth import TicketFactory

    return TicketFactory(SECRET)


# -- the interface the adapters call ------------------------------------------------------------


def test_max_cookie_header_refuses_unread(core, kind):
    guard = make_guard(core, kind, max_cookie_header=200)
    assert guard.max_cookie_header == 200
    cookie = value_of(guard.remember("alice"))
    assert guard.check(cookie).reason == "ok"
    padded = cookie + "; " + "x=" + "y" * (200 - len(cookie))
    assert len(padded) > 200
    result = guard.check(padded, path="/protected/")
    assert (result.identity, result.reason, result.status) == (None, "oversized cookie", 401)
    assert guard.check(padded[:200]).reason == "ok"  # within the cap: read


def test_max_cookie_header_default_and_checks():
    assert TicketGuard(plain_factory()).max_cookie_header == 16384
    for bad in (0, -1, True, 1.5, "100"):
        with pytest.raises(TypeError, match="max_cookie_header"):
            TicketGuard(plain_factory(), max_cookie_header=bad)


def test_header_is_latin1_and_wide_text_is_a_refusal(core, kind):
    guard = make_guard(core, kind)
    cookie = value_of(guard.remember("alice"))
    for header in ("auth_tkt=\u0100abc", "auth_tkt=\udcff", "\udcff", cookie + "\u20ac"):
        result = guard.check(header, path="/protected/")
        assert (result.identity, result.status) == (None, 401) and result.reason in REASONS
    assert guard.check(cookie + "\u20ac").reason == "malformed cookie"
    assert guard.check(cookie + "; x=\U0001f600").reason == "ok"  # another cookie's text: not read


def test_origin_same_origin_default():
    guard = TicketGuard(plain_factory())
    allowed = guard.origin_allowed
    assert allowed(None, "app.example.com")  # not a browser
    assert allowed(None, None)
    assert allowed("https://app.example.com", "app.example.com")
    assert allowed("https://App.Example.COM", "app.example.com:443")
    assert allowed("http://app.example.com", "app.example.com:80")
    assert allowed("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert allowed("http://[::1]:8000", "[::1]:8000")
    assert not allowed("https://evil.example", "app.example.com")
    assert not allowed("https://app.example.com.evil.example", "app.example.com")
    assert not allowed("https://app.example.com:8443", "app.example.com")
    assert not allowed("http://app.example.com", "app.example.com:443")
    assert not allowed("null", "app.example.com")
    assert not allowed("https://app.example.com", None)
    assert not allowed("https://app.example.com/path", "app.example.com")
    assert not allowed("https://user@app.example.com", "app.example.com")
    assert not allowed("file://", "app.example.com")
    assert not allowed("https://app.example.com:99999", "app.example.com:99999")
    assert not allowed("https://\u00e9.example", "\u00e9.example:x")


def test_origin_list_and_star():
    guard = TicketGuard(plain_factory(), allowed_origins=["https://app.example.com", "http://localhost:3000"])
    assert guard.origin_allowed("https://app.example.com", "api.example.com")
    assert guard.origin_allowed("https://APP.example.com:443", None)
    assert guard.origin_allowed("http://localhost:3000", "localhost:8000")
    assert not guard.origin_allowed("https://api.example.com", "api.example.com")  # the list replaces it
    assert not guard.origin_allowed("http://app.example.com", "app.example.com")
    assert guard.origin_allowed(None, "api.example.com")
    anything = TicketGuard(plain_factory(), allowed_origins="*")
    assert anything.origin_allowed("https://evil.example", "app.example.com")
    assert "websocket origin not allowed" in REASONS


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("https://app.example.com", TypeError),
        (b"https://app.example.com", TypeError),
        (["*"], ValueError),
        (["https://app.example.com/"], ValueError),
        (["app.example.com"], ValueError),
        (["ftp://app.example.com"], ValueError),
        ([1], TypeError),
    ],
)
def test_bad_allowed_origins(value, error):
    with pytest.raises(error, match="allowed_origins"):
        TicketGuard(plain_factory(), allowed_origins=value)


def test_origin_allowed_never_raises():
    guard = TicketGuard(plain_factory())
    for origin in ("", "https://", "https://[::1", "https://a:b:c", "\x00", "https://a\udcff"):
        for host in ("", "[", "a:b:c", "\udcff", None):
            assert guard.origin_allowed(origin, host) in (True, False)


def test_note_transport_warns_once_for_plain_http():
    guard = TicketGuard(plain_factory())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        guard.note_transport("https", "app.example.com")
        guard.note_transport("wss", "app.example.com")
        for local in (
            "localhost",
            "localhost:8000",
            "127.0.0.1",
            "127.8.9.1:80",
            "[::1]:8000",
            "::1",
            "a.localhost",
        ):
            guard.note_transport("http", local)
        assert caught == []
        guard.note_transport("http", "app.example.com:8000")
        guard.note_transport("ws", "other.example")
        guard.note_transport("HTTP", None)
    assert len(caught) == 1
    warning = caught[0]
    assert warning.category is InsecureCookieWarning and issubclass(InsecureCookieWarning, UserWarning)
    text = str(warning.message)
    assert "HTTPS" in text and "forwarded-allow-ips" in text and "ProxyFix" in text and "secure=False" in text
    assert warning.filename == __file__  # points at the caller


def test_note_transport_other_hosts_and_insecure_cookie():
    for host in ("[2001:db8::1]:80", "10.0.0.1", "localhost.example", None):
        guard = TicketGuard(plain_factory())
        with pytest.warns(InsecureCookieWarning):
            guard.note_transport("ws", host)
    quiet = TicketGuard(plain_factory(), secure=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet.note_transport("http", "app.example.com")


def test_note_transport_is_cheap_once_warned():
    guard = TicketGuard(plain_factory())
    with pytest.warns(InsecureCookieWarning):
        guard.note_transport("http", "app.example.com")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        guard.note_transport("http", "app.example.com")
