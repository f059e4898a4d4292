"""Fixtures and modes of the benchmark suite (see README.md in this directory).

Modes:

* **full** (``--benchmark-only``, or no benchmark flag): every benchmark is timed. Every
  implementation must be present (itsdangerous, pyramid: ``pip install -r
  benchmarks/requirements.txt``; the compiled core built), or the benchmarks needing it fail.
* **smoke** (``--benchmark-disable``, or ``BENCH_SMOKE=1``): each benchmark function runs
  once, with its result checked, and the target measurement runs a few short loops. Optional
  implementations and tools that are missing (itsdangerous, pyramid, aiohttp, wrk,
  matplotlib; the compiled core unless ``TICKET_AUTH_REQUIRE_EXTENSION=1``) are skipped with
  the reason.

``TICKET_AUTH_OFFLINE=1`` skips what needs ticket_auth 0.1.4 when it cannot be downloaded,
as in tests/.
"""

import importlib
import os

import pytest

import _bench

TARGETS_KEY = pytest.StashKey[list]()


def pytest_configure(config):
    if _bench.env_flag("BENCH_SMOKE"):
        config.option.benchmark_disable = True


def is_smoke(config):
    return bool(config.getoption("benchmark_disable", False)) and not config.getoption(
        "benchmark_enable", False
    )


@pytest.fixture(scope="session")
def smoke(request):
    """True in smoke mode: each benchmark runs once, missing optional pieces are skipped."""
    return is_smoke(request.config)


def unavailable(config, name, reason):
    """Skip or fail for an implementation or tool that cannot be loaded, by the rules above."""
    if name == _bench.V014 and os.environ.get("TICKET_AUTH_OFFLINE") == "1":
        pytest.skip(f"{reason} (TICKET_AUTH_OFFLINE=1)")
    if name == _bench.COMPILED and os.environ.get("TICKET_AUTH_REQUIRE_EXTENSION") == "1":
        pytest.fail(f"{reason} (TICKET_AUTH_REQUIRE_EXTENSION=1)", pytrace=False)
    if is_smoke(config) and name != _bench.V014:
        pytest.skip(f"smoke mode: {reason}")
    pytest.fail(f"{reason}\n(In smoke mode, --benchmark-disable, it would be skipped.)", pytrace=False)


@pytest.fixture(scope="session")
def load_impl(request):
    """load_impl(name) -> the implementation's adapter, or a skip/fail with the reason."""

    def load(name):
        try:
            return _bench.load_impl(name)
        except _bench.ImplUnavailableError as exc:
            unavailable(request.config, name, str(exc))

    return load


@pytest.fixture(scope="session")
def require_module(request):
    """require_module(name) -> the imported module, or a skip (smoke mode) / fail (full mode)."""

    def require(name):
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            unavailable(
                request.config,
                name,
                f"{name} is not installed ({exc}); `pip install -r benchmarks/requirements.txt`",
            )

    return require


@pytest.fixture
def run_bench(benchmark, load_impl):
    """run_bench(op, case, impl, outcome) checks the call once, then times it under its group."""

    def run(op, case, impl, outcome="valid"):
        load_impl(impl)
        bench = _bench.bench(impl, op, case, outcome)
        bench.check()  # real calls, the expected result, outside the timing
        benchmark.group = _bench.group_name(op, case, outcome)
        benchmark.extra_info.update(
            op=op,
            hashalg=case.hashalg,
            size=case.size,
            ip=case.ip_name if op != "parse" else None,
            outcome=outcome if op == "validate" else None,
            impl=impl,
        )
        benchmark(bench.run)

    return run


@pytest.fixture
def run_authtkt(benchmark, load_impl):
    """run_authtkt(op, digest, impl): the same for AuthTktFactory (group authtkt-{op}-{digest})."""

    def run(op, digest, impl):
        load_impl(impl)
        bench = _bench.authtkt_bench(impl, op, digest)
        bench.check()
        benchmark.group = f"authtkt-{op}-{digest}"
        benchmark.extra_info.update(
            op=f"authtkt-{op}", hashalg=digest, size="typical", ip="ipv4", outcome=None, impl=impl
        )
        benchmark(bench.run)

    return run


@pytest.fixture
def report_targets(request):
    """report_targets(lines): print these lines in the terminal summary at the end of the run."""
    config = request.config

    def report(lines):
        config.stash.setdefault(TARGETS_KEY, []).append(list(lines))

    return report


def pytest_collection_modifyitems(config, items):
    # The target measurement runs last, after the suite has warmed the machine up.
    items.sort(key=lambda item: item.path.name == "test_targets.py")


def pytest_benchmark_update_json(config, benchmarks, output_json):
    # --benchmark-json always saves every round's time (~25 KB a benchmark, ~30 MB a run);
    # report.py needs only the statistics. BENCH_KEEP_DATA=1 keeps the rounds.
    if _bench.env_flag("BENCH_KEEP_DATA"):
        return
    for bench in output_json.get("benchmarks", []):
        bench.get("stats", {}).pop("data", None)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    tables = config.stash.get(TARGETS_KEY, None)
    if not tables:
        return
    for lines in tables:
        terminalreporter.write_sep("=", "ticket_auth benchmark targets")
        for line in lines:
            terminalreporter.write_line(line)
