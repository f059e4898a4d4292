"""parse(): the fields without the digest or the time (ticket_auth implementations only).

Group ``parse-{hashalg}-{size}``. parse hashes nothing, so it has no floor; the client IP
plays no part in it.
"""

import pytest

import _bench


@pytest.mark.parametrize("impl", _bench.PARSE_IMPLS)
@pytest.mark.parametrize(("hashalg", "size"), [(h, s) for h in _bench.HASHALGS for s in _bench.SIZES])
def test_parse(run_bench, hashalg, size, impl):
    run_bench("parse", _bench.Case(hashalg, size, "ipv4"), impl)
