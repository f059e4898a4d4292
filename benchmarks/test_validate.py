"""validate(): every implementation x hashalg x ticket size x client IP x outcome.

Group ``validate-{hashalg}-{size}-{ip}-{outcome}``; one benchmark per implementation. A
rejected ticket is timed through a wrapper that catches only the expected exception class.
"""

import pytest

import _bench


@pytest.mark.parametrize("impl", _bench.VALIDATE_IMPLS)
@pytest.mark.parametrize("outcome", _bench.OUTCOMES)
@pytest.mark.parametrize(("hashalg", "size", "ip"), _bench.CASE_PARAMS)
def test_validate(run_bench, hashalg, size, ip, outcome, impl):
    run_bench("validate", _bench.Case(hashalg, size, ip), impl, outcome)
