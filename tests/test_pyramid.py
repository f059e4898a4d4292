"""ticket_auth.pyramid against the real Pyramid (2.x): its AuthTktCookieHelper mints, ours reads;
ours mints, its helper reads; and the Apache-correct form, the strict reading, the timeout and
reissue rules, the security policy and the configuration from settings.

Requests are real Pyramid requests (``pyramid.request.Request``); the walks with a real server
are in test_pyramid_server.py. The codec runs on each core (the ``core`` fixture).
"""

import base64
import contextlib
import types
import warnings

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from _helpers import EXAMPLES, spec_digest

pyramid_authentication = pytest.importorskip("pyramid.authentication", reason="pyramid is not installed")
ticket_pyramid = pytest.importorskip("ticket_auth.pyramid")

from pyramid.authorization import ALL_PERMISSIONS, Allow, Authenticated, Deny, Everyone  # noqa: E402
from pyramid.config import Configurator  # noqa: E402
from pyramid.exceptions import ConfigurationError  # noqa: E402
from pyramid.interfaces import ISecurityPolicy  # noqa: E402
from pyramid.request import Request  # noqa: E402

from ticket_auth import TicketDigestError, _pyramid_format  # noqa: E402

# Pyramid's helper makes WebOb warn about the comma between two tokens (see the last test).
pytestmark = pytest.mark.filterwarnings("ignore:Cookie value contains invalid bytes:RuntimeWarning")

AuthTktCookieHelper = pyramid_authentication.AuthTktCookieHelper
AuthTicket = pyramid_authentication.AuthTicket
TicketCookieHelper = ticket_pyramid.TicketCookieHelper
TicketSecurityPolicy = ticket_pyramid.TicketSecurityPolicy

SECRET = "pyramid policy secret: 3c5d"
OLD_SECRET = "pyramid policy secret, retired: 8e1f"
NOW = 1_750_000_000
HASHALGS = ("md5", "sha256", "sha512")
HEX_LEN = {"md5": 32, "sha256": 64, "sha512": 128}
IPV4 = "192.0.2.10"
IPV6 = "2001:db8::8a2e:370:7334"


class FrozenTime:
    """Pyramid's helper reads ``time.time()`` through its module's ``time_mod``."""

    def __init__(self, now):
        self.now = now

    def time(self):
        return self.now


@pytest.fixture
def frozen(monkeypatch):
    clock = FrozenTime(NOW)
    monkeypatch.setattr(pyramid_authentication, "time_mod", clock)
    return clock


def ours(core, clock=None, **options):
    clock = clock or FrozenTime(NOW)
    return TicketCookieHelper(SECRET, clock=clock.time, factory_class=core.AuthTktFactory, **options)


def theirs(clock=None, **options):
    helper = AuthTktCookieHelper(SECRET, **options)
    helper.now = (clock or FrozenTime(NOW)).now
    return helper


def request(cookie=None, addr=IPV4, host="www.example.com"):
    environ = {"HTTP_HOST": host, "REMOTE_ADDR": addr}
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    return Request.blank("/", environ=environ)


def pair(headers, name="auth_tkt"):
    """The ``name=value`` part of the one Set-Cookie header, as a browser sends it back."""
    (header,) = headers
    assert header[0] == "Set-Cookie"
    value = header[1].split(";", 1)[0]
    assert value.startswith(name + "=")
    return value


def pyramid_identity(identity):
    """Pyramid's identity as ours gives it: tokens without the '' Pyramid puts for none."""
    return dict(identity, tokens=[token for token in identity["tokens"] if token])


# -- strategies ---------------------------------------------------------------------------

