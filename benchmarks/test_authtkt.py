"""AuthTktFactory (mod_auth_tkt cookies): validate and new, per digest.

Group ``authtkt-{op}-{digest}``: the typical fields bound to an IPv4 address in a base64
cookie, against both floors (computed with mod_auth_tkt's hex inner digest).
"""

import pytest

import _bench


@pytest.mark.parametrize("impl", _bench.AUTHTKT_IMPLS)
@pytest.mark.parametrize("digest", _bench.AUTHTKT_DIGESTS)
@pytest.mark.parametrize("op", ["validate", "new"])
def test_authtkt(run_authtkt, op, digest, impl):
    run_authtkt(op, digest, impl)
