"""The compiled core's two hash paths: OpenSSL's EVP functions called directly ("openssl")
and hashlib ("hashlib", also the pure core's only path).

The rest of the suite runs the compiled core on both paths (the ``core`` fixture's
"compiled" and "compiled-hashlib" variants). This file checks the choice itself: which
factories get the OpenSSL path, that every doubt (no symbols, an algorithm OpenSSL will not
fetch, a known-answer test that disagrees, a constructor that is not hashlib's own) keeps
hashlib silently, that both paths give identical results for every fixed-length algorithm
hashlib offers, and that the OpenSSL path is thread-safe and frees what it holds.
"""

import ctypes
import gc
import hashlib
import os
import random
import subprocess
import sys
import threading
import types

import pytest

from ticket_auth import TicketDigestError, TicketExpired

SECRET = b"hash-path secret"
OLD = b"hash-path old secret"
NOW = 1_700_000_000
UNTIL = 1_800_000_000


def fixed_length_algorithms():
    names = []
    for name in sorted(hashlib.algorithms_available):
        try:
            probe = hashlib.new(name)
        except ValueError:  # listed but refused (e.g. by a FIPS policy)
            continue
        if probe.digest_size and not probe.name.startswith("shake"):
            names.append(name)
    return names


ALGORITHMS = fixed_length_algorithms()
AUTHTKT_DIGESTS = ("md5", "sha256", "sha512")


def openssl_symbols_visible():
    """Whether libcrypto's EVP functions can be found through hashlib's _hashlib module, as
    the compiled core looks for them (False on Windows, or with a static OpenSSL)."""
    try:
        import _hashlib
    except ImportError:
        return False
    if sys.platform == "win32" or not getattr(_hashlib, "__file__", None):
        return False
    try:
        return hasattr(ctypes.CDLL(_hashlib.__file__), "EVP_DigestInit_ex")
    except OSError:
        return False


def openssl_error_queue_empty():
    import _hashlib

    library = ctypes.CDLL(_hashlib.__file__)
    library.ERR_peek_error.restype = ctypes.c_ulong
    return library.ERR_peek_error() == 0


@pytest.fixture
def compiled(compiled_core):
    return compiled_core.module


def both_paths(module, make):
    """``(openssl factory, hashlib factory)`` built by ``make(module)``."""
    fast = make(module)
    token = module._FORCE_HASHLIB.set(True)
    try:
        slow = make(module)
    finally:
        module._FORCE_HASHLIB.reset(token)
    assert slow.hash_path == "hashlib"
    return fast, slow


# --- which path a factory gets ------------------------------------------------------------------


def test_hash_path_of_the_core_fixture(core):
    factory = core.TicketFactory(SECRET, "sha512")
    authtkt = core.module.AuthTktFactory(SECRET, "sha256")
    if core.name == "pure" or core.hash_path == "hashlib":
        assert factory.hash_path == authtkt.hash_path == "hashlib"
    else:
        assert factory.hash_path in ("openssl", "hashlib")
        assert authtkt.hash_path == factory.hash_path


@pytest.mark.skipif(
    not openssl_symbols_visible(), reason="libcrypto's symbols are not visible through _hashlib"
)
@pytest.mark.parametrize("hashalg", ["sha512", "SHA256", "md5", "sha1", "sha3_256", "sha512_256"])
def test_openssl_path_where_hashlib_uses_openssl(compiled, hashalg):
    try:
        hashlib.new(hashalg)
    except ValueError:
        pytest.skip(f"{hashalg} is refused by this OpenSSL")
    assert compiled.TicketFactory(SECRET, hashalg).hash_path == "openssl"
    if hashalg.lower() in AUTHTKT_DIGESTS:
        assert compiled.AuthTktFactory(SECRET, hashalg).hash_path == "openssl"


@pytest.mark.parametrize("hashalg", ["blake2b", "blake2s"])
def test_builtin_algorithms_stay_on_hashlib(compiled, hashalg):
    """hashlib serves blake2 from its own module, not OpenSSL: so does the factory."""
    assert compiled.TicketFactory(SECRET, hashalg).hash_path == "hashlib"


def test_uninitialised_factory_reports_hashlib(compiled):
    assert compiled.TicketFactory.__new__(compiled.TicketFactory).hash_path == "hashlib"
    assert compiled.AuthTktFactory.__new__(compiled.AuthTktFactory).hash_path == "hashlib"


def test_pure_core_is_always_hashlib(pure_core):
    assert pure_core.TicketFactory(SECRET).hash_path == "hashlib"
    assert pure_core.module.AuthTktFactory(SECRET, "md5").hash_path == "hashlib"


