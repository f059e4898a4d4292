"""Many threads sharing one factory, on both cores: every result is exactly what a single
thread gets.

``TICKET_AUTH_THREADS`` threads (default 8) share one ``TicketFactory`` and one
``AuthTktFactory`` and, for ``TICKET_AUTH_THREAD_SECONDS`` (default 3), call ``new``,
``validate`` and ``parse`` on a few hundred random inputs in random order: valid tickets of
every size (short, past the compiled core's 512-byte stack buffers, escaped fields), forged
ones, wrong addresses, expired ones, random text and bytes. Each outcome (result, or
exception type and message) is compared with the one computed beforehand in one thread. The
switch interval is made tiny so that threads interleave inside calls as much as the
interpreter allows; on a free-threaded build they run truly in parallel.

Two more tests mutate an argument in place while other threads read it (a bytearray ticket,
a token list): every outcome must be one that some state of the argument gives, and nothing
may crash.
"""

import itertools
import os
import random
import sys
import threading

import pytest

from _helpers import exact_outcome, outcome

THREADS = int(os.environ.get("TICKET_AUTH_THREADS") or 8)
SECONDS = float(os.environ.get("TICKET_AUTH_THREAD_SECONDS") or 3.0)

SECRET = b"thread-test secret"
OLD = b"thread-test old secret"
NOW = 1_700_000_000


def random_text(rng, alphabet, low, high):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


FIELD_ALPHABET = "abcXYZ019_.-~/ %!,é日\U0001f600\x00+"


def build_cases(core, rng):
    """``[(fn, args, expected outcome)]`` over one TicketFactory and one AuthTktFactory."""
    ticket_factory = core.TicketFactory(SECRET, "sha256", fallback_secrets=(OLD,), max_length=6000)
    old_factory = core.TicketFactory(OLD, "sha256")
    authtkt = core.AuthTktFactory(SECRET, "sha512", fallback_secrets=(OLD,), timeout=3600)
    old_authtkt = core.AuthTktFactory(OLD, "sha512")
    ips = [None, "10.1.2.3", "192.0.2.77", "2001:db8::5", 3232235777, "bad address"]
    cases = []
    for _ in range(160):
        size = rng.choice([(0, 8), (0, 40), (200, 700)])  # the last ones pass 512 bytes once quoted
        user_id = random_text(rng, FIELD_ALPHABET, *size)
        tokens = [random_text(rng, FIELD_ALPHABET, 0, 12) for _ in range(rng.randint(0, 4))]
        user_data = random_text(rng, FIELD_ALPHABET, *size)
        valid_until = rng.choice([NOW - 5, NOW + 5, NOW + 10**6, 0, 2**32 - 1])
        ip = rng.choice(ips[:-1])
        encoding = rng.choice(["utf-8", "utf-8", "utf-16", "latin-1"])
        signer = rng.choice([ticket_factory, ticket_factory, old_factory])
        args = (user_id, tokens, user_data, valid_until, ip, encoding)
        cases.append((signer.new, args))
        ticket = signer.new(*args)
        for check_ip in (ip, rng.choice(ips)):
            cases.append((ticket_factory.validate, (ticket, check_ip, NOW, encoding)))
        cases.append((ticket_factory.validate, (ticket.encode(), ip, NOW, encoding)))
        cases.append((ticket_factory.parse, (ticket,)))
        cases.append((ticket_factory.parse, (ticket.encode(),)))
        spot = rng.randrange(len(ticket))
        mutated = ticket[:spot] + rng.choice("0a!%,Z\x00é") + ticket[spot + 1 :]
        cases.append((ticket_factory.validate, (mutated, ip, NOW, encoding)))
        cases.append((ticket_factory.parse, (mutated,)))

        a_user = user_id.replace("!", "").replace("\x00", "")
        a_tokens = [t.replace("!", "").replace(",", "").replace("\x00", "") for t in tokens]
        a_data = user_data.replace("\x00", "")
        a_ip = rng.choice([None, "10.1.2.3", "192.0.2.77"])
        timestamp = rng.choice([NOW, NOW - 3599, NOW - 3601, NOW + 50])
        raw = rng.random() < 0.3 and not a_data.endswith('"')
        a_signer = rng.choice([authtkt, authtkt, old_authtkt])
        a_args = (a_user, a_tokens, a_data, timestamp, a_ip)
        cases.append((a_signer.new, a_args, {"raw": raw}))
        cookie = a_signer.new(*a_args, raw=raw)
        for check_ip in (a_ip, rng.choice(ips)):
            cases.append((authtkt.validate, (cookie, check_ip, NOW)))
        cases.append((authtkt.parse, (cookie,)))
        spot = rng.randrange(len(cookie))
        mutated = cookie[:spot] + rng.choice('0a!%="Z\x00é') + cookie[spot + 1 :]
        cases.append((authtkt.validate, (mutated, a_ip, NOW)))
        # Random junk of every kind.
        junk = rng.choice(
            [
                random_text(rng, "0123456789abcdef!%2C", 0, 200),
                bytes(rng.randrange(256) for _ in range(rng.randint(0, 120))),
                random_text(rng, FIELD_ALPHABET + "\ud800", 0, 100),
            ]
        )
        cases.append((ticket_factory.validate, (junk, None, NOW)))
        cases.append((authtkt.validate, (junk, None, NOW)))
    full = []
    for case in cases:
        fn, args = case[0], case[1]
        kwargs = case[2] if len(case) > 2 else {}
        full.append((fn, args, kwargs, exact_outcome(fn, *args, **kwargs)))
    return full


