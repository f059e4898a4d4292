"""The distributions: ``python -m build`` makes an sdist and a compiled wheel, the pure build
makes a py3-none-any wheel, twine accepts all of them, and each holds what it should."""

import email.parser
import re
import sys
import tarfile
import zipfile

import pytest

from _venv import ROOT, project_version

pytestmark = pytest.mark.packaging

VERSION = project_version()
PACKAGE_MODULES = sorted(path.name for path in (ROOT / "src" / "ticket_auth").glob("*.py"))
PACKAGE_STUBS = sorted(path.name for path in (ROOT / "src" / "ticket_auth").glob("*.pyi"))
# Anything a build or a test run leaves behind; none of it belongs in a distribution.
DEBRIS = re.compile(
    r"(^|/)(__pycache__|\.pytest_cache|\.hypothesis|\.benchmarks|\.mypy_cache|\.ruff_cache|\.venv"
    r"|\.git|build|dist|wheelhouse)(/|$)"
    r"|\.(pyc|pyo|so|pyd|dylib|o|obj|html)$"
    r"|^src/_ticketcore\.c$"
)


def _sdist_names(sdist):
    prefix = f"ticket_auth-{VERSION}/"
    with tarfile.open(sdist) as archive:
        members = [member for member in archive.getmembers() if member.isfile()]
    assert all(member.name.startswith(prefix) for member in members)
    return {member.name[len(prefix) :] for member in members}


def _wheel_names(wheel):
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _wheel_text(wheel, name):
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(f"ticket_auth-{VERSION}.dist-info/{name}").decode("utf-8")


def test_build_makes_an_sdist_and_a_platform_wheel(dists):
    assert dists.sdist.name == f"ticket_auth-{VERSION}.tar.gz"
    # A wheel with the compiled core is tagged for this interpreter and platform, never
    # py3-none-any.
    tag = dists.wheel.name[len(f"ticket_auth-{VERSION}-") : -len(".whl")]
    python, abi, platform = tag.split("-")
    impl = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    assert python == impl and abi.startswith(impl), tag
    assert platform != "any", tag
    assert "Root-Is-Purelib: false" in _wheel_text(dists.wheel, "WHEEL")
    # The wheel was built from the sdist (build's default), so the sdist builds.
    assert f"Successfully built ticket_auth-{VERSION}.tar.gz and {dists.wheel.name}" in dists.log


def test_twine_check_passes(tools, dists, pure_wheel):
    proc = tools.run("-m", "twine", "check", "--strict", dists.sdist, dists.wheel, pure_wheel)
    assert proc.stdout.count("PASSED") == 3, proc.stdout


def test_sdist_contains_sources_tests_and_license_and_no_debris(dists):
    names = _sdist_names(dists.sdist)
    required = {
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "setup.py",
        "MANIFEST.in",
        "PKG-INFO",
        "src/_ticketcore.pyx",
        "src/_ticketlib/evp.h",
        "src/_ticketlib/hashing.pxi",
        "src/ticket_auth/py.typed",
        *(f"src/ticket_auth/{name}" for name in PACKAGE_STUBS),
        *(f"src/ticket_auth/{name}" for name in PACKAGE_MODULES),
        # The whole test suite, including its data and these checks.
        *(
            path.relative_to(ROOT).as_posix()
            for pattern in ("*.py", "*.json")
            for path in (ROOT / "tests").rglob(pattern)
            if "__pycache__" not in path.parts
        ),
    }
    assert "tests/golden_vectors.json" in required and "tests/packaging/test_dist.py" in required
    assert sorted(required - names) == []
    assert sorted(name for name in names if DEBRIS.search(name)) == []
    # Metadata only under src/ticket_auth.egg-info (setuptools' own), nothing else generated.
    assert {name for name in names if ".egg-info/" in name} <= {
        f"src/ticket_auth.egg-info/{name}"
        for name in (
            "PKG-INFO",
            "SOURCES.txt",
            "dependency_links.txt",
            "entry_points.txt",
            "requires.txt",
            "top_level.txt",
        )
    }


def _metadata(wheel):
    return email.parser.Parser().parsestr(_wheel_text(wheel, "METADATA"))


def test_wheel_contents_and_metadata(dists):
    names = _wheel_names(dists.wheel)
    package = {name.split("/", 1)[1] for name in names if name.startswith("ticket_auth/")}
    compiled = [name for name in package if re.fullmatch(r"_ticketcore\..+\.(so|pyd)", name)]
    assert len(compiled) == 1, package
    assert "_ticketcore.pyi" in PACKAGE_STUBS
    assert package == {*PACKAGE_MODULES, *PACKAGE_STUBS, "py.typed", compiled[0]}
    dist_info = f"ticket_auth-{VERSION}.dist-info/"
    assert f"{dist_info}licenses/LICENSE" in names
    assert {name.split("/", 1)[0] for name in names} == {"ticket_auth", dist_info[:-1]}

    meta = _metadata(dists.wheel)
    assert meta["Name"] == "ticket-auth"
    assert meta["Version"] == VERSION
    assert meta["Requires-Python"] == ">=3.10"
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Description-Content-Type"] == "text/markdown"
    classifiers = set(meta.get_all("Classifier"))
    for minor in range(10, 15):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert "Programming Language :: Python :: Free Threading :: 2 - Beta" in classifiers
    assert "Typing :: Typed" in classifiers
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL"))
    assert {"Homepage", "Source", "Issues"} <= set(urls)
    assert "test" in meta.get_all("Provides-Extra")
    assert meta.get_all("Requires-Dist", []) and all(
        "extra ==" in requirement for requirement in meta.get_all("Requires-Dist")
    ), "ticket-auth has no runtime dependencies"
    entry_points = _wheel_text(dists.wheel, "entry_points.txt")
    assert re.search(r"^ticket-auth = ticket_auth\.cli:main$", entry_points, re.M)


def test_pure_wheel_is_py3_none_any(dists, pure_wheel):
    assert pure_wheel.name == f"ticket_auth-{VERSION}-py3-none-any.whl"
    wheel_file = _wheel_text(pure_wheel, "WHEEL")
    assert "Root-Is-Purelib: true" in wheel_file
    assert re.findall(r"^Tag: (.+)$", wheel_file, re.M) == ["py3-none-any"]
    names = _wheel_names(pure_wheel)
    assert not [name for name in names if name.endswith((".so", ".pyd", ".pyx", ".c"))]
    # The same files as the compiled wheel, but for the extension itself.
    compiled = {name for name in _wheel_names(dists.wheel) if not name.endswith((".so", ".pyd"))}
    assert names == compiled
    assert _metadata(pure_wheel).as_string() == _metadata(dists.wheel).as_string()
