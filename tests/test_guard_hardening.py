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
        with pytest.raises((TypeError, ValueError), match="max_cookie_header"):
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


# -- misconfiguration is an error at construction ---------------------------------------------


@pytest.mark.parametrize(
    ("protect", "error"),
    [
        ({"admin/": ()}, ValueError),
        ({"": ()}, ValueError),
        ({b"/admin/": ()}, TypeError),
        ({"/a\r\nb": ()}, ValueError),
        ({"/a?x=1": ()}, ValueError),
        ({"/a#frag": ()}, ValueError),
        ({"/admin/": "admin"}, TypeError),
        ({"/admin/": b"admin"}, TypeError),
        ({"/admin/": None}, TypeError),
        ({"/admin/": ("",)}, ValueError),
        ({"/admin/": ("a,b",)}, ValueError),
        ({"/admin/": (1,)}, TypeError),
        ({"/admin": ("a",), "/admin/": ("b",)}, ValueError),
        (["/admin/"], TypeError),
    ],
)
def test_bad_protect(protect, error):
    with pytest.raises(error, match="protect"):
        TicketGuard(plain_factory(), protect=protect)


def test_prefix_covers_itself_with_or_without_slash():
    for prefix in ("/admin/", "/admin"):
        guard = TicketGuard(plain_factory(), protect={prefix: ("admin",)})
        for path in ("/admin", "/admin/", "/admin/x", "/admin/x/y"):
            assert guard.required_tokens(path) == ("admin",), (prefix, path)
        for path in ("/administrator", "/admin.html", "/", "/x/admin/"):
            assert guard.required_tokens(path) is None, (prefix, path)
    root = TicketGuard(plain_factory(), protect={"/": (), "/a/": ("t",)})
    assert root.required_tokens("/anything") == () and root.required_tokens("/a") == ("t",)
    tokens = TicketGuard(plain_factory(), protect={"/x": ["b", "a"]}).required_tokens("/x")
    assert tokens == ("b", "a")


def test_unprotected_prefix_without_slash_is_refused_on_request(core):
    guard = make_guard(core, "ticket", protect={"/admin/": ("admin",)}, login_url="/login")
    assert guard.check(None, path="/admin", target="/admin").status == 303


@pytest.mark.parametrize("factory", [b"secret", "secret", None, object(), 42])
def test_factory_must_be_a_factory(factory):
    with pytest.raises(TypeError, match=r"TicketFactory\(secret\)"):
        TicketGuard(factory)


def test_factory_type_is_checked_properly(core, kind):
    class AuthTktFactory:  # the right name, not the right type
        def validate(self, *args, **kwargs):
            raise AssertionError

    with pytest.raises(TypeError, match="TicketFactory"):
        TicketGuard(AuthTktFactory())
    guard = make_guard(core, kind)
    with pytest.raises(TypeError, match="TicketFactory"):
        guard.factory = b"secret"
    with pytest.raises(TypeError):
        guard.factory = AuthTktFactory()
    assert guard.check(value_of(guard.remember("still"))).reason == "ok"


@pytest.mark.parametrize(
    "options",
    [
        {"lifetime": True},
        {"lifetime": 1.5},
        {"lifetime": "3600"},
        {"reissue_after": True},
        {"reissue_after": "never"},
        {"reissue_after": 1.5},
        {"max_age": -1},
        {"max_age": True},
        {"max_age": "10"},
        {"max_cookie_length": 0},
        {"max_cookie_length": False},
        {"clock_skew": -1},
        {"clock_skew": 1.5},
        {"clock_skew": None},
        {"bind_ip": "yes"},
        {"bind_ip": 1},
        {"secure": "false"},
        {"httponly": None},
        {"reissue_on_fallback": 0},
        {"trusted_proxies": "10.0.0.1"},
        {"trusted_proxies": ["not an address"]},
        {"trusted_proxies": [10]},
        {"forwarded_header": "X Forwarded For"},
        {"forwarded_header": ""},
        {"forwarded_header": b"X-Forwarded-For"},
        {"back_arg": ""},
        {"back_arg": "a&b"},
        {"back_arg": "a=b"},
        {"back_arg": "a b"},
        {"clock": 5},
        {"cookie_name": b"auth_tkt"},
        {"public_origin": "https://app.example.com/path"},
        {"public_origin": "https://"},
        {"public_origin": "https://app.example.com\r\nX: y"},
    ],
)
def test_bad_option_types_and_ranges(options):
    with pytest.raises((TypeError, ValueError)) as info:
        TicketGuard(plain_factory(), **options)
    assert next(iter(options)) in str(info.value)