user_ids = st.one_of(
    st.text(min_size=0, max_size=24),  # spaces, '@', '!', '%', non-ASCII, NUL: all b64-encoded
    st.sampled_from(["alice", "alice@example.com", "Jörg Müller", "a b", "100%", "x!y", "日本"]),
    st.binary(max_size=24),
    st.integers(min_value=-(2**70), max_value=2**70),
)
token_lists = st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9+_-]{0,8}", fullmatch=True), max_size=4)
addresses = st.sampled_from([IPV4, "127.0.0.1", IPV6, "::1", "::ffff:192.0.2.10", "fe80::1"])
interop = settings(
    max_examples=max(EXAMPLES // 3, 30), suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# -- Pyramid's helper mints, ours reads (nobody is logged out by the switch) --------------


@interop
@given(
    userid=user_ids,
    tokens=token_lists,
    hashalg=st.sampled_from(HASHALGS),
    include_ip=st.booleans(),
    addr=addresses,
    age=st.integers(0, 5000),
)
def test_we_read_what_pyramid_writes(core, userid, tokens, hashalg, include_ip, addr, age):
    minted_at = FrozenTime(NOW - age)
    options = dict(hashalg=hashalg, include_ip=include_ip, timeout=3600)
    with pyramid_mint_clock(minted_at):
        headers = theirs(minted_at, **options).remember(request(addr=addr), userid, tokens=tokens)
    cookie = pair(headers)
    expected = theirs(**options).identify(request(cookie, addr))
    got = ours(core, **options).identify(request(cookie, addr))
    if age > 3600:
        assert expected is None and got is None
        return
    assert expected is not None
    assert got == pyramid_identity(expected)
    assert got["userid"] == userid and type(got["userid"]) is type(userid)
    # Another client address (when bound), secret or algorithm: refused by both.
    if include_ip:
        assert ours(core, **options).identify(request(cookie, "198.51.100.1")) is None
    other = TicketCookieHelper("another secret", factory_class=core.AuthTktFactory, **options)
    assert other.identify(request(cookie, addr)) is None


@contextlib.contextmanager
def pyramid_mint_clock(clock):
    original = pyramid_authentication.time_mod
    pyramid_authentication.time_mod = clock
    try:
        yield
    finally:
        pyramid_authentication.time_mod = original


# -- ours mints, Pyramid's helper reads (a mixed fleet during the migration) ---------------


@interop
@given(
    userid=user_ids,
    tokens=token_lists,
    hashalg=st.sampled_from(HASHALGS),
    include_ip=st.booleans(),
    addr=addresses,
)
def test_pyramid_reads_what_we_write(core, userid, tokens, hashalg, include_ip, addr):
    options = dict(hashalg=hashalg, include_ip=include_ip)
    with pyramid_mint_clock(FrozenTime(NOW)):
        expected_headers = theirs(**options).remember(request(addr=addr), userid, tokens=tokens)
    headers = ours(core, **options).remember(request(addr=addr), userid, tokens=tokens)
    assert headers == expected_headers  # byte for byte, cookie attributes included
    identity = theirs(**options).identify(request(pair(headers), addr))
    assert identity is not None and identity["userid"] == userid
    assert [token for token in identity["tokens"] if token] == tokens


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"wild_domain": False},
        {"parent_domain": True},
        {"domain": "example.org"},
        {"max_age": 600, "secure": True, "http_only": True, "samesite": "Strict", "path": "/app"},
        {"samesite": None, "cookie_name": "other_tkt"},
    ],
    ids=["default", "no-wild", "parent", "domain", "attributes", "name"],
)
def test_remember_and_forget_headers_are_pyramids(core, frozen, options):
    req = request(host="www.example.com:8080")
    assert ours(core, **options).remember(req, "alice", tokens=["a", "b"]) == theirs(**options).remember(
        request(host="www.example.com:8080"), "alice", tokens=["a", "b"]
    )
    assert ours(core, **options).forget(req) == theirs(**options).forget(request(host="www.example.com:8080"))


