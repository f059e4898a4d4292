"""Shared fixtures: the two cores, the reference implementation 0.1.4, hypothesis profile.

Environment variables:

* ``TICKET_AUTH_REQUIRE_EXTENSION=1``: the compiled core must import; if it does not, every
  test parametrized with it fails instead of being skipped.
* ``TICKET_AUTH_OFFLINE=1``: if ticket_auth 0.1.4 cannot be downloaded, tests that need it
  are skipped (the golden vectors still run); otherwise they fail.
* ``TICKET_AUTH_HYPOTHESIS_EXAMPLES``: hypothesis ``max_examples`` for the main property
  tests (default 300); lighter property tests use a fraction of it.

Test tiers: ``python -m pytest`` runs the quick tier; tests marked ``slow`` (packaging builds in
fresh virtual environments, real Apache, real servers, the headless browser) are deselected by
the ``-m "not slow"`` in pyproject.toml's addopts and run with ``python -m pytest -m slow``
(``.ci/run`` runs both). A module that starts real servers says so itself with
``pytestmark = pytest.mark.slow``; ``pytest_collection_modifyitems`` below also marks any test
that uses one of the real-server fixtures (``SLOW_FIXTURES``) or is a packaging check, so that a
new module that forgets the mark still lands in the slow tier.
"""

import atexit
import dataclasses
import os
import shutil
import tempfile
import types

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

import _ta014
from _helpers import EXAMPLES, CountingHash
from ticket_auth._core import CORE_MODULES
from ticket_auth._core import load_core as load_core_module

# Hypothesis keeps caches (constants, Unicode tables) in ./.hypothesis even without a
# database: give it a temporary directory instead, so the run leaves the checkout as it was.
# (HYPOTHESIS_STORAGE_DIRECTORY, when set, still wins.)
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    _HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="ticket_auth-hypothesis-")
    atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)
    set_hypothesis_home_dir(_HYPOTHESIS_HOME)

settings.register_profile(
    "ticket_auth",
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # keep the working tree clean; failures print a reproducer blob
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("ticket_auth")

# Fixtures that start a real server (tests/_guard_helpers.py's server_fixture, named
# ``server`` by convention; tests/apache/server.py's ``apache_server``) or a browser
# (tests/test_docs.py): a test using any of them is in the slow tier.
SLOW_FIXTURES = frozenset({"server", "apache_server", "chromium"})


@pytest.hookimpl(tryfirst=True)  # before pytest's own -m selection reads the marks
def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("slow") is None and (
            item.get_closest_marker("packaging") is not None or SLOW_FIXTURES & set(item.fixturenames)
        ):
            item.add_marker(pytest.mark.slow)


CORE_NAMES = ("compiled", "pure")
# The ``core`` fixture's variants: each core, and the compiled core with its factories kept
# on the hashlib hash path (as TICKET_AUTH_FORCE_HASHLIB=1 does; see tests/test_hash_path.py).
CORE_VARIANTS = ("compiled", "compiled-hashlib", "pure")


def require_extension():
    return os.environ.get("TICKET_AUTH_REQUIRE_EXTENSION") == "1"


@dataclasses.dataclass(frozen=True)
class Core:
    """One implementation of the ticket core: its name ("compiled" or "pure"), its module,
    and the two factories it offers. Tests use ``core.TicketFactory`` and
    ``core.AuthTktFactory``; ``core.module`` is for what is not a factory (a module-level
    name to patch, the file it was loaded from)."""

    name: str
    module: types.ModuleType
    hash_path: str | None = None  # "hashlib": factories built during the test are forced onto it

    @property
    def TicketFactory(self):  # noqa: N802 - mirrors the module attribute
        return self.module.TicketFactory

    @property
    def AuthTktFactory(self):  # noqa: N802 - mirrors the module attribute
        return self.module.AuthTktFactory


def load_core(name):
    """The Core called ``name``; skips (or fails, when the extension is required)."""
    try:
        module = load_core_module(name)
    except ImportError as exc:
        if name == "compiled" and not require_extension():
            pytest.skip(f"compiled core ticket_auth._ticketcore is not built/importable: {exc}")
        pytest.fail(f"core {name!r} ({CORE_MODULES[name]}) failed to import: {exc!r}", pytrace=False)
    return Core(name, module)


@pytest.fixture(scope="session", params=CORE_VARIANTS)
def core(request):
    """Each core in turn (ids "compiled", "compiled-hashlib" and "pure").

    "compiled-hashlib" is the compiled core (``.name`` is "compiled") with every factory built
    while it is active on the hashlib hash path: the core's private context variable
    ``_FORCE_HASHLIB`` is set for as long as this fixture value lives (pytest finishes one
    parameter of a session fixture before it sets up the next).
    """
    name, _, forced = request.param.partition("-")
    loaded = load_core(name)
    if not forced:
        yield loaded
        return
    token = loaded.module._FORCE_HASHLIB.set(True)
    try:
        yield dataclasses.replace(loaded, hash_path=forced)
    finally:
        loaded.module._FORCE_HASHLIB.reset(token)


@pytest.fixture(scope="session")
def factory_cls(core):
    return core.TicketFactory


@pytest.fixture(scope="session")
def compiled_core():
    return load_core("compiled")


@pytest.fixture(scope="session")
def pure_core():
    return load_core("pure")


@pytest.fixture(scope="session")
def both_cores(compiled_core, pure_core):
    """``(compiled, pure)``, for tests that compare or cross the two cores."""
    return compiled_core, pure_core


@pytest.fixture(params=("ticket", "authtkt"))
def kind(request):
    """The guard tests' factory: the 0.1.4 format ("ticket") or mod_auth_tkt ("authtkt")."""
    return request.param


@pytest.fixture(scope="session")
def ta014():
    """ticket_auth 0.1.4 imported as ``ticket_auth_014``."""
    module, error = _ta014.load()
    if module is None:
        if os.environ.get("TICKET_AUTH_OFFLINE") == "1":
            pytest.skip(f"ticket_auth 0.1.4 unavailable (TICKET_AUTH_OFFLINE=1): {error}")
        pytest.fail(
            "ticket_auth 0.1.4 (the reference implementation) could not be fetched: "
            f"{error}\nSet TICKET_AUTH_OFFLINE=1 to skip the tests that need it.",
            pytrace=False,
        )
    return module


@pytest.fixture
def counting(core, monkeypatch):
    """Make the next factory built by ``core`` hash with a CountingHash of sha256 (returned)."""
    counter = CountingHash("sha256")
    monkeypatch.setattr(core.module, "resolve_hashalg", lambda name: (counter, 32))
    return counter