@pytest.mark.parametrize(
    "login_url",
    [
        "login",
        "//evil.example/login",
        "/\\evil.example/login",
        "/login\r\nSet-Cookie: x=1",
        "/log in",
        "/login\\x",
        "https://",
        "https:///login",
        "javascript:alert(1)",
        "ftp://example.com/login",
        "",
        "/login\x00",
        "https://login.example.com/a b",
    ],
)
def test_bad_login_url(login_url):
    with pytest.raises(ValueError, match="login_url"):
        TicketGuard(plain_factory(), login_url=login_url)


@pytest.mark.parametrize(
    "login_url",
    ["/login", "/login?app=1", "/log%20in", "https://login.example.com", "HTTP://a.example:8080/l?x=%0D"],
)
def test_good_login_url(login_url):
    assert TicketGuard(plain_factory(), login_url=login_url).login_url == login_url


def test_samesite_is_case_insensitive():
    for given, written in (("lax", "Lax"), ("STRICT", "Strict"), ("none", "None"), (None, None)):
        guard = TicketGuard(plain_factory(), samesite=given)
        forget = guard.forget()
        assert (f"SameSite={written}" in forget) if written else ("SameSite" not in forget)
    for bad in ("loose", "", 1):
        with pytest.raises((TypeError, ValueError), match="samesite"):
            TicketGuard(plain_factory(), samesite=bad)
    with pytest.raises(ValueError, match="secure"):
        TicketGuard(plain_factory(), samesite="none", secure=False)


@pytest.mark.parametrize(
    "options",
    [
        {"cookie_name": "auth tkt"},
        {"cookie_name": "auth;tkt"},
        {"cookie_name": "auth=tkt"},
        {"cookie_name": "auth\u00e9"},
        {"cookie_name": "(auth)"},
        {"path": "admin"},
        {"path": ""},
        {"path": "/a b"},
        {"path": "/a\x7f"},
        {"domain": "ex ample.com"},
        {"domain": "example.com\t"},
        {"domain": "b\u00fccher.example"},
        {"domain": "."},
        {"domain": "a..example"},
        {"domain": "example.com/x"},
        {"cookie_name": "__Host-auth", "secure": False},
        {"cookie_name": "__Host-auth", "domain": "example.com"},
        {"cookie_name": "__Host-auth", "path": "/app"},
        {"cookie_name": "__host-auth", "secure": False},
        {"cookie_name": "__Secure-auth", "secure": False},
    ],
)
def test_bad_cookie_attributes(options):
    with pytest.raises((TypeError, ValueError)) as info:
        TicketGuard(plain_factory(), **options)
    assert any(name in str(info.value) for name in (*options, "__Host-", "__Secure-"))


def test_good_cookie_attributes():
    guard = TicketGuard(plain_factory(), domain=".Example.COM", cookie_name="__Secure-tkt")
    assert "; Domain=Example.COM;" in guard.forget()
    guard = TicketGuard(plain_factory(), cookie_name="__Host-auth_tkt")
    assert guard.forget().startswith("__Host-auth_tkt=; Path=/;") and "Domain" not in guard.forget()
    assert "Secure" in guard.forget()


# -- refusals that do not loop or leave the site ------------------------------------------------


def test_missing_token_is_403_even_with_login_url(core, kind):
    guard = make_guard(core, kind, protect={"/admin/": ("admin",)}, login_url="/login")
    plain = value_of(guard.remember("bob"))
    result = guard.check(plain, path="/admin/x", target="/admin/x")
    assert (result.status, result.location, result.reason) == (403, None, "missing required token")
    assert result.identity.user_id == "bob"
    anonymous = guard.check(None, path="/admin/x", target="/admin/x")
    assert (anonymous.status, anonymous.location) == (303, "/login?back=%2Fadmin%2Fx")
    no_login = make_guard(core, kind, protect={"/admin/": ("admin",)})
    assert no_login.check(None, path="/admin/").status == 401
    assert no_login.check(plain, path="/admin/").status == 403


@pytest.mark.parametrize(
    ("target", "back"),
    [
        ("/\\evil.example/x", "%2Fevil.example%2Fx"),
        ("\\\\evil.example", "%2Fevil.example"),
        ("/\\/\\evil.example", "%2Fevil.example"),
        ("//evil.example", "%2Fevil.example"),
        ("/admin/\udcff", "%2Fadmin%2F%FF"),
        ("/admin/\xff", "%2Fadmin%2F%FF"),
        ("/admin/\u20ac", "%2Fadmin%2F%E2%82%AC"),
        ("/admin/\ud800", "%2Fadmin%2F%ED%A0%80"),
        ("/admin/\r\nX: y", "%2Fadmin%2F%0D%0AX%3A%20y"),
        ("/a?b=%2F&c=\\", "%2Fa%3Fb%3D%252F%26c%3D%5C"),
    ],
)
def test_back_link_from_any_target(core, target, back):
    guard = make_guard(core, "ticket", login_url="/login")
    result = guard.check(None, path="/protected/", target=target)
    assert (result.status, result.location) == (303, f"/login?back={back}")