def test_remember_refuses_what_pyramid_refuses(core):
    helper = ours(core)
    for token in ("1abc", "a b", "a,b", "ü", "a!b", ""):
        with pytest.raises(ValueError, match=r"\[A-Za-z\]"):
            helper.remember(request(), "alice", tokens=[token])
    with pytest.raises(TypeError, match="tokens must be a sequence"):
        helper.remember(request(), "alice", tokens="admin")
    # Pyramid converts other types to str with a RuntimeWarning (and gives back a str):
    # here the caller decides.
    with pytest.raises(TypeError, match="userid must be str, bytes or int, not float"):
        helper.remember(request(), 1.5)
    with pytest.raises(ValueError, match="include_ip is on but the client address"):
        ours(core, include_ip=True).remember(request(addr="unix:/run/app.sock"), "alice")


# -- the Apache-correct form ---------------------------------------------------------------


@pytest.mark.parametrize("hashalg", HASHALGS)
@pytest.mark.parametrize("userid", ["alice", "alice@example.com", "Jörg Müller", b"\xff\xfe", 42])
def test_apache_form_is_a_mod_auth_tkt_ticket(core, hashalg, userid):
    helper = ours(core, hashalg=hashalg, write_form="apache")
    cookie = pair(helper.remember(request(), userid, tokens=["admin", "staff"]))
    value = cookie.partition("=")[2]
    raw = base64.b64decode(value, validate=True).decode()
    hex_len = HEX_LEN[hashalg]
    written_uid, tokens, user_data = raw[hex_len + 8 :].split("!")
    # The digest covers exactly the written text (mod_auth_tkt's recipe), unlike Pyramid's form.
    assert raw[:hex_len] == spec_digest(
        hashalg, SECRET.encode(), "0.0.0.0", NOW, written_uid, tokens, user_data
    )
    factory = core.AuthTktFactory(SECRET.encode(), hashalg, timeout=0)
    info = factory.validate(value)
    assert (info.user_id, info.tokens, info.user_data) == (written_uid, ("admin", "staff"), user_data)
    # We read it back with the user id's type; Pyramid's helper cannot read base64.
    assert ours(core, hashalg=hashalg).identify(request(cookie))["userid"] == userid
    assert theirs(hashalg=hashalg).identify(request(cookie)) is None


@pytest.mark.parametrize("hashalg", HASHALGS)
def test_pyramid_form_quoted_user_id_is_not_a_mod_auth_tkt_ticket(core, frozen, hashalg):
    """The fault the Apache form fixes: Pyramid's helper hashes the base64 user id but writes it
    quoted (``=`` as ``%3D``), so mod_auth_tkt's recipe over the written text does not match."""
    cookie = pair(theirs(hashalg=hashalg).remember(request(), "alice"))  # YWxpY2U= -> YWxpY2U%3D
    raw = cookie.partition("=")[2]
    assert "%3D!" in raw
    factory = core.AuthTktFactory(SECRET.encode(), hashalg, timeout=0)
    with pytest.raises(TicketDigestError):
        factory.validate(raw)
    # Ours reads it by Pyramid's rule (and only that rule: see the next test).
    assert ours(core, hashalg=hashalg).identify(request(cookie))["userid"] == "alice"


@pytest.mark.parametrize("hashalg", HASHALGS)
def test_form_decides_the_digest_rule(core, hashalg):
    """A raw ticket whose user id holds '%' is checked only by Pyramid's rule (the user id
    unquoted); the same fields signed by mod_auth_tkt's rule are refused in that form, and
    accepted in base64 (Apache's form), with the literal user id."""
    secret = SECRET.encode()
    factory = core.AuthTktFactory(secret, hashalg, timeout=0)
    apache_raw = factory.new("a%40b", (), "", NOW, raw=True)
    reading = ours(core, hashalg=hashalg).tickets.read(f"auth_tkt={apache_raw}", IPV4, NOW)
    assert (reading.identity, reading.reason) == (None, _pyramid_format.BAD_DIGEST)
    apache_b64 = factory.new("a%40b", (), "", NOW)
    assert ours(core, hashalg=hashalg).identify(request(f"auth_tkt={apache_b64}"))["userid"] == "a%40b"
    # Pyramid's AuthTicket with the user id a@b (written a%40b, hashed a@b): read as a@b.
    pyramid_raw = AuthTicket(secret, "a@b", "0.0.0.0", time=NOW, hashalg=hashalg).cookie_value()
    assert pyramid_raw[HEX_LEN[hashalg] + 8 :] == "a%40b!"
    assert ours(core, hashalg=hashalg).identify(request(f"auth_tkt={pyramid_raw}"))["userid"] == "a@b"


