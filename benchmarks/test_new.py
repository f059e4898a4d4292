"""new(): every implementation x hashalg x ticket size x client IP.

Group ``new-{hashalg}-{size}-{ip}``. The floor is the same two digests validate needs: new
must compute them too (its hex output is part of new's own cost).
"""

import pytest

import _bench


@pytest.mark.parametrize("impl", _bench.NEW_IMPLS)
@pytest.mark.parametrize(("hashalg", "size", "ip"), _bench.CASE_PARAMS)
def test_new(run_bench, hashalg, size, ip, impl):
    run_bench("new", _bench.Case(hashalg, size, ip), impl)
