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
* ``validate`` reads every cookie form Apache reads (raw, base64 with or without padding,
  surrounding quotes, ``%21``-escaped); ``new`` writes base64 unless ``raw=True``.
* ``fallback_secrets`` (``TKTAuthSecretOld``): accepted by ``validate``, which then returns a
  ``FallbackAuthTktInfo`` (``info.fallback_secret_used``) so the caller can reissue.
* Values the format cannot carry (``!`` in the user id or a token, ``,`` in a token, NUL,
  text that is not UTF-8, an IPv6 address to bind, and in the raw form user data ending
  with ``"``, which Apache drops) are a ``ValueError`` when minting.
"""

from ._core import AuthTktFactory
from .ticket_info import AuthTktInfo, FallbackAuthTktInfo

__all__ = ["AuthTktFactory", "AuthTktInfo", "FallbackAuthTktInfo"]