def test_user_data_with_bang_and_no_tokens(core):
    """Pyramid writes ``uid!a!b`` for data ``a!b`` without tokens and then misreads it; the
    codec writes ``uid!!a!b``, which both read correctly."""
    secret = SECRET.encode()
    factory = core.AuthTktFactory(secret, "sha512", timeout=0)
    ambiguous = AuthTicket(
        secret, "erin", "0.0.0.0", user_data="a!b", time=NOW, hashalg="sha512"
    ).cookie_value()
    reading = ours(core).tickets.read(f"auth_tkt={ambiguous}", IPV4, NOW)
    assert (reading.identity, reading.reason) == (None, _pyramid_format.BAD_DIGEST)
    clear = factory.new("erin", (), "a!b", NOW, raw=True)
    assert clear.endswith("erin!!a!b")
    identity = ours(core).identify(request(f"auth_tkt={clear}"))
    assert (identity["userid"], identity["tokens"], identity["userdata"]) == ("erin", [], "a!b")
    assert pyramid_authentication.parse_ticket(secret, clear, "0.0.0.0", "sha512")[3] == "a!b"


# -- strict reading ------------------------------------------------------------------------


def signed(core, written_uid, user_data, tokens=(), hashalg="sha512"):
    """A raw ticket with a good digest (mod_auth_tkt's rule = Pyramid's when no '%')."""
    return core.AuthTktFactory(SECRET.encode(), hashalg, timeout=0).new(
        written_uid, tokens, user_data, NOW, raw=True
    )


@pytest.mark.parametrize(
    ("written_uid", "user_data"),
    [
        ("YWxpY2U", "userid_type:b64unicode"),  # base64 without its padding
        ("YWxpY2U=\n", "userid_type:b64unicode"),
        ("/w==", "userid_type:b64unicode"),  # not UTF-8
        ("YWxpY2U=", "userid_type:b64unicode|userid_type:b64str"),  # two types
        ("alice", "userid_type:unicode"),  # Pyramid's helper fails with a TypeError (a 500)
        ("alice", "userid_type:pickle"),  # unknown
        ("012", "userid_type:int"),
        ("-0", "userid_type:int"),
        ("1e3", "userid_type:int"),
        ("9" * 65, "userid_type:int"),
    ],
)
def test_user_id_not_in_its_types_canonical_form_is_refused(core, written_uid, user_data):
    ticket = signed(core, written_uid, user_data)
    reading = ours(core).tickets.read(f"auth_tkt={base64.b64encode(ticket.encode()).decode()}", IPV4, NOW)
    assert (reading.identity, reading.reason) == (None, _pyramid_format.MALFORMED_TICKET)


def test_noncanonical_quoting_is_refused(core):
    """Pyramid unquotes anything; we accept only ``quote()``'s own output, so that no two
    cookie texts stand for one user id: %41 for 'A', lowercase hex, '+' for a space."""
    secret = SECRET.encode()
    for written, uid in (("%41", "A"), ("a%2fb", "a/b"), ("a%2Fb", "a/b"), ("%ZZ", "%ZZ"), ("%FF", "\ufffd")):
        ticket = AuthTicket(secret, uid, "0.0.0.0", time=NOW, hashalg="sha512").cookie_value()
        hex_end = HEX_LEN["sha512"] + 8
        forged = (
            ticket[:hex_end]
            + written
            + ticket[hex_end:].partition("!")[1]
            + ticket[hex_end:].partition("!")[2]
        )
        assert ours(core).tickets.read(f"auth_tkt={forged}", IPV4, NOW).identity is None, written


