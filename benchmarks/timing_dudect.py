#!/usr/bin/env python3
"""dudect-style timing test of ``validate``: does rejecting a forged digest take a time that
depends on *where* the forged digest differs from the right one?

Method (Reparaz, Balasch, Verbauwhede, "Dude, is my code constant time?", DATE 2017):

* two classes of input, the same ticket with a wrong digest that differs from the right one
  only in its **first** hex character (class 0) or only in its **last** (class 1); an early-
  exit comparison would reject class 0 sooner;
* the classes are interleaved in a random order (pairs of one call of each class, each pair
  in a random order fixed per run by ``--seed``), so that drift in the machine's speed
  affects both alike; each call is timed with ``time.perf_counter_ns``, with the garbage
  collector off, after a warm-up; each class cycles through 64 equal copies of its ticket at
  different addresses, so that memory placement does not pass for a difference;
* Welch's t-test on the two samples, uncropped and cropped at the dudect percentiles
  (measurements above the p-th percentile dropped, which removes interrupts and other
  one-sided noise); the largest |t| over all crops is the statistic. Also printed: the same
  with a paired t-test on the per-pair differences, which cancels slow drift (on a shared,
  busy machine the unpaired test sees that drift as noise that is not independent, and its
  |t| runs high even between two identical inputs: ``--null`` measures that floor);
* verdict as in dudect: |t| < 4.5 is no evidence of a leak at this sample size; 4.5-10 is a
  possible leak (run again with more samples); > 10 is a leak.

The library compares digests in constant time (the compiled core decodes the hex digest to
bytes and ORs the XOR of every byte into a volatile accumulator, reading all of them; the
pure core uses ``hmac.compare_digest``), so the expected verdict is "no evidence". To show
that the measurement can see a leak of this size, ``--control`` adds a deliberately leaky
comparison (each target's own validate followed by 0.1.4's ``==`` on the hex digest, which
stops at the first difference): if dudect finds that few-nanosecond leak inside the
validate's own noise, its silence on the real comparison means something.

    python benchmarks/timing_dudect.py                    # 200,000 samples per class, all targets
    python benchmarks/timing_dudect.py --samples 1000000 --core compiled --factory ticket
    python benchmarks/timing_dudect.py --smoke            # CI: a few thousand samples, no verdict enforced
    python benchmarks/timing_dudect.py --json results/dudect.json

Exit status: 0, unless ``--fail-on-leak`` is given and some |t| > 10.

Reading the result: dudect's thresholds assume a quiet machine. On a shared one (other jobs
on the same cores) the statistic has a floor of its own, which ``--null`` measures: two
classes that are the *same* ticket. A position-dependent comparison shows as A/B values
well above that floor that grow with the number of samples (like ``--control``'s, which
reach |t| of 10-50 at 1,000,000 samples per class); values at or below the floor, that
change from run to run, are no evidence of a leak. For a verdict at dudect's 4.5, run on an
otherwise idle machine (``taskset -c 1 python benchmarks/timing_dudect.py --samples 1000000
--null --control``).
"""

import argparse
import bisect
import gc
import hashlib
import importlib
import json
import math
import platform
import random
import sys
import time

THRESHOLD_NO_EVIDENCE = 4.5
THRESHOLD_LEAK = 10.0
# dudect's cropping percentiles: 1 - 0.5 ** (10 * (i + 1) / 100), i = 0..99.
PERCENTILES = [1 - 0.5 ** (10 * (i + 1) / 100) for i in range(100)]

SECRET = b"dudect secret, long and random enough"
NOW = 1_700_000_000


class PrefixMoments:
    """Count, sum and sum of squares of the values up to each rank of a sorted list (exact
    integer arithmetic): the moments of any crop "values below a limit" in O(log n)."""

    def __init__(self, keys, values):
        order = sorted(range(len(keys)), key=keys.__getitem__)
        self.keys = [keys[i] for i in order]
        self.n, self.s1, self.s2 = [0], [0], [0]
        for i in order:
            value = values[i]
            self.n.append(self.n[-1] + 1)
            self.s1.append(self.s1[-1] + value)
            self.s2.append(self.s2[-1] + value * value)

    def below(self, limit):
        k = len(self.keys) if limit is None else bisect.bisect_left(self.keys, limit)
        return self.n[k], self.s1[k], self.s2[k]


def _mean_var(n, s1, s2):
    return s1 / n, (s2 - s1 * s1 / n) / (n - 1)


def welch_t(a, b):
    """Welch's t of two samples given as (count, sum, sum of squares)."""
    (na, a1, a2), (nb, b1, b2) = a, b
    if na < 2 or nb < 2:
        return 0.0
    (ma, va), (mb, vb) = _mean_var(na, a1, a2), _mean_var(nb, b1, b2)
    denominator = math.sqrt(va / na + vb / nb)
    return 0.0 if denominator == 0 else (ma - mb) / denominator


