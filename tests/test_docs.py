"""The documentation site (docs/): it builds, offline, with warnings as errors; its API reference
lists every public name; the docstrings it renders are the ones help() shows, the same in both
cores and in Google style; the README's relative links resolve; and a real browser renders the
built pages with the theme applied (slow tier).

The build runs ``python -m sphinx -W --keep-going -b html docs <tmpdir>`` with this interpreter,
documenting the same ``ticket_auth`` the tests import; nothing is written into the checkout.
(Every ```python block of the pages runs in tests/test_readme.py.)
"""

import html
import importlib
import inspect
import os
import pydoc
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ticket_auth

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
BROWSER = "/usr/bin/chromium"
REQUIRE_BROWSER = "TICKET_AUTH_REQUIRE_BROWSER"

pytestmark = pytest.mark.skipif(
    not (DOCS / "conf.py").exists(), reason="docs/ is not beside these tests (a copy of tests/ only)"
)

# The modules the API reference documents, and the optional ones (added by later changes).
MODULES = [
    "ticket_auth",
    "ticket_auth.ticket_factory",
    "ticket_auth.exception",
    "ticket_auth.mod_auth_tkt",
    "ticket_auth.cli",
    "ticket_auth.guard",
    "ticket_auth.guard.asgi",
    "ticket_auth.guard.wsgi",
    "ticket_auth.guard.aiohttp",
]
OPTIONAL_MODULES = ["ticket_auth.fastapi", "ticket_auth.django", "ticket_auth.pyramid"]


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The built site (its output directory)."""
    for module in ("sphinx", "furo", "myst_parser"):
        pytest.importorskip(module, reason=f"{module} is needed to build the docs: pip install '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ)
    # Document the ticket_auth these tests import (an in-place build or the installed one).
    package_parent = str(Path(ticket_auth.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(out / ".doctrees"), str(DOCS), str(out / "html")],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, f"sphinx-build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return out / "html"


def test_site_builds_without_warnings(site):
    for page in ("index", "getting-started", "api", "guides/flask", "guides/migrating", "changelog"):
        assert (site / f"{page}.html").is_file(), page
    assert "Getting started" in (site / "index.html").read_text(encoding="utf-8")
    # Offline: the theme's own assets, nothing loaded from another host.
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"""(?:src|href)=["']https?://[^"']*\.(?:css|js|woff2?)""", text), page


def _inventory(site):
    from sphinx.util.inventory import InventoryFile

    with open(site / "objects.inv", "rb") as stream:
        inventory = InventoryFile.load(stream, "", lambda base, uri: uri)
    return {name for entries in inventory.values() for name in entries}


def _resolve(dotted):
    """The object a documented dotted name stands for (None when it cannot be imported)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for part in parts[cut:]:
                obj = getattr(obj, part)
        except AttributeError:
            return None
        return obj
    return None


def _public_names(module):
    names = list(getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")])
    return names + (["__version__"] if module.__name__ == "ticket_auth" else [])


@pytest.mark.parametrize("module_name", MODULES + OPTIONAL_MODULES)
def test_api_reference_lists_every_public_name(site, module_name):
    """Each public name is documented under its own module, or is the very object documented
    under another name (the re-exports of 0.1.4's layout: ticket_factory, the package)."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if module_name in OPTIONAL_MODULES and exc.name == module_name:
            pytest.skip(f"{module_name} is not part of this version")
        raise
    documented = _inventory(site)
    assert module_name in documented
    objects = {}
    for name in documented:
        obj = _resolve(name)
        if obj is not None:
            objects.setdefault(id(obj), name)
    missing = [
        name
        for name in _public_names(module)
        if f"{module_name}.{name}" not in documented and id(getattr(module, name)) not in objects
    ]
    assert missing == []


def test_api_reference_shows_parameters(site):
    text = html.unescape(re.sub(r"<[^>]+>", "", (site / "api.html").read_text(encoding="utf-8")))
    for fragment in (
        "TicketFactory(secret, hashalg='sha512', *, fallback_secrets=(), max_length=None)",
        "new(user_id, tokens=None, user_data=None, valid_until=None, client_ip=None, encoding='utf-8')",
        "validate(ticket, client_ip=None, now=None, encoding='utf-8')",
        "AuthTktFactory(secret, digest, *, fallback_secrets=(), timeout=7200, max_length=None)",
        "Parameters",
        "Returns",
        "Raises",
    ):
        assert fragment in text, fragment


# --- docstrings: both cores, Google style, help() ------------------------------------------------

METHODS = ["new", "validate", "parse"]


def _doc(obj, name):
    """The docstring as help() shows it, without a signature line Cython embeds."""
    doc = inspect.getdoc(obj) or ""
    first, _, rest = doc.partition("\n")
    if re.match(rf"(?:\w+\.)?{re.escape(name)}\(", first):
        doc = rest.strip("\n")
    return doc


@pytest.mark.parametrize("factory", ["TicketFactory", "AuthTktFactory"])
def test_docstrings_are_the_same_in_both_cores(compiled_core, pure_core, factory):
    compiled, pure = getattr(compiled_core.module, factory), getattr(pure_core.module, factory)
    assert _doc(compiled, factory) == _doc(pure, factory)
    for name in [*METHODS, "hash_path"]:
        assert _doc(getattr(compiled, name), name) == _doc(getattr(pure, name), name), name


@pytest.mark.parametrize("factory", ["TicketFactory", "AuthTktFactory"])
def test_docstrings_are_google_style(core, factory):
    cls = getattr(core.module, factory)
    assert re.search(r"^Args:\n", _doc(cls, factory), re.M)
    assert re.search(r"^Raises:\n", _doc(cls, factory), re.M)
    for name in METHODS:
        doc = _doc(getattr(cls, name), name)
        for section in ("Args:", "Returns:", "Raises:"):
            assert f"\n{section}\n" in doc, (name, section)
        parameters = list(inspect.signature(getattr(cls, name)).parameters)[1:]  # not self
        for parameter in parameters:
            assert re.search(rf"^    {parameter}:", doc, re.M), (name, parameter)


@pytest.mark.parametrize("factory", ["TicketFactory", "AuthTktFactory"])
def test_help_is_self_contained(core, factory):
    """help() documents the call itself: no "See the README", no Cython internals."""
    text = pydoc.render_doc(getattr(core.module, factory), renderer=pydoc.plaintext)
    assert "README" not in text
    assert "__pyx_vtable__" not in text
    assert "Args:" in text and "Returns:" in text


# --- links -----------------------------------------------------------------------------------------

LINK = re.compile(r"\]\(([^)\s]+)\)")


def _relative_links(text):
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)  # not inside code blocks or spans
    text = re.sub(r"`[^`\n]*`", "", text)
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:|#", target)]


def test_readme_relative_links_resolve():
    links = _relative_links(README.read_text(encoding="utf-8"))
    assert len(links) >= 5
    for target in links:
        path = (README.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT), target
        assert path.exists(), f"README.md links to {target}, which does not exist"


def test_link_check_finds_a_broken_link(tmp_path):
    assert _relative_links("[a](docs/x.md) [b](https://e.org) [c](#top) `[d](y)`\n```\n[e](z)\n```\n") == [
        "docs/x.md"
    ]


# --- a real browser (slow tier) --------------------------------------------------------------------

# Run inside the page, after the theme's stylesheets (a script waits for the stylesheets
# before it): what the theme made of the layout.
PROBE = """<script>
document.documentElement.setAttribute("data-probe", [
  getComputedStyle(document.querySelector(".sidebar-drawer")).display,
  getComputedStyle(document.querySelector(".sidebar-tree")).display,
  getComputedStyle(document.body).fontFamily.split(",")[0],
].join("|"));
</script></body>"""


@pytest.fixture(scope="session")
def chromium():
    if not os.access(BROWSER, os.X_OK):
        reason = f"{BROWSER} is not installed (apt-get install chromium)"
        if os.environ.get(REQUIRE_BROWSER) == "1":
            pytest.fail(f"{reason} ({REQUIRE_BROWSER}=1)", pytrace=False)
        pytest.skip(reason)
    return BROWSER


def _browse(chromium, page, tmp_path, *extra):
    profile = tmp_path / "profile"
    proc = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--window-size=1280,900", *extra, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.parametrize(
    ("page", "expected"),
    [("index.html", "drop-in replacement"), ("guides/flask.html", "TicketAuthMiddleware")],
)
def test_browser_renders_the_site_with_its_theme(chromium, site, tmp_path, page, expected):
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    target = copy / page
    target.write_text(target.read_text(encoding="utf-8").replace("</body>", PROBE, 1), encoding="utf-8")
    dom = _browse(chromium, target, tmp_path, "--dump-dom")
    assert expected in dom
    assert 'class="sidebar-drawer"' in dom and 'class="sidebar-tree"' in dom  # Furo's layout
    probe = re.search(r'data-probe="([^"]*)"', dom)
    assert probe, dom[:2000]
    drawer, tree, font = probe.group(1).split("|")
    # Unstyled, the drawer is a plain block and the font the browser's serif default.
    assert drawer == "flex", probe.group(1)
    assert tree != "none" and "serif" != font.strip("\"' ").lower(), probe.group(1)
    screenshot = tmp_path / "page.png"
    _browse(chromium, copy / page, tmp_path, f"--screenshot={screenshot}")
    assert screenshot.stat().st_size > 10_000
    if os.environ.get("TICKET_AUTH_KEEP_SCREENSHOT"):  # to look at it yourself
        shutil.copy(screenshot, Path(os.environ["TICKET_AUTH_KEEP_SCREENSHOT"]) / page.replace("/", "-"))
