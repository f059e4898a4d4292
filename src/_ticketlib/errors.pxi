# Errors of the compiled core: the parse outcomes of the 0.1.4 format with their messages,
# and the exceptions, built as their __init__ would build them. Included by _ticketcore.pyx.

# The outcomes of _scan (scan.pxi), in the order it checks. Each code is paired with its
# message (ticket_auth._ticket_format's) by name, in _MESSAGE_OF right below, never by position.
cdef enum ScanOutcome:
    OK = 0
    E_TOO_SHORT
    E_BAD_DIGEST
    E_BAD_TIME
    E_MISSING_PARTS
    E_TOO_MANY_PARTS
    E_BAD_UID
    E_BAD_TOKENS
    E_BAD_DATA
    E_UID_NOT_UTF8
    E_TOKEN_NOT_UTF8
    E_DATA_NOT_UTF8
    SCAN_OUTCOMES            # the number of outcomes, OK included

_MESSAGE_OF = {
    E_TOO_SHORT: _ticket_format.TOO_SHORT,
    E_BAD_DIGEST: _ticket_format.BAD_DIGEST,
    E_BAD_TIME: _ticket_format.BAD_TIME,
    E_MISSING_PARTS: _ticket_format.MISSING_PARTS,
    E_TOO_MANY_PARTS: _ticket_format.TOO_MANY_PARTS,
    E_BAD_UID: _ticket_format.BAD_UID,
    E_BAD_TOKENS: _ticket_format.BAD_TOKENS,
    E_BAD_DATA: _ticket_format.BAD_DATA,
    E_UID_NOT_UTF8: _ticket_format.UID_NOT_UTF8,
    E_TOKEN_NOT_UTF8: _ticket_format.TOKEN_NOT_UTF8,
    E_DATA_NOT_UTF8: _ticket_format.DATA_NOT_UTF8,
}
if sorted(_MESSAGE_OF) != list(range(1, SCAN_OUTCOMES)):
    raise ImportError("every scan outcome but OK needs exactly one message")
# Indexed by outcome, for the error path.
cdef tuple _MESSAGES = tuple([_MESSAGE_OF.get(code) for code in range(SCAN_OUTCOMES)])

# The errors, built as their __init__ would build them (checked here, and by the tests).
cdef type _TicketParseError = TicketParseError
cdef type _TicketDigestError = TicketDigestError
cdef type _TicketExpired = TicketExpired
cdef str _DIGEST_MSG = TicketDigestError(None).msg
cdef str _EXPIRED_MSG = TicketExpired(None).msg
for _cls in (_TicketParseError, _TicketDigestError, _TicketExpired):
    if (<PyTypeObject*>_cls).tp_new != (<PyTypeObject*>BaseException).tp_new:
        raise ImportError(f"{_cls.__name__} must keep BaseException.__new__")


cdef inline object _parse_error(object ticket, object msg):
    return ta_ticket_error(_TicketParseError, (ticket, msg), "ticket", ticket, "msg", msg)


cdef inline object _digest_error(object ticket):
    return ta_ticket_error(_TicketDigestError, (ticket,), "ticket", ticket, "msg", _DIGEST_MSG)


cdef inline object _expired_error(object ticket):
    return ta_ticket_error(_TicketExpired, (ticket,), "ticket", ticket, "msg", _EXPIRED_MSG)
