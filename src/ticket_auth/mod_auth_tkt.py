"""Apache mod_auth_tkt 2.x tickets, exactly as Apache mints and checks them.

    factory = AuthTktFactory(secret, "sha256")        # TKTAuthSecret, TKTAuthDigestType
    cookie = factory.new("alice", tokens=("admin",), client_ip="203.0.113.7")   # base64
    info = factory.validate(cookie, client_ip="203.0.113.7")   # or raises a TicketError

* ``digest`` is required (``"md5"``, ``"sha256"`` or ``"sha512"``, as ``TKTAuthDigestType``):
  MD5 is Apache's default but is never chosen silently here.
* ``timeout`` (seconds, default 7200 as ``TKTAuthTimeout``; 0 disables) applies to the
  ticket's timestamp, which is the issue time: Apache accepts while
  ``(timestamp + timeout) mod 2**32 >= now``.
* ``client_ip`` binds the ticket to an IPv4 address (``TKTAuthIgnoreIP off``); ``None``
  makes an unbound ticket (``TKTAuthIgnoreIP on``). mod_auth_tkt has no IPv6 form.
* ``validate`` reads every cookie form that Apache and its helper libraries write, and that
  Apache reads: raw, base64 with or without padding, surrounding quotes, ``%21``-escaped
  (``%XX`` in either case). ``new`` writes base64 unless ``raw=True``.
* ``validate`` is stricter than Apache on purpose, and only in these ways (each is checked
  against a real Apache by the test suite): it refuses, with a ``TicketParseError``,

  - base64 followed by anything outside the base64 alphabet (junk, spaces, a wrong amount of
    ``=`` padding or text after it), and base64 of 4k+1 characters: Apache decodes up to the
    first such character and drops a last lone character;
  - a ``%21``-escaped cookie with a ``%`` that does not start a ``%XX`` escape: Apache keeps
    that ``%`` as it is;
  - a NUL byte in the ticket (``%00``, or a NUL in the base64-decoded bytes): Apache reads only
    up to it and ignores the rest;
  - uppercase hex digits in the timestamp (Apache reads it with ``sscanf("%8x")``; the
    digest must be lowercase for both);
  - a user id, tokens or user data that are not UTF-8 (Apache passes bytes through; the
    fields here are str).

  Why: no writer produces these forms, and each one lets a ticket travel as many different
  cookie texts, or carry bytes that its digest does not cover. A reader that accepts exactly
  the canonical forms cannot be steered by such variants (a deny list of logged-out cookies
  cannot be bypassed by appending junk, say), and a cookie we accept is read exactly as Apache
  reads it. HTTP itself strips whitespace at the end of a Cookie header before Apache sees it,
  as web frameworks do when parsing cookies: pass ``validate`` the parsed cookie value.
* ``fallback_secrets`` (``TKTAuthSecretOld``): accepted by ``validate``, which then returns a
  ``FallbackAuthTktInfo`` (``info.fallback_secret_used``) so the caller can reissue.
* Values the format cannot carry (``!`` in the user id or a token, ``,`` in a token, NUL,
  text that is not UTF-8, an IPv6 address to bind, and in the raw form user data ending
  with ``"``, which Apache drops) are a ``ValueError`` when minting.
"""

from ._core import AuthTktFactory
from .ticket_info import AuthTktInfo, FallbackAuthTktInfo

__all__ = ["AuthTktFactory", "AuthTktInfo", "FallbackAuthTktInfo"]