@pytest.mark.parametrize(
    "header",
    [
        "auth_tkt=",
        'auth_tkt="',
        'auth_tkt="abc',
        'auth_tkt="a\\x"',
        'auth_tkt="a\\0541"b"',
        "auth_tkt=a b",
        "auth_tkt=\x00",
        "auth_tkt=" + "a" * 5000,
        'auth_tkt="\\377\\376"',
        "auth_tkt=%21%21%21",
        "auth_tkt=!!!!",
        "auth_tkt=" + "0" * 136 + "!!",
    ],
)
def test_malformed_cookies_are_anonymous(core, header):
    assert ours(core).identify(request(header)) is None


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.text(max_size=300), addr=st.one_of(st.none(), st.text(max_size=40), addresses))
def test_identify_never_raises(core, header, addr):
    helper = ours(core, include_ip=True)
    reading = helper.tickets.read(header, addr, NOW)
    assert reading.identity is None and reading.reason in (
        _pyramid_format.NO_COOKIE,
        _pyramid_format.DUPLICATE_COOKIE,
        _pyramid_format.MALFORMED_COOKIE,
        _pyramid_format.MALFORMED_TICKET,
        _pyramid_format.BAD_CLIENT_ADDRESS,
        _pyramid_format.BAD_DIGEST,
    )
    reading = helper.tickets.read("auth_tkt=" + header, addr, NOW)
    assert reading.identity is None


def test_duplicates_and_length_cap(core, frozen):
    cookie = pair(theirs().remember(request(), "alice"))
    other = pair(theirs().remember(request(), "mallory"))
    helper = ours(core)
    assert helper.identify(request(f"{cookie}; {cookie}"))["userid"] == "alice"  # one ticket, twice
    for header in (f"{cookie}; {other}", f"{other}; {cookie}"):
        assert helper.tickets.read(header, IPV4, NOW).reason == _pyramid_format.DUPLICATE_COOKIE
    assert ours(core, max_cookie_length=len(cookie) - 10).identify(request(cookie)) is None
    # The whole Cookie header is bounded too (a flood of cookies is refused unread).
    flood = "; ".join([cookie, *(f"c{i}=x" for i in range(4000))])
    assert len(flood) > 16384
    assert helper.tickets.read(flood, IPV4, NOW).reason == _pyramid_format.OVERSIZED_COOKIE
    assert ours(core, max_cookie_header=len(flood)).identify(request(flood))["userid"] == "alice"


# -- time: timeout, reissue, clock skew, fallback secrets ----------------------------------


def test_timeout_boundary_is_pyramids(core, frozen):
    cookie = pair(theirs().remember(request(), "alice"))
    for age, accepted in ((0, True), (600, True), (600.5, False), (601, False)):
        later = FrozenTime(NOW + age)
        assert (theirs(later, timeout=600).identify(request(cookie)) is not None) is accepted
        assert (ours(core, later, timeout=600).identify(request(cookie)) is not None) is accepted
    # A ticket from more than clock_skew in the future is refused (Pyramid accepts it).
    assert ours(core, FrozenTime(NOW - 61)).identify(request(cookie)) is None
    assert ours(core, FrozenTime(NOW - 60)).identify(request(cookie)) is not None


