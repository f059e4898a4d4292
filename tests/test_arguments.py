"""Clear errors at the boundary: every bad argument of the constructor, ``new`` and ``validate``
gets its documented exception and message, the same in both cores; and the arguments that
are valid (client addresses in every form ipaddress takes, the ends of the time range, any
bytes-like secret, any case of a hash name) work alike.

Related: test_max_length.py, test_limits.py (hostile sizes), test_factory.py (re-initialising).
"""

import ipaddress
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _cases import BOUNDARY_CASES, SECRET
from _helpers import EXAMPLES


def _raise(case, factory_class):
    _, call, expected_type, pattern = case
    with pytest.raises(Exception) as info:
        call(factory_class)
    assert type(info.value) is expected_type or (
        expected_type is UnicodeEncodeError and isinstance(info.value, expected_type)
    ), repr(info.value)
    if pattern is not None:
        assert re.search(pattern, str(info.value)), str(info.value)
    return info.value


@pytest.mark.parametrize("case", BOUNDARY_CASES, ids=[case[0] for case in BOUNDARY_CASES])
def test_boundary_errors(core, case):
    _raise(case, core.TicketFactory)


@pytest.mark.parametrize("case", BOUNDARY_CASES, ids=[case[0] for case in BOUNDARY_CASES])
def test_boundary_errors_same_in_both_cores(both_cores, case):
    compiled, pure = (_raise(case, c.TicketFactory) for c in both_cores)
    assert (type(compiled), str(compiled)) == (type(pure), str(pure))


_ip_like = st.one_of(
    st.text(alphabet="0123456789.", max_size=16),
    st.lists(st.integers(0, 300).map(str), min_size=3, max_size=5).map(".".join),
    st.lists(
        st.sampled_from(["0", "00", "01", "1", "255", "256", "099", "1e1", " 1", "1 ", "+1", "٣"]),
        min_size=4,
        max_size=4,
    ).map(".".join),
    st.text(alphabet="0123456789abcdefABCDEF:.%xe \n", max_size=24),
    # IPv6 text: hex groups (sometimes too long or empty) joined by ':', with '::' here and there.
    st.lists(st.text(alphabet="0123456789abcdefABCDEF", max_size=5), max_size=10).map(":".join),
    st.builds(
        lambda a, b: ":".join(a) + "::" + ":".join(b),
        st.lists(st.text(alphabet="0123456789abcdef", min_size=1, max_size=4), max_size=8),
        st.lists(st.text(alphabet="0123456789ABCDEF", min_size=1, max_size=4), max_size=8),
    ),
)


@settings(max_examples=EXAMPLES)
@given(text=_ip_like)
def test_client_ip_text_parsed_exactly_like_ipaddress(core, text):
    """Both cores take a fast path for IPv4 text (and the compiled core for plain IPv6 text);
    it must agree with ipaddress, valid or not."""
    factory = core.TicketFactory(SECRET, "md5")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        with pytest.raises(ValueError):
            factory.new("u", valid_until=1, client_ip=text)
        with pytest.raises(ValueError):
            factory.validate(factory.new("u", valid_until=1), text, 0)
    else:
        ticket = factory.new("u", valid_until=1, client_ip=text)
        assert ticket == factory.new("u", valid_until=1, client_ip=address)
        assert ticket == factory.new("u", valid_until=1, client_ip=address.packed)
        assert factory.validate(ticket, address, 0).user_id == "u"
        assert factory.validate(ticket, text, 0).user_id == "u"


def test_valid_until_range_ends_are_accepted(core):
    factory = core.TicketFactory(SECRET)
    assert factory.new("u", valid_until=0)[128:136] == "00000000"
    assert factory.new("u", valid_until=2**32 - 1)[128:136] == "ffffffff"
    assert factory.new("u", valid_until=4294967295.9)[128:136] == "ffffffff"


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_bytes_like_secret(core, kind):
    reference = core.TicketFactory(SECRET, "sha1")
    factory = core.TicketFactory(kind(SECRET), "sha1")
    ticket = factory.new("u", ["t"], "d", 1000, "1.2.3.4")
    assert ticket == reference.new("u", ["t"], "d", 1000, "1.2.3.4")
    assert reference.validate(ticket, "1.2.3.4", 999).user_id == "u"


def test_secret_is_copied(core):
    """Mutating the bytearray given as secret afterwards changes nothing."""
    secret = bytearray(SECRET)
    factory = core.TicketFactory(secret)
    before = factory.new("u", valid_until=9)
    secret[:] = b"x" * len(secret)
    assert factory.new("u", valid_until=9) == before


def test_hashalg_any_case(core):
    for name in ("SHA256", "Sha256", "sha256"):
        assert core.TicketFactory(SECRET, name).new("u", valid_until=1) == core.TicketFactory(
            SECRET, "sha256"
        ).new("u", valid_until=1)


def test_ipaddress_object_with_scope(core):
    factory = core.TicketFactory(SECRET)
    scoped = ipaddress.IPv6Address("fe80::1%eth0")
    ticket = factory.new("u", valid_until=5, client_ip=scoped)
    assert factory.validate(ticket, "fe80::1", 0).user_id == "u"