def run_threads(work, count=THREADS, seconds=SECONDS):
    """Start ``count`` threads on ``work(index, stop)`` with a tiny switch interval; return
    the errors they reported."""
    errors = []
    barrier = threading.Barrier(count)
    stop = threading.Event()

    def target(index):
        try:
            barrier.wait()
            work(index, stop)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(f"thread {index}: {exc!r}"[:2000])
            stop.set()

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        stop.wait(seconds)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    finally:
        sys.setswitchinterval(old_interval)
    return errors


def test_shared_factories_give_single_threaded_results(core):
    cases = build_cases(core, random.Random(20240611))
    assert any(expected[0] == "ok" for *_, expected in cases)
    assert any(expected[0] == "raise" for *_, expected in cases)
    done = [0] * THREADS

    def work(index, stop):
        rng = random.Random(index)
        order = list(range(len(cases)))
        while not stop.is_set():
            rng.shuffle(order)
            for i in order:
                fn, args, kwargs, expected = cases[i]
                got = exact_outcome(fn, *args, **kwargs)
                if got != expected:
                    raise AssertionError(f"{fn.__qualname__}{args!r:.300}: {got!r:.300} != {expected!r:.300}")
                done[index] += 1
                if stop.is_set():
                    return

    errors = run_threads(work)
    assert not errors, errors
    assert all(done), done
    print(f"{core.name}: {sum(done)} checked calls in {THREADS} threads")


def test_bytearray_ticket_mutated_while_validated(core):
    """A bytearray ticket that another thread flips between a good and a forged digest:
    each validate sees one state or the other (a private copy), never a crash."""
    factory = core.TicketFactory(SECRET, "sha256")
    authtkt = core.AuthTktFactory(SECRET, "md5")
    good = factory.new("alice", ("admin",), "x" * 600, NOW + 100, "10.0.0.1").encode()
    forged = bytes([good[0] ^ 1]) + good[1:]
    cookie = authtkt.new("alice", ("admin",), "y" * 600, NOW, "10.0.0.1").encode()
    forged_cookie = cookie[:-1] + bytes([cookie[-1] ^ 1])
    shared = bytearray(good)
    shared_cookie = bytearray(cookie)
    # Outcomes by exception class name and message: the error holds the shared bytearray,
    # which keeps changing after the error is raised.
    allowed = {
        outcome(factory.validate, good, "10.0.0.1", NOW),
        outcome(factory.validate, forged, "10.0.0.1", NOW),
    }
    allowed_cookie = {
        outcome(authtkt.validate, cookie, "10.0.0.1", NOW),
        outcome(authtkt.validate, forged_cookie, "10.0.0.1", NOW),
    }
    assert ("raise", "TicketDigestError", "Invalid digest") in allowed and len(allowed) == 2
    assert len(allowed_cookie) == 2

    def work(index, stop):
        if index == 0:
            while not stop.is_set():
                shared[0] ^= 1
                shared_cookie[-1] ^= 1
            return
        while not stop.is_set():
            got = outcome(factory.validate, shared, "10.0.0.1", NOW)
            if got not in allowed:
                raise AssertionError(got)
            got = outcome(authtkt.validate, shared_cookie, "10.0.0.1", NOW)
            if got not in allowed_cookie:
                raise AssertionError(got)

    errors = run_threads(work, count=4, seconds=min(SECONDS, 1.0))
    assert not errors, errors


def test_token_list_mutated_while_minting(core):
    """``new`` snapshots a token list that another thread keeps changing: the ticket is one
    that some combination of the list's values gives."""
    factory = core.TicketFactory(SECRET, "sha256")
    choices = [("a", "bb" * 300), ("c", "dd" * 300)]
    tokens = [choices[0][0], choices[1][0]]
    allowed = {factory.new("u", list(combo), "", NOW) for combo in itertools.product(*choices)}

    def work(index, stop):
        if index == 0:
            flip = 0
            while not stop.is_set():
                flip ^= 1
                tokens[0] = choices[0][flip]
                tokens[1] = choices[1][1 - flip]
            return
        while not stop.is_set():
            ticket = factory.new("u", tokens, "", NOW)
            if ticket not in allowed:
                raise AssertionError(ticket[:200])
            factory.validate(ticket, None, NOW - 1)

    errors = run_threads(work, count=4, seconds=min(SECONDS, 1.0))
    assert not errors, errors


