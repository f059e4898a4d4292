"""Installations, each into a fresh virtual environment, each then running the whole suite
(from the unpacked sdist, against the installed package):

* the sdist, with a C compiler: compiles the extension;
* the sdist, with no working C compiler (``CC=false``): succeeds, pure, with a warning;
* the pure py3-none-any wheel;
* the compiled wheel after ``auditwheel repair``: a manylinux wheel.

And under ``CIBUILDWHEEL=1`` a failed compile is an error, never a pure wheel.

The sdist is installed with ``--no-cache-dir``: pip caches the wheels it builds from a local
sdist, and a cached pure build would otherwise be reused by the compiled install (or the
reverse), and the check would pass for the wrong reason.
"""

import sys
import zipfile

import pytest

from _venv import Venv, clean_env, extra_requirements, project_version, run_suite

pytestmark = pytest.mark.packaging

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="CC and auditwheel are Linux's")

WARNING = "WARNING: the compiled core of ticket_auth could not be built"


@pytest.fixture(scope="session")
def test_requirements(dists):
    with zipfile.ZipFile(dists.wheel) as archive:
        metadata = next(
            archive.read(name).decode("utf-8") for name in archive.namelist() if name.endswith("/METADATA")
        )
    return extra_requirements(metadata, "test")


def _fresh_venv(path, test_requirements):
    env = Venv(path)
    env.pip("install", "--quiet", *test_requirements)
    return env


def _assert_installed(env, sdist_tree, core):
    """The package imports from the venv's site-packages (not from the source tree), with
    ``core`` active; the compiled core's file exists exactly when ``core`` is compiled."""
    active, package, compiled = env.installation(cwd=sdist_tree)
    assert active == core
    assert package.parent == env.site_packages()
    if core == "compiled":
        assert compiled is not None and compiled.parent == package and compiled.suffix in (".so", ".pyd")
    else:
        assert compiled is None, compiled


def test_sdist_install_compiles_the_extension_and_passes(dists, sdist_tree, test_requirements, workdir):
    env = _fresh_venv(workdir / "venv-sdist", test_requirements)
    env.pip("install", "--no-cache-dir", "--no-deps", dists.sdist, timeout=900)
    _assert_installed(env, sdist_tree, "compiled")
    run_suite(env, sdist_tree, require_extension=True)


@linux_only
def test_sdist_install_without_a_compiler_is_pure_with_a_warning(
    dists, sdist_tree, test_requirements, workdir
):
    env = _fresh_venv(workdir / "venv-no-compiler", test_requirements)
    # -v: pip shows a build's output only when asked (or when the build fails).
    proc = env.pip(
        "install", "-v", "--no-cache-dir", "--no-deps", dists.sdist, env=clean_env(CC="false"), timeout=900
    )
    output = proc.stdout + proc.stderr
    assert WARNING in output, output[-3000:]
    assert "pure-Python core" in output
    assert "C compiler is missing or failed" in output
    # The rebuild command names this version: a bare "ticket-auth" would install another one.
    assert f'--no-binary ticket-auth "ticket-auth=={project_version()}"' in output
    _assert_installed(env, sdist_tree, "pure")
    run_suite(env, sdist_tree, require_extension=False)


def test_pure_wheel_installs_and_passes(pure_wheel, sdist_tree, test_requirements, workdir):
    env = _fresh_venv(workdir / "venv-pure-wheel", test_requirements)
    env.pip("install", "--no-deps", pure_wheel)
    _assert_installed(env, sdist_tree, "pure")
    run_suite(env, sdist_tree, require_extension=False)


@linux_only
def test_auditwheel_repaired_wheel_is_manylinux_and_passes(
    tools, repaired_wheel, sdist_tree, test_requirements, workdir
):
    name = repaired_wheel.path.name
    platform_tag = name[: -len(".whl")].rsplit("-", 1)[1]
    assert all(tag.startswith("manylinux") for tag in platform_tag.split(".")), name
    show = tools.run("-m", "auditwheel", "show", repaired_wheel.path).stdout
    assert "is consistent with the following platform tag" in show, show
    env = _fresh_venv(workdir / "venv-manylinux", test_requirements)
    env.pip("install", "--no-deps", repaired_wheel.path)
    _assert_installed(env, sdist_tree, "compiled")
    run_suite(env, sdist_tree, require_extension=True)


@linux_only
def test_cibuildwheel_build_never_falls_back_to_pure(tools, dists, workdir):
    out = workdir / "cibuildwheel-no-compiler"
    env = clean_env(CIBUILDWHEEL="1", CC="false")
    args = ["wheel", "--no-deps", "--no-cache-dir", "--wheel-dir", out, dists.sdist]
    proc = tools.pip(*args, env=env, check=False, timeout=900)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, "a failed compile under CIBUILDWHEEL=1 must fail the build"
    assert "Command '['false'," in output, output[-3000:]  # the compiler (CC) that failed
    assert WARNING not in output
    assert not out.exists() or not list(out.glob("*.whl"))