def paired_t(d):
    """One-sample t of the per-pair differences, given as (count, sum, sum of squares)."""
    m, d1, d2 = d
    if m < 2:
        return 0.0
    mean, var = _mean_var(m, d1, d2)
    return 0.0 if var <= 0 else mean / math.sqrt(var / m)


def analyse(classes, times):
    """dudect's statistic: the largest |Welch t| over the uncropped samples and the crops
    (measurements at or above the p-th percentile of all of them dropped); and the same with
    the paired test over the pairs (each pair is one call of each class, adjacent in time, so
    their difference cancels slow drift of the machine's speed; a pair is dropped when either
    of its calls is)."""
    ordered = sorted(times)
    n = len(ordered)
    crops = [("none", None)] + [(f"p{100 * p:.2f}", ordered[min(n - 1, int(p * n))]) for p in PERCENTILES]
    first = [t for c, t in zip(classes, times, strict=True) if c == 0]
    last = [t for c, t in zip(classes, times, strict=True) if c == 1]
    pairs = []
    for j in range(0, len(times), 2):
        x, y = (times[j], times[j + 1]) if classes[j] == 0 else (times[j + 1], times[j])
        pairs.append((x, y))
    moments0, moments1 = PrefixMoments(first, first), PrefixMoments(last, last)
    moments_d = PrefixMoments([max(x, y) for x, y in pairs], [x - y for x, y in pairs])
    welch = paired = None
    for name, limit in crops:
        a, b = moments0.below(limit), moments1.below(limit)
        t = welch_t(a, b)
        if welch is None or abs(t) > abs(welch[1]):
            welch = (name, t, a[0], b[0])
        d = moments_d.below(limit)
        t = paired_t(d)
        if paired is None or abs(t) > abs(paired[1]):
            paired = (name, t, d[0])
    return welch, paired


def verdict(t):
    t = abs(t)
    if t < THRESHOLD_NO_EVIDENCE:
        return "no evidence of a timing leak at this sample size"
    if t < THRESHOLD_LEAK:
        return "possible leak (|t| >= 4.5): run again with more samples"
    return "LEAK (|t| > 10)"


def flip(char):
    return "1" if char == "0" else "0"


def targets(core_names, factory_names, hashalg, authtkt_digest):
    """``(name, validate-callable, ticket class 0, ticket class 1, expected error)``."""
    from ticket_auth.exception import TicketDigestError

    modules = {"compiled": "ticket_auth._ticketcore", "pure": "ticket_auth._ticketcore_py"}
    for core in core_names:
        module = importlib.import_module(modules[core])
        if "ticket" in factory_names:
            factory = module.TicketFactory(SECRET, hashalg)
            good = factory.new(
                "alice@example.com", ("admin", "staff"), "display=Alice", NOW + 3600, "203.0.113.7"
            )
            hex_len = 2 * hashlib.new(hashalg).digest_size
            first = flip(good[0]) + good[1:]
            last = good[: hex_len - 1] + flip(good[hex_len - 1]) + good[hex_len:]

            def call(ticket, validate=factory.validate):
                return validate(ticket, "203.0.113.7", NOW)

            yield f"{core}/TicketFactory({hashalg})", call, first, last, TicketDigestError, good[:hex_len]
        if "authtkt" in factory_names:
            factory = module.AuthTktFactory(SECRET, authtkt_digest)
            good = factory.new("alice", ("admin", "staff"), "display=Alice", NOW, "203.0.113.7", raw=True)
            hex_len = 2 * hashlib.new(authtkt_digest).digest_size
            first = flip(good[0]) + good[1:]
            last = good[: hex_len - 1] + flip(good[hex_len - 1]) + good[hex_len:]

            def call(ticket, validate=factory.validate):
                return validate(ticket, "203.0.113.7", NOW)

            yield (
                f"{core}/AuthTktFactory({authtkt_digest})",
                call,
                first,
                last,
                TicketDigestError,
                good[:hex_len],
            )


COPIES = 64


