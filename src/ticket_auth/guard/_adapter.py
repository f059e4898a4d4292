"""Which paths an adapter hands to the policy's ``protect`` matching: every path a router
behind it may route on, the strictest requirement among them applying.

A request reaches a view through the path its router sees, which is not always the path the
server received: an ASGI app mounted at a ``root_path`` (uvicorn ``--root-path``, a Starlette
``Mount``, ``FastAPI(root_path=...)``) routes on the path without that prefix; a WSGI app
routes on ``PATH_INFO`` without ``SCRIPT_NAME`` (a gunicorn ``SCRIPT_NAME`` header, werkzeug's
``ProxyFix`` with ``X-Forwarded-Prefix``, waitress's ``url_prefix``); an aiohttp sub-application
routes on the path after its prefix; and werkzeug routes ``//admin/`` as ``/admin/``. The
adapters therefore collect the candidate paths (the full path, the path after each mount
prefix they can see, and the full path with empty and dot segments collapsed) and the request
must satisfy the strictest requirement any of them has. A path that none of them protects is
not protected; the usual request (no mount, a clean path) has one candidate and costs one
match, as before.
"""

from __future__ import annotations

from collections.abc import Callable

from . import CheckResult, TicketGuard

__all__ = ["add_mounted", "add_normalized", "check_paths", "require_guard"]


def require_guard(guard: object) -> TicketGuard:
    """``guard`` when it is a ``TicketGuard``; a TypeError that says what to pass otherwise.

    Args:
        guard: what a middleware was given as its guard.

    Returns:
        ``guard``.

    Raises:
        TypeError: ``guard`` is a factory, or anything else that is not a ``TicketGuard``.
    """
    if isinstance(guard, TicketGuard):
        return guard
    kind = type(guard).__name__
    if hasattr(guard, "validate") and hasattr(guard, "new"):
        raise TypeError(
            f"guard must be a TicketGuard, not a {kind}: wrap the factory in TicketGuard({kind}(...), ...)"
        )
    raise TypeError(f"guard must be a TicketGuard, not a {kind}: pass TicketGuard(factory, ...)")


def add_mounted(paths: list[str], path: str, prefix: str) -> None:
    """Append the path a router mounted at ``prefix`` routes on, when it differs from ``path``.

    Starlette's rule (and the WSGI and aiohttp ones, which never leave the prefix in): the
    prefix is removed when the path starts with it at a segment boundary; the path equal to
    the prefix is that router's root.

    Args:
        paths: the candidate list to extend (left alone when there is nothing to add).
        path: the full, decoded request path.
        prefix: the mount prefix, without a trailing slash ("" for none).
    """
    prefix = prefix.rstrip("/")
    if not prefix or not path.startswith(prefix):
        return
    rest = path[len(prefix) :]
    if not rest:
        rest = "/"
    elif rest[0] != "/":
        return
    if rest not in paths:
        paths.append(rest)


def _collapsed(path: str) -> str:
    """``path`` without empty and ``.`` segments, ``..`` resolved, one leading slash, and the
    trailing slash kept (what a router that normalizes could route on)."""
    segments: list[str] = []
    parts = path.split("/")
    for part in parts:
        if part == "" or part == ".":
            continue
        if part == "..":
            if segments:
                segments.pop()
            continue
        segments.append(part)
    trailing = bool(segments) and parts[-1] in ("", ".", "..")
    return "/" + "/".join(segments) + ("/" if trailing else "")


def add_normalized(paths: list[str]) -> None:
    """Append the collapsed form of every candidate that has empty or dot segments, or does
    not start with a slash (``//admin/``, ``/./admin/``, ``/x/../admin/``, ``admin/``).

    Args:
        paths: the candidate list, extended in place.
    """
    for path in list(paths):
        if "//" in path or "/." in path or not path.startswith("/"):
            collapsed = _collapsed(path)
            if collapsed not in paths:
                paths.append(collapsed)


def check_paths(
    guard: TicketGuard, result: CheckResult, paths: list[str], target: str | Callable[[], str] | None
) -> CheckResult:
    """The policy's decision when the request must satisfy the protection of every path in
    ``paths`` (at least one).

    Who the request is does not depend on the path: ``result`` (the guard's identification,
    status 0) is decided against the candidate whose required tokens include every other
    candidate's; when no candidate's do (two prefixes asking for different tokens), against
    each protected candidate in turn, and the first refusal stands.

    Args:
        guard: the policy.
        result: the identification, ``TicketGuard._identify_result`` or the compiled decision.
        paths: the candidate paths, the full request path first.
        target: the percent-encoded path and query for the back link (or a function giving
            it, called only for a redirect), or None.

    Returns:
        The ``CheckResult`` for the strictest requirement.
    """
    if len(paths) == 1:
        return guard._decide(result, paths[0], target)
    protected: list[tuple[str, frozenset[str]]] = []
    for path in paths:
        required = guard.required_tokens(path)
        if required is not None:
            protected.append((path, frozenset(required)))
    if not protected:
        return result
    for path, tokens in protected:
        if all(tokens >= other for _, other in protected):
            return guard._decide(result, path, target)
    for path, _ in protected[:-1]:
        decided = guard._decide(result, path, target)
        if decided.status:
            return decided
    return guard._decide(result, protected[-1][0], target)