def app(helper, callback=None):
    """A Pyramid app: /login remembers, /logout forgets, /who shows the identity,
    /edit needs the 'edit' permission (an ACL on the root)."""

    class Root:
        def __init__(self, request):
            self.__acl__ = [(Allow, "group:editors", "edit"), (Deny, Everyone, ALL_PERMISSIONS)]

    with Configurator(root_factory=Root) as config:
        config.set_security_policy(TicketSecurityPolicy(helper, callback=callback))

        def view_login(request):
            from pyramid.security import remember

            userid = request.params["user"]
            tokens = [t for t in request.params.get("tokens", "").split(",") if t]
            request.response.headerlist.extend(remember(request, userid, tokens=tokens))
            request.response.text = "in"
            return request.response

        def view_logout(request):
            from pyramid.security import forget

            request.response.headerlist.extend(forget(request))
            request.response.text = "out"
            return request.response

        def view_who(request):
            request.response.text = repr(request.authenticated_userid)
            return request.response

        def view_edit(request):
            request.response.text = "edited"
            return request.response

        config.add_route("login", "/login")
        config.add_route("logout", "/logout")
        config.add_route("who", "/who")
        config.add_route("edit", "/edit")
        config.add_view(view_login, route_name="login")
        config.add_view(view_logout, route_name="logout")
        config.add_view(view_who, route_name="who")
        config.add_view(view_edit, route_name="edit", permission="edit")
        return config.make_wsgi_app()


def call(wsgi, path, cookie=None, addr=IPV4):
    environ = {"HTTP_HOST": "www.example.com", "REMOTE_ADDR": addr}
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    return Request.blank(path, environ=environ).get_response(wsgi)


def test_reissue_after_reissue_time_and_on_fallback_secret(core):
    clock = FrozenTime(NOW)
    wsgi = app(ours(core, clock, reissue_time=120, timeout=1200))
    login = call(wsgi, "/login?user=alice&tokens=a,b")
    cookie = pair([("Set-Cookie", login.headers["Set-Cookie"])])
    clock.now = NOW + 120  # not older than reissue_time yet
    response = call(wsgi, "/who", cookie)
    assert (response.text, response.headers.getall("Set-Cookie")) == ("'alice'", [])
    clock.now = NOW + 121
    response = call(wsgi, "/who", cookie)
    (fresh,) = response.headers.getall("Set-Cookie")
    assert response.text == "'alice'"
    identity = theirs(FrozenTime(clock.now)).identify(request(fresh.split(";")[0]))
    assert identity["timestamp"] == NOW + 121 and identity["tokens"] == ["a", "b"]
    # Logging out in a request that would reissue sends only the expiring cookie.
    response = call(wsgi, "/logout", cookie)
    (expired,) = response.headers.getall("Set-Cookie")
    assert "Max-Age=0" in expired
    # A ticket signed by the retired secret is accepted, and reissued with the current one.
    rotated = TicketCookieHelper(
        "rotated secret", fallback_secrets=[SECRET], clock=clock.time, factory_class=core.AuthTktFactory
    )
    response = call(app(rotated), "/who", cookie)
    (fresh,) = response.headers.getall("Set-Cookie")
    assert response.text == "'alice'"
    assert AuthTktCookieHelper("rotated secret").identify(request(fresh.split(";")[0])) is not None


def test_policy_permits_via_acl_and_callback(core):
    groups = {"alice": ["group:editors"], "bob": []}
    wsgi = app(ours(core), callback=lambda userid, request: groups.get(userid))
    alice = pair([("Set-Cookie", call(wsgi, "/login?user=alice").headers["Set-Cookie"])])
    bob = pair([("Set-Cookie", call(wsgi, "/login?user=bob").headers["Set-Cookie"])])
    carol = pair([("Set-Cookie", call(wsgi, "/login?user=carol").headers["Set-Cookie"])])
    assert call(wsgi, "/edit", alice).status_int == 200
    assert call(wsgi, "/edit", bob).status_int == 403
    assert call(wsgi, "/edit").status_int == 403
    assert call(wsgi, "/who", bob).text == "'bob'"
    assert call(wsgi, "/who", carol).text == "None"  # the callback does not know carol


def test_policy_principals(core, frozen):
    policy = TicketSecurityPolicy(ours(core), callback=lambda userid, request: ["g"])
    # Pyramid's request.identity is the policy's identity(), computed once per request.
    req = types.SimpleNamespace(
        identity=policy.identity(request(pair(theirs().remember(request(), "alice"))))
    )
    assert policy.principals(req) == [Everyone, Authenticated, "alice", "g"]
    assert policy.authenticated_userid(req) == "alice"
    req = types.SimpleNamespace(identity=policy.identity(request()))
    assert (policy.principals(req), policy.authenticated_userid(req)) == ([Everyone], None)