def measure(call, inputs, expected_error, samples, warmup, rng):
    """Interleaved timings: (classes, times in ns).

    Each class's ticket is used as one of COPIES equal str objects at different addresses,
    in turn, so that where one object happens to sit in memory (cache sets, alignment)
    averages out instead of looking like a difference between the classes."""
    classes = []
    for _ in range(samples):  # pairs, each in a random order
        classes += (0, 1) if rng.random() < 0.5 else (1, 0)
    pool = []  # pool[2 * k + c]: class c's k-th copy, allocated alternately
    for _ in range(COPIES):
        for text in inputs:
            pool.append("".join(list(text)))
    timer = time.perf_counter_ns
    for i in range(warmup):
        try:
            call(pool[i % (2 * COPIES)])
        except expected_error:
            pass
    # The index of each call's object, computed beforehand: the timed loop is the same
    # for both classes, down to the bytecode.
    slots = [2 * (i % COPIES) + c for i, c in enumerate(classes)]
    times = [0] * len(classes)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i, slot in enumerate(slots):
            ticket = pool[slot]
            start = timer()
            try:
                call(ticket)
            except expected_error:
                pass
            times[i] = timer() - start
    finally:
        if gc_was_enabled:
            gc.enable()
    return classes, times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--samples", type=int, default=200_000, help="measurements per class (default 200000)"
    )
    parser.add_argument("--core", choices=["compiled", "pure", "both"], default="both")
    parser.add_argument("--factory", choices=["ticket", "authtkt", "both"], default="both")
    parser.add_argument("--hashalg", default="sha512", help="TicketFactory hash algorithm (default sha512)")
    parser.add_argument("--authtkt-digest", default="sha256", choices=["md5", "sha256", "sha512"])
    parser.add_argument("--seed", type=int, default=1, help="seed of the class order")
    parser.add_argument(
        "--control", action="store_true", help="also time a leaky == comparison (must be found)"
    )
    parser.add_argument(
        "--null", action="store_true", help="also run A/A tests (both classes the same ticket)"
    )
    parser.add_argument("--smoke", action="store_true", help="a quick run (3000 samples per class) for CI")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--fail-on-leak", action="store_true", help="exit 1 when some |t| > 10")
    args = parser.parse_args(argv)
    samples = 3000 if args.smoke else args.samples
    cores = ["compiled", "pure"] if args.core == "both" else [args.core]
    factories = ["ticket", "authtkt"] if args.factory == "both" else [args.factory]

    print(
        f"dudect timing of validate: {samples} samples per class, Python {platform.python_version()}, "
        f"{platform.machine()}, seed {args.seed}"
    )
    print("class 0: digest wrong in its first hex character; class 1: wrong in its last")
    report = {"samples_per_class": samples, "python": platform.python_version(), "results": []}
    worst = 0.0
    rng = random.Random(args.seed)
    rows = list(targets(cores, factories, args.hashalg, args.authtkt_digest))
    if args.control:
        for name, call, first, last, error, digest in list(rows):

            def leaky(ticket, right=digest, validate=call, error=error):
                # The same validate, then 0.1.4's comparison: == on the hex text, which
                # stops at the first different character (memcmp).
                try:
                    validate(ticket)
                except error:
                    pass
                if ticket[: len(right)] == right:
                    raise AssertionError("forged digest equals the right one")
                raise ValueError

            rows.append((f"CONTROL {name} + leaky ==", leaky, first, last, ValueError, digest))
    if args.null:
        # A/A test: both classes are the same forged ticket (two equal, distinct str objects).
        # Any |t| here is the measurement's own bias, the floor to read the others against.
        rows += [
            (f"NULL {name} (A/A)", call, first, "".join(list(first)), error, digest)
            for name, call, first, _last, error, digest in list(rows)
            if not name.startswith("CONTROL")
        ]
    for name, call, first, last, error, _digest in rows:
        classes, times = measure(call, (first, last), error, samples, min(samples, 20_000), rng)
        (crop, t, na, nb), (pcrop, pt, npairs) = analyse(classes, times)
        median0 = sorted(t for c, t in zip(classes, times, strict=True) if c == 0)[samples // 2]
        median1 = sorted(t for c, t in zip(classes, times, strict=True) if c == 1)[samples // 2]
        print(
            f"  {name:58s} Welch max|t| = {abs(t):6.2f} ({crop}); paired max|t| = {abs(pt):6.2f} ({pcrop}); "
            f"medians {median0}/{median1} ns -> {verdict(t)}"
        )
        report["results"].append(
            {
                "target": name,
                "welch_max_abs_t": abs(t),
                "welch_crop": crop,
                "n0": na,
                "n1": nb,
                "paired_max_abs_t": abs(pt),
                "paired_crop": pcrop,
                "pairs": npairs,
                "median_ns_first": median0,
                "median_ns_last": median1,
                "verdict": verdict(t),
            }
        )
        if name.startswith(("compiled", "pure")):
            worst = max(worst, abs(t))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)
    if args.fail_on_leak and worst > THRESHOLD_LEAK:
        print(f"FAIL: max |t| = {worst:.2f} > {THRESHOLD_LEAK}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