def test_forcing_is_per_factory(compiled):
    before, forced = both_paths(compiled, lambda m: m.TicketFactory(SECRET))
    after = compiled.TicketFactory(SECRET)
    assert before.hash_path == after.hash_path
    assert forced.hash_path == "hashlib"
    ticket = before.new("u", valid_until=UNTIL)
    assert (
        forced.validate(ticket, now=NOW)
        == before.validate(ticket, now=NOW)
        == after.validate(ticket, now=NOW)
    )


@pytest.mark.parametrize(("value", "expected"), [("1", "hashlib"), ("", None)])
def test_environment_switch(compiled, value, expected):
    """TICKET_AUTH_FORCE_HASHLIB (read once, at import) keeps every factory on hashlib."""
    code = (
        "from ticket_auth import _ticketcore as c\n"
        "print(c.TicketFactory(b's').hash_path, c.AuthTktFactory(b's', 'md5').hash_path)\n"
    )
    # The subprocess imports the very package this process tested.
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(compiled.__file__)))
    env = dict(os.environ, TICKET_AUTH_FORCE_HASHLIB=value, PYTHONPATH=package_parent)
    env.pop("TICKET_AUTH_NO_EXTENSIONS", None)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    paths = set(result.stdout.split())
    if expected is None:
        expected = "openssl" if openssl_symbols_visible() else "hashlib"
    assert paths == {expected}, result.stdout


# --- every doubt keeps hashlib, silently and correctly ---------------------------------------


def check_same_as_pure(factory, pure_factory):
    ticket = factory.new("alice", ("admin", "a,b"), "x y", UNTIL, "10.1.2.3")
    assert ticket == pure_factory.new("alice", ("admin", "a,b"), "x y", UNTIL, "10.1.2.3")
    assert factory.validate(ticket, "10.1.2.3", NOW) == pure_factory.validate(ticket, "10.1.2.3", NOW)


@pytest.mark.parametrize("library", [None, "/nonexistent/libcrypto.so.3", "self"])
def test_symbols_not_found(compiled, pure_core, monkeypatch, library):
    """No library, one that is not loaded, or one without libcrypto's symbols."""
    path = compiled.__file__ if library == "self" else library
    monkeypatch.setattr(compiled, "_openssl_library", lambda: path)
    factory = compiled.TicketFactory(SECRET, "sha256")
    assert factory.hash_path == "hashlib"
    check_same_as_pure(factory, pure_core.TicketFactory(SECRET, "sha256"))
    assert compiled.AuthTktFactory(SECRET, "sha256").hash_path == "hashlib"


@pytest.mark.skipif(
    not openssl_symbols_visible(), reason="libcrypto's symbols are not visible through _hashlib"
)
@pytest.mark.parametrize(
    "openssl_name",
    [
        "NO-SUCH-DIGEST",  # the fetch fails (as FIPS refusing MD5 would)
        "SHA512",  # a digest of another size
        "SHA512-256",  # same size, other digests: the known-answer test disagrees
        "SHA3-256",
    ],
)
def test_fetch_failure_or_known_answer_mismatch(compiled, pure_core, monkeypatch, openssl_name):
    names = dict(compiled._OPENSSL_NAMES, sha256=openssl_name)
    monkeypatch.setattr(compiled, "_OPENSSL_NAMES", types.MappingProxyType(names))
    factory = compiled.TicketFactory(SECRET, "sha256")
    assert factory.hash_path == "hashlib"
    check_same_as_pure(factory, pure_core.TicketFactory(SECRET, "sha256"))
    # A refused fetch leaves nothing in OpenSSL's error queue for hashlib to trip on.
    assert openssl_error_queue_empty()
    assert hashlib.sha256(b"abc").hexdigest().startswith("ba7816bf")
    assert compiled.TicketFactory(SECRET, "sha512").hash_path == "openssl"


def test_unmapped_algorithm_stays_on_hashlib(compiled, monkeypatch):
    names = {k: v for k, v in compiled._OPENSSL_NAMES.items() if k != "sha512"}
    monkeypatch.setattr(compiled, "_OPENSSL_NAMES", types.MappingProxyType(names))
    assert compiled.TicketFactory(SECRET, "sha512").hash_path == "hashlib"


def test_a_constructor_other_than_hashlibs_is_called(compiled, pure_core, monkeypatch):
    """Only hashlib's own constructor is replaced: any other (a wrapper, a test double) is
    what the factory calls, twice per digest."""
    calls = []

    def constructor(data=b""):
        calls.append(len(data))
        return hashlib.sha256(data)

    monkeypatch.setattr(compiled, "resolve_hashalg", lambda name: (constructor, 32))
    factory = compiled.TicketFactory(SECRET, "sha256")
    assert factory.hash_path == "hashlib"
    assert calls == []  # choosing the path did not call it
    check_same_as_pure(factory, pure_core.TicketFactory(SECRET, "sha256"))
    assert len(calls) == 4