# -- configuration --------------------------------------------------------------------------


def test_includeme_reads_settings(core):
    settings = {
        "ticket_auth.secret": SECRET,
        "ticket_auth.fallback_secrets": f"\n{OLD_SECRET}\n",
        "ticket_auth.hashalg": "sha256",
        "ticket_auth.timeout": "1200",
        "ticket_auth.reissue_time": "120",
        "ticket_auth.max_age": "",
        "ticket_auth.include_ip": "true",
        "ticket_auth.secure": "yes",
        "ticket_auth.http_only": "on",
        "ticket_auth.samesite": "Strict",
        "ticket_auth.write_form": "apache",
    }
    with Configurator(settings=settings) as config:
        config.include("ticket_auth.pyramid")
        config.commit()
        policy = config.registry.queryUtility(ISecurityPolicy)
    helper = policy.helper
    assert (helper.hashalg, helper.timeout, helper.reissue_time, helper.max_age) == (
        "sha256",
        1200,
        120,
        None,
    )
    assert (helper.include_ip, helper.secure, helper.http_only, helper.samesite) == (
        True,
        True,
        True,
        "Strict",
    )
    assert helper.write_form == "apache"
    old = TicketCookieHelper(OLD_SECRET, hashalg="sha256", include_ip=True)
    cookie = pair(old.remember(request(), "alice"))
    assert helper.identify(request(cookie))["userid"] == "alice"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ticket_auth.secret": None}, "ticket_auth.secret is required"),
        ({"ticket_auth.secret": "  "}, "ticket_auth.secret is required"),
        ({"ticket_auth.hashalg": "sha1"}, "hashalg must be one of 'md5', 'sha256', 'sha512'"),
        ({"ticket_auth.timeout": "soon"}, "ticket_auth.timeout must be a whole number of seconds"),
        ({"ticket_auth.timeout": "-1"}, "timeout must be an int number of seconds >= 0"),
        ({"ticket_auth.write_form": "paste"}, "write_form must be 'pyramid' or 'apache'"),
        ({"ticket_auth.samesite": "None"}, "samesite 'None' needs secure=True"),
        ({"ticket_auth.cookie_name": "a b"}, "cookie_name must be a non-empty HTTP token"),
        ({"ticket_auth.path": "app"}, "path must start with '/'"),
        ({"ticket_auth.hashaalg": "md5"}, "unknown setting 'ticket_auth.hashaalg'"),
        ({"ticket_auth.max_cookie_length": "0"}, "max_cookie_length must be an int number of bytes > 0"),
    ],
)
def test_bad_settings_are_configuration_errors(changes, message):
    settings = {"ticket_auth.secret": SECRET, **changes}
    settings = {key: value for key, value in settings.items() if value is not None}
    with pytest.raises(ConfigurationError, match=message) as info:
        ticket_pyramid.policy_from_settings(settings)
    assert SECRET not in str(info.value)


def test_callback_setting_is_a_dotted_name():
    with Configurator(
        settings={"ticket_auth.secret": SECRET, "ticket_auth.callback": "os.path:join"}
    ) as config:
        config.include("ticket_auth.pyramid")
        config.commit()
        policy = config.registry.queryUtility(ISecurityPolicy)
    import os.path

    assert policy.callback is os.path.join
    with pytest.raises(ConfigurationError, match=r"ticket_auth\.callback: cannot import"):
        with Configurator(
            settings={"ticket_auth.secret": SECRET, "ticket_auth.callback": "no_such.module:x"}
        ) as config:
            config.include("ticket_auth.pyramid")