@pytest.mark.skipif(not hasattr(sys, "_is_gil_enabled"), reason="free-threading needs Python 3.13+")
def test_free_threaded_build_keeps_gil_off(core):
    """On a free-threaded build, importing the compiled core must not turn the GIL back on
    (it declares itself free-threading compatible)."""
    if sysconfig_gil_disabled() is False:
        pytest.skip("not a free-threaded build")
    assert not sys._is_gil_enabled()


def sysconfig_gil_disabled():
    import sysconfig

    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def test_guard_shared_while_factory_rotates(core, kind):
    """One TicketGuard shared by many threads calling check, the compiled decision's
    check_lines and enter (or, on the pure core, the ASGI adapter's Python reading) on valid,
    fallback-secret, reissue-due, forged and malformed cookies, while another thread rotates
    ``guard.factory`` back and forth (which rebuilds ``guard._core``): every result is what one
    of the two configurations gives, as a pure guard computes it beforehand."""
    from ticket_auth import _ticketcore_py as pure
    from ticket_auth.guard import TicketGuard
    from ticket_auth.guard.asgi import GUARD_KEY, SCOPE_KEY, _identify_scope

    new_secret = b"thread-test new secret"
    now = 1_780_000_000

    def factory(module, secret, fallbacks=()):
        if kind == "ticket":
            return module.TicketFactory(secret, "sha256", fallback_secrets=fallbacks)
        return module.AuthTktFactory(secret, "sha256", fallback_secrets=fallbacks, timeout=3600)

    options = dict(secure=False, lifetime=3600, clock=lambda: now)
    # Configuration A signs with SECRET; B with a new secret, SECRET being its fallback.
    configs = [(SECRET, ()), (new_secret, (SECRET,))]
    factories = [factory(core.module, *config) for config in configs]
    references = [TicketGuard(factory(pure, *config), **options) for config in configs]
    guard = TicketGuard(factories[0], **options)

    def cookie(secret, age):
        minter = TicketGuard(factory(pure, secret), secure=False, lifetime=3600)
        return minter.remember("alice", ("admin",), "d", now=now - age).split(";", 1)[0]

    fresh = cookie(SECRET, 10)
    headers = [
        fresh,
        cookie(SECRET, 3000),  # reissue due
        cookie(new_secret, 10),
        f"a=1; {cookie(new_secret, 3000)}",
        fresh[:-2] + ("A" if fresh[-2] != "A" else "B") + fresh[-1],  # forged
        f"{fresh}; {fresh}",  # duplicate
        'auth_tkt="\\q"',  # malformed
        "a=1",
    ]
    cases = []
    for header in headers:
        answers = [reference.check(header) for reference in references]
        lines = [(b"cookie", part.encode()) for part in header.split("; ")]
        cases.append((header, [(b"host", b"x"), *lines], answers))
    reasons = {answer.reason for *_, answers in cases for answer in answers}
    assert {"ok", "duplicate cookie", "malformed cookie"} <= reasons and len(reasons) >= 5
    assert any(a.set_cookie for *_, answers in cases for a in answers)
    assert any(a != b for *_, (a, b) in cases)  # the rotation changes answers
    done = [0] * THREADS
    rotations = [0]

    def work(index, stop):
        if index == 0:  # the rotating thread
            while not stop.is_set():
                guard.factory = factories[rotations[0] % 2]
                if core.name == "compiled":
                    assert guard._core is not None
                rotations[0] += 1
            return
        rng = random.Random(index)
        while not stop.is_set():
            which = rng.randrange(len(cases))
            header, lines, answers = cases[which]
            scope = {"type": "http", "headers": lines, "client": ("10.1.2.3", 1)}
            got = [guard.check(header), _identify_scope(guard, scope)]
            decision, direct = guard._core, guard._direct
            if decision is not None:
                got.append(decision.check_lines(lines, None, None))
                got.append(decision.check_raw(tuple((n.title(), v) for n, v in lines), None, None))
            if direct is not None:
                entered = direct.enter(scope, SCOPE_KEY, GUARD_KEY, guard)
                got.append(entered[SCOPE_KEY] if type(entered) is dict else entered)
            for result in got:
                if result not in answers:
                    raise AssertionError(f"header {which}: {result!r} is neither of {answers!r}")
            done[index] += 1

    errors = run_threads(work, seconds=SECONDS / 3)  # six variants: a third of the others' time each
    assert not errors, errors
    assert all(done[1:]) and rotations[0] > 1, (done, rotations)
    print(f"{core.name}/{kind}: {sum(done)} checked requests, {rotations[0]} rotations")
