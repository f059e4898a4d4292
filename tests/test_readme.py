"""The README and the documentation pages as a newcomer reads them: every example runs, every
signature is the real one, every install command gives this version, and the dual-stack fix
does what it says.

* The ```python blocks of README.md and of each page of docs/ (docs/**/*.md) run as written,
  top to bottom in one namespace per page, on each core; the namespace's ``__name__`` is
  ``"readme_example"`` (so an ``if __name__ == "__main__":`` block, e.g. one that starts a
  server, is not run). A block that cannot run by itself (it needs a live server) is fenced
  ```{code-block} python (MyST) or ```py instead, and this test leaves it out. Keep those rare.
* The signatures of "The API at a glance" (docs/getting-started.md) are the pure core's,
  parameter for parameter (the compiled core is held to the same API by its stub, which
  stubtest checks in tests/packaging; the API reference renders the objects' own).
* A ``pip install``/``download``/``wheel`` that names ``ticket-auth`` (README, docs, setup.py's
  warning) gives a version of at least 1.0: a bare name installs 0.1.4 from PyPI.
"""

import ast
import inspect
import ipaddress
import re
import sys
import types
from pathlib import Path

import pytest

import ticket_auth
import ticket_auth.mod_auth_tkt
import ticket_auth.ticket_factory
from ticket_auth.cli import main as cli_main
from ticket_auth.exception import TicketDigestError, TicketError, TicketExpired, TicketParseError
from ticket_auth.ticket_info import AuthTktInfo, FallbackAuthTktInfo, FallbackTicketInfo, TicketInfo

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").rglob("*.md"))
GLANCE = ROOT / "docs" / "getting-started.md"  # "The API at a glance", and the dual-stack fix

FENCE = re.compile(r"^```(\S*)[^\n]*\n(.*?)^```\s*$", re.M | re.S)


def _blocks(path, language):
    text = path.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, match.start()) + 2, match.group(2))
        for match in FENCE.finditer(text)
        if match.group(1) == language
    ]


def _pages_with_examples():
    return [
        pytest.param(path, id=str(path.relative_to(ROOT)))
        for path in [README, *DOCS]
        if _blocks(path, "python")
    ]


@pytest.fixture
def active_core(core, monkeypatch):
    """Make ``core`` the one the public modules hand out, as if it were the active one."""
    for module in (ticket_auth, ticket_auth.ticket_factory):
        monkeypatch.setattr(module, "TicketFactory", core.module.TicketFactory)
    monkeypatch.setattr(ticket_auth.mod_auth_tkt, "AuthTktFactory", core.module.AuthTktFactory)
    return core


@pytest.mark.parametrize("path", _pages_with_examples())
def test_examples_run_as_written(active_core, path, monkeypatch):
    # The page's blocks run top to bottom in one module, registered in sys.modules as a real
    # module is (Pyramid's Configurator looks its caller's module up there).
    module = types.ModuleType("docs_example")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for line, code in _blocks(path, "python"):
        compiled = compile(code, f"{path.relative_to(ROOT)}, block at line {line}", "exec")
        exec(compiled, module.__dict__)  # noqa: S102 - the documentation's own examples


def test_readme_and_docs_have_examples():
    assert len(_blocks(README, "python")) >= 2
    assert sum(len(_blocks(path, "python")) for path in DOCS) >= 8


# --- the dual-stack fix ------------------------------------------------------------------------


def _fix_line():
    (line,) = [line for line in GLANCE.read_text(encoding="utf-8").splitlines() if "ipv4_mapped" in line]
    return line.split("#", 1)[0].strip()


@pytest.mark.parametrize(
    ("peer", "expected"),
    [
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("::FFFF:1.2.3.4", "1.2.3.4"),
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("::1", "::1"),
    ],
)
def test_dual_stack_fix_normalises_mapped_addresses_only(peer, expected):
    namespace = {"address": ipaddress.ip_address(peer)}
    exec(_fix_line(), namespace)  # noqa: S102 - the README's line
    assert namespace["client_ip"] == ipaddress.ip_address(expected)


def test_dual_stack_fix_makes_mapped_peers_validate(core):
    factory = core.TicketFactory(b"secret")
    authtkt = core.module.AuthTktFactory(b"secret", "sha256")
    ticket = factory.new("alice", client_ip="1.2.3.4", valid_until=2**31)
    cookie = authtkt.new("alice", client_ip="1.2.3.4")
    peer = "::ffff:1.2.3.4"
    # Without the fix, as the page says (and as in 0.1.4): another address to the digest.
    with pytest.raises(TicketDigestError):
        factory.validate(ticket, client_ip=peer, now=0)
    with pytest.raises(ValueError, match="IPv4 addresses only"):
        authtkt.validate(cookie, client_ip=peer)
    namespace = {"address": ipaddress.ip_address(peer)}
    exec(_fix_line(), namespace)  # noqa: S102 - the README's line
    assert factory.validate(ticket, client_ip=namespace["client_ip"], now=0).user_id == "alice"
    assert authtkt.validate(cookie, client_ip=namespace["client_ip"]).user_id == "alice"