def test_constructor_errors_never_show_the_secret():
    for kwargs in ({"hashalg": "sha1"}, {"timeout": "1"}, {"cookie_name": ""}, {"fallback_secrets": SECRET}):
        with pytest.raises((TypeError, ValueError)) as info:
            TicketCookieHelper(SECRET, **kwargs)
        assert SECRET not in str(info.value)
    helper = TicketCookieHelper(SECRET)
    assert SECRET not in repr(helper) and SECRET not in repr(helper.tickets)
    with pytest.raises(TypeError, match="secret must be str or bytes"):
        TicketCookieHelper(None)
    with pytest.raises(ValueError, match="secret must not be empty"):
        TicketCookieHelper(b"")


def test_no_warning_for_several_tokens():
    """WebOb warns about the comma of every ticket with two tokens that Pyramid's helper sets
    (``Cookie value contains invalid bytes``); ours quotes it the same way without the warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        headers = TicketCookieHelper(SECRET).remember(request(), "alice", tokens=["a", "b"])
    assert '\\054b!userid_type:b64unicode"' in headers[0][1]


# -- tickets Pyramid's AuthTicket writes (any user data), through WebOb's cookie quoting ------

raw_user_ids = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="!\x00"), min_size=1, max_size=16
)
user_datas = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=24)


@interop
@given(
    userid=raw_user_ids,
    tokens=token_lists,
    user_data=user_datas,
    hashalg=st.sampled_from(HASHALGS),
    addr=st.sampled_from([IPV4, IPV6]),
)
def test_authticket_any_user_data(core, userid, tokens, user_data, hashalg, addr):
    """Whatever Pyramid's own parse_ticket accepts of its AuthTicket (user ids with spaces, '@',
    non-ASCII; user data with '!', '|', non-ASCII) we accept with the same fields, and what it
    refuses (user data with '!' and no tokens: its ambiguous form) we refuse."""
    from webob.cookies import make_cookie

    assume("userid_type:" not in user_data and not user_data.endswith('"'))
    secret = SECRET.encode()
    raw = AuthTicket(
        secret, userid, addr, tokens=tokens, user_data=user_data, time=NOW, hashalg=hashalg
    ).cookie_value()
    header = make_cookie("auth_tkt", raw.encode("utf-8")).split(";", 1)[0]
    try:
        expected = pyramid_authentication.parse_ticket(secret, raw, addr, hashalg)
    except pyramid_authentication.BadTicket:
        expected = None
    reading = ours(core, hashalg=hashalg, include_ip=True).tickets.read(header, addr, NOW)
    if expected is None:
        assert reading.identity is None
        return
    assert expected[1] == userid
    identity = reading.identity
    assert identity is not None, reading.reason
    assert (identity["timestamp"], identity["userid"], identity["tokens"], identity["userdata"]) == (
        NOW,
        userid,
        tokens,
        user_data,
    )


def test_ipv6_binding_is_pyramids_in_both_forms(core, frozen):
    for form in ("pyramid", "apache"):
        helper = ours(core, include_ip=True, write_form=form)
        cookie = pair(helper.remember(request(addr=IPV6), "alice"))
        assert "!" in cookie  # Pyramid's raw form: mod_auth_tkt has no IPv6 digest
        assert theirs(include_ip=True).identify(request(cookie, IPV6))["userid"] == "alice"
        assert helper.identify(request(cookie, IPV6))["userid"] == "alice"
        assert helper.identify(request(cookie, "2001:db8::1")) is None
        assert helper.identify(request(cookie, IPV4)) is None
    # A base64 (mod_auth_tkt) cookie cannot be bound to an IPv6 client.
    apache = pair(ours(core, include_ip=True, write_form="apache").remember(request(addr=IPV4), "alice"))
    assert (
        ours(core, include_ip=True).tickets.read(apache, IPV6, NOW).reason
        == _pyramid_format.BAD_CLIENT_ADDRESS
    )
    assert ours(core, include_ip=True).identify(request(apache, IPV4))["userid"] == "alice"