def test_openssl_names_are_read_only(compiled):
    with pytest.raises(TypeError):
        compiled._OPENSSL_NAMES["sha256"] = "SHA1"


# --- identical results on both paths ----------------------------------------------------------


def random_field(rng, low=0, high=40):
    alphabet = "abcXYZ019_.-~/ %!,é日\U0001f600+="
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


@pytest.mark.parametrize("hashalg", ALGORITHMS)
def test_both_paths_agree(compiled, pure_core, hashalg):
    fast, slow = both_paths(compiled, lambda m: m.TicketFactory(SECRET, hashalg, fallback_secrets=(OLD,)))
    signer = pure_core.TicketFactory(OLD, hashalg)
    pure = pure_core.TicketFactory(SECRET, hashalg, fallback_secrets=(OLD,))
    rng = random.Random(f"both paths {hashalg}")
    for i in range(60):
        args = (
            random_field(rng, 1),
            tuple(random_field(rng, 1, 10) for _ in range(rng.randint(0, 3))),
            random_field(rng, 0, 600 if i % 10 == 0 else 40),
            rng.randint(NOW, UNTIL),
            rng.choice([None, "10.1.2.3", "2001:db8::5"]),
        )
        encoding = rng.choice(["utf-8", "utf-8", "latin-1", "utf-16"])
        ticket = fast.new(*args, encoding=encoding)
        assert ticket == slow.new(*args, encoding=encoding) == pure.new(*args, encoding=encoding)
        old_ticket = signer.new(*args, encoding=encoding)
        for factory in (fast, slow):
            assert factory.validate(ticket, args[4], NOW, encoding) == pure.validate(
                ticket, args[4], NOW, encoding
            )
            info = factory.validate(old_ticket, args[4], NOW, encoding)
            assert info.fallback_secret_used and type(info) is type(
                pure.validate(old_ticket, args[4], NOW, encoding)
            )
            forged = ("1" if ticket[0] == "0" else "0") + ticket[1:]
            with pytest.raises(Exception) as fast_error:
                factory.validate(forged, args[4], NOW, encoding)
            with pytest.raises(Exception) as pure_error:
                pure.validate(forged, args[4], NOW, encoding)
            assert type(fast_error.value) is type(pure_error.value)
            assert str(fast_error.value) == str(pure_error.value)
            with pytest.raises(TicketExpired):
                factory.validate(ticket, args[4], UNTIL + 1, encoding)


@pytest.mark.parametrize("digest", AUTHTKT_DIGESTS)
def test_both_paths_agree_authtkt(compiled, pure_core, digest):
    fast, slow = both_paths(compiled, lambda m: m.AuthTktFactory(SECRET, digest, fallback_secrets=(OLD,)))
    pure = pure_core.module.AuthTktFactory(SECRET, digest, fallback_secrets=(OLD,))
    signer = pure_core.module.AuthTktFactory(OLD, digest)
    rng = random.Random(f"authtkt {digest}")
    alphabet = "abcXYZ019_.-~/ %,é日+="
    for _ in range(60):
        args = (
            "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 20))),
            tuple(
                "".join(rng.choice("abc19") for _ in range(rng.randint(1, 6)))
                for _ in range(rng.randint(0, 3))
            ),
            "".join(rng.choice(alphabet + "!") for _ in range(rng.randint(0, 40))),
            rng.randint(NOW - 100, NOW),
            rng.choice([None, "10.1.2.3"]),
        )
        cookie = fast.new(*args)
        assert cookie == slow.new(*args) == pure.new(*args)
        for factory in (fast, slow):
            assert factory.validate(cookie, args[4], NOW) == pure.validate(cookie, args[4], NOW)
            assert factory.validate(signer.new(*args), args[4], NOW).fallback_secret_used
            with pytest.raises(TicketDigestError):
                factory.validate(cookie, "10.9.9.9", NOW)


# --- threads and memory -----------------------------------------------------------------------


def test_threads_build_and_use_factories(compiled, pure_core):
    """Factories built and used concurrently (each __init__ fetches and self-tests)."""
    expected = {
        alg: pure_core.TicketFactory(SECRET, alg).new("u", ("t",), "d", UNTIL, "10.0.0.1")
        for alg in ALGORITHMS
    }
    failures = []
    barrier = threading.Barrier(8)

    def work(seed):
        rng = random.Random(seed)
        barrier.wait()
        for _ in range(40):
            alg = rng.choice(ALGORITHMS)
            factory = compiled.TicketFactory(SECRET, alg)
            if factory.new("u", ("t",), "d", UNTIL, "10.0.0.1") != expected[alg]:
                failures.append(alg)
            if factory.validate(expected[alg], "10.0.0.1", NOW).user_id != "u":
                failures.append(alg)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def rss():
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return None


