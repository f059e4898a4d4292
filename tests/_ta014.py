"""Load the reference implementation, ticket_auth 0.1.4 from PyPI, as ``ticket_auth_014``.

The wheel is fetched once per run with ``pip download`` into a temporary directory (never
into the checkout) and unpacked there with its package directory renamed to
``ticket_auth_014``; its internal imports are relative, so it imports under that name next
to this project's ``ticket_auth``. Nothing of 0.1.4 is copied into this repository.

``TICKET_AUTH_TA014_DIR`` names the directory to use instead (kept, and reused by later runs).
Without it, the first process that needs 0.1.4 makes a temporary directory, removes it when
it exits, and sets ``TICKET_AUTH_TA014_DIR`` for its subprocesses (the packaging checks run the
suite again in fresh environments), so that one run downloads 0.1.4 once.

Used by ``conftest.py`` (the ``ta014`` fixture) and by ``make_golden_vectors.py``.
"""

import atexit
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REQUIREMENT = "ticket-auth==0.1.4"
MODULE_NAME = "ticket_auth_014"
ENV_DIR = "TICKET_AUTH_TA014_DIR"


def cache_dir():
    """The directory 0.1.4 is downloaded and unpacked into (made on first use)."""
    where = os.environ.get(ENV_DIR)
    if not where:
        where = tempfile.mkdtemp(prefix="ticket_auth-ta014-")
        atexit.register(shutil.rmtree, where, ignore_errors=True)
        os.environ[ENV_DIR] = where
    path = Path(where)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _wheel():
    wheels = sorted(cache_dir().glob("ticket_auth-0.1.4-*.whl"))
    return wheels[0] if wheels else None


def pip_download(requirement, dest, wheel, *options):
    """``pip download --no-deps requirement`` (with ``options``) into ``dest``, made if need
    be; ``wheel()`` finds the file it fetched there. None, or why it failed."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        *options,
        "--disable-pip-version-check",
        requirement,
        "-d",
        str(dest),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{' '.join(cmd)} could not run: {exc}"
    if proc.returncode != 0 or wheel() is None:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return f"{' '.join(cmd)} failed (exit {proc.returncode}): " + " | ".join(tail)
    return None


def _download():
    return pip_download(REQUIREMENT, cache_dir(), _wheel, "--only-binary=:all:")


def _unpack(wheel):
    """Unpack ``wheel`` into cache_dir()/site/ticket_auth_014 (atomically) and return site."""
    site = cache_dir() / "site"
    target = site / MODULE_NAME
    if (target / "ticket_factory.py").is_file():
        return site
    site.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="unpack-", dir=cache_dir()))
    try:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(scratch)
        package = scratch / "ticket_auth"
        if not (package / "ticket_factory.py").is_file():
            raise RuntimeError(f"{wheel.name} has no ticket_auth/ticket_factory.py")
        try:
            package.rename(target)
        except OSError:
            if not (target / "ticket_factory.py").is_file():  # lost a race: fine if it is there
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return site


def load():
    """Return ``(module, None)`` or ``(None, reason)``."""
    if MODULE_NAME in sys.modules:
        return sys.modules[MODULE_NAME], None
    wheel = _wheel()
    if wheel is None:
        error = _download()
        if error is not None:
            return None, error
        wheel = _wheel()
    try:
        site = _unpack(wheel)
        if str(site) not in sys.path:
            sys.path.insert(0, str(site))
        module = importlib.import_module(MODULE_NAME)
    except Exception as exc:  # noqa: BLE001 - reported to the caller as the reason
        return None, f"could not unpack/import {wheel}: {exc!r}"
    # Make sure this is 0.1.4 and not this project's package under another name.
    if Path(module.__file__).resolve().parent != (site / MODULE_NAME).resolve():
        return None, f"{MODULE_NAME} imported from an unexpected place: {module.__file__}"
    return module, None