# --- signatures --------------------------------------------------------------------------------

PURE = pytest.importorskip("ticket_auth._ticketcore_py")

# What each name in the API section stands for.
DOCUMENTED = {
    "TicketFactory": PURE.TicketFactory,
    "TicketFactory.new": PURE.TicketFactory.new,
    "TicketFactory.validate": PURE.TicketFactory.validate,
    "TicketFactory.parse": PURE.TicketFactory.parse,
    "AuthTktFactory": PURE.AuthTktFactory,
    "AuthTktFactory.new": PURE.AuthTktFactory.new,
    "AuthTktFactory.validate": PURE.AuthTktFactory.validate,
    "AuthTktFactory.parse": PURE.AuthTktFactory.parse,
    "TicketInfo": TicketInfo,
    "FallbackTicketInfo": FallbackTicketInfo,
    "AuthTktInfo": AuthTktInfo,
    "FallbackAuthTktInfo": FallbackAuthTktInfo,
    "TicketError": TicketError,
    "TicketParseError": TicketParseError,
    "TicketDigestError": TicketDigestError,
    "TicketExpired": TicketExpired,
    "ticket_auth.cli.main": cli_main,
}

SIGNATURE = re.compile(r"\*\*`((?:ticket_auth\.cli\.)?[A-Za-z]+(?:\.[a-z]+)?)(\([^`]*\))(?: -> [^`]+)?`\*\*")


def _api_section():
    text = GLANCE.read_text(encoding="utf-8")
    start = text.index("\n## The API at a glance\n")
    return text[start : text.index("\n## ", start + 1)]


def _documented():
    return dict(SIGNATURE.findall(_api_section()))


def _parameters(params):
    """``[(kind, name, default or None)]`` of a documented parameter list."""
    tree = ast.parse(f"def f{params}: pass").body[0].args
    result = []
    positional = tree.posonlyargs + tree.args
    defaults = [None] * (len(positional) - len(tree.defaults)) + [ast.literal_eval(d) for d in tree.defaults]
    for arg, default in zip(positional, defaults, strict=True):
        result.append(("positional", arg.arg, default))
    for arg, default in zip(tree.kwonlyargs, tree.kw_defaults, strict=True):
        result.append(("keyword", arg.arg, None if default is None else ast.literal_eval(default)))
    return result


def _actual(obj):
    result = []
    for parameter in inspect.signature(obj).parameters.values():
        kind = "keyword" if parameter.kind is parameter.KEYWORD_ONLY else "positional"
        default = None if parameter.default is parameter.empty else parameter.default
        result.append((kind, parameter.name, default))
    return result


def test_api_section_documents_every_public_callable():
    assert sorted(_documented()) == sorted(DOCUMENTED)


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_documented_signature_is_the_real_one(name):
    assert _parameters(_documented()[name]) == _actual(DOCUMENTED[name])


# --- install commands --------------------------------------------------------------------------

PIP = re.compile(r"pip (?:install|download|wheel)\b([^`\n&|;)\\]*)")  # to the end of the command
# Options whose value is the next word (not a requirement).
VALUE_OPTIONS = {"--no-binary", "--only-binary", "-r", "--requirement", "-c", "--constraint", "--group"}
VALUE_OPTIONS |= {"-d", "--dest", "-w", "--wheel-dir", "-t", "--target", "--python-version"}
VERSIONED = re.compile(r"ticket[-_.]auth(\[[^\]]*\])?\s*(==|>=|~=)\s*(\d+)(?:\.\d+)*", re.I)


def _texts():
    version = ticket_auth.__version__
    setup = (ROOT / "setup.py").read_text(encoding="utf-8").replace("{_version()}", version)
    texts = [("setup.py", setup)]
    for path in [README, *DOCS, *ROOT.glob("*/README.md"), *ROOT.glob("tests/*/README.md")]:
        texts.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    return texts


def _unversioned(args):
    """The words of a pip command's arguments that name ticket-auth without a version >= 1."""
    words = [word.strip("\"'") for word in args.split()]
    bad = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word in VALUE_OPTIONS:
            skip = True
            continue
        if word.startswith("-") or not re.match(r"ticket[-_.]auth\b", word, re.I):
            continue
        match = VERSIONED.fullmatch(word)
        if match is None or int(match.group(3)) < 1:
            bad.append(word)
    return bad


def test_install_commands_name_this_version():
    commands = 0
    for name, text in _texts():
        for match in PIP.finditer(text):
            commands += 1
            assert _unversioned(match.group(1)) == [], f"{name}: {match.group(0)!r}"
    assert commands >= 5


@pytest.mark.parametrize(
    ("args", "bad"),
    [
        (" ticket-auth", ["ticket-auth"]),
        (" --no-binary ticket-auth ticket-auth", ["ticket-auth"]),
        (' "ticket-auth==0.1.4"', ["ticket-auth==0.1.4"]),
        (' --no-binary ticket-auth "ticket-auth>=1.0"', []),
        (" ticket_auth==1.0.0", []),
        (' ".[test]"', []),
        (" .", []),
    ],
)
def test_install_command_check(args, bad):
    assert _unversioned(args) == bad