@pytest.mark.skipif(rss() is None, reason="needs /proc/self/statm")
def test_factories_free_what_they_hold(compiled):
    """Building and dropping factories (each fetches an algorithm and opens _hashlib) does
    not grow the process."""

    def churn(count):
        for i in range(count):
            factory = compiled.TicketFactory(SECRET, ("sha512", "sha256", "md5")[i % 3])
            authtkt = compiled.AuthTktFactory(SECRET, "sha256")
            assert factory.validate(factory.new("u", valid_until=UNTIL), now=NOW).user_id == "u"
            del factory, authtkt
        gc.collect()

    churn(3000)
    before = rss()
    churn(20000)
    assert rss() - before < 2 * 1024 * 1024


MALLINFO2_FIELDS = (
    "arena",
    "ordblks",
    "smblks",
    "hblks",
    "hblkhd",
    "usmblks",
    "fsmblks",
    "uordblks",
    "fordblks",
)
MALLINFO2_FIELDS += ("keepcost",)


def malloc_in_use():
    """Bytes the C allocator has handed out (glibc's mallinfo2), or None."""
    try:
        libc = ctypes.CDLL(None)
        mallinfo2 = libc.mallinfo2
    except (OSError, AttributeError):
        return None

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in MALLINFO2_FIELDS]

    mallinfo2.restype = MallInfo2
    return mallinfo2().uordblks


@pytest.mark.skipif(malloc_in_use() is None, reason="needs glibc's mallinfo2")
def test_each_threads_context_is_freed_when_it_exits(compiled):
    """The OpenSSL path keeps one EVP context per thread; a thread's exit frees it."""
    factory = compiled.TicketFactory(SECRET, "sha512")
    ticket = factory.new("u", valid_until=UNTIL)

    def one_call():
        assert factory.validate(ticket, now=NOW).user_id == "u"

    def churn(count):
        for _ in range(count):
            thread = threading.Thread(target=one_call)
            thread.start()
            thread.join()
        gc.collect()

    churn(200)
    before = malloc_in_use()
    churn(3000)
    # A context (and its algorithm state) left behind per thread would be ~1 MB here.
    assert malloc_in_use() - before < 200_000


# --- expiry compared as C doubles -------------------------------------------------------------

NOWS = [
    0.0,
    -0.0,
    0.5,
    -0.5,
    -1.5,
    float(UNTIL) - 0.5,
    float(UNTIL),
    float(UNTIL) + 1e-6,
    1_700_000_000.999,
    2.0**32 - 0.5,
    2.0**32 + 7200.25,
    -(2.0**32) - 3.5,
    2.0**52 + 1,
    2.0**62 - 1024,
    2.0**62,
    -(2.0**62),
    -(2.0**62) + 1024,
    1e300,
    -1e300,
    float("inf"),
    float("-inf"),
    float("nan"),
    1e-300,
]


def outcome(call):
    try:
        return ("ok", tuple(call()))
    except Exception as exc:  # noqa: BLE001 - compared
        return ("raise", type(exc), str(exc))


@pytest.mark.parametrize("now", NOWS, ids=repr)
def test_float_now_as_pure(compiled, pure_core, now):
    """A float ``now`` is compared in C: exactly as the pure core compares it."""
    ticket = pure_core.TicketFactory(SECRET).new("u", valid_until=UNTIL)
    assert outcome(lambda: compiled.TicketFactory(SECRET).validate(ticket, now=now)) == outcome(
        lambda: pure_core.TicketFactory(SECRET).validate(ticket, now=now)
    )
    for timeout in (0, 1, 7200, 2**32 - 1):
        for timestamp in (0, 1_700_000_000, 2**32 - 1):
            cookie = pure_core.module.AuthTktFactory(SECRET, "sha256").new("u", timestamp=timestamp)
            fast = compiled.AuthTktFactory(SECRET, "sha256", timeout=timeout)
            slow = pure_core.module.AuthTktFactory(SECRET, "sha256", timeout=timeout)
            assert outcome(lambda f=fast, c=cookie: f.validate(c, now=now)) == outcome(
                lambda f=slow, c=cookie: f.validate(c, now=now)
            ), (timeout, timestamp)


def test_patched_clock_is_honoured(compiled, monkeypatch):
    ticket = compiled.TicketFactory(SECRET).new("u", valid_until=UNTIL)
    monkeypatch.setattr("time.time", lambda: float(UNTIL))
    with pytest.raises(TicketExpired):
        compiled.TicketFactory(SECRET).validate(ticket)
    monkeypatch.setattr("time.time", lambda: UNTIL - 1)  # an int clock: Python's comparison
    assert compiled.TicketFactory(SECRET).validate(ticket).user_id == "u"
