/* Python objects the request path returns or raises, built without running a Python frame.

   Part of the compiled core of ticket_auth (src/_ticketcore.pyx includes it; it checks at
   import that the classes are laid out as these functions assume). */
#ifndef TICKET_AUTH_OBJECTS_H
#define TICKET_AUTH_OBJECTS_H

#include <Python.h>

/* A TicketInfo (a tuple subclass with no fields of its own, checked at import) built the
   way tuple.__new__(TicketInfo, items) builds it, without the Python-level call. */
static PyObject *ta_make_info(PyTypeObject *tp, PyObject *digest, PyObject *user_id,
                              PyObject *tokens, PyObject *user_data, PyObject *valid_until) {
    PyObject *info = tp->tp_alloc(tp, 5);
    if (info == NULL) {
        return NULL;
    }
    Py_INCREF(digest); PyTuple_SET_ITEM(info, 0, digest);
    Py_INCREF(user_id); PyTuple_SET_ITEM(info, 1, user_id);
    Py_INCREF(tokens); PyTuple_SET_ITEM(info, 2, tokens);
    Py_INCREF(user_data); PyTuple_SET_ITEM(info, 3, user_data);
    Py_INCREF(valid_until); PyTuple_SET_ITEM(info, 4, valid_until);
    return info;
}

/* An instance of one of ticket_auth.exception's classes, in the state its __init__
   leaves it (args from BaseException.__new__, then .ticket and .msg, in that order),
   without running a Python frame: a rejected ticket is raised on the request path. */
static PyObject *ta_ticket_error(PyTypeObject *cls, PyObject *args, PyObject *ticket_name, PyObject *ticket,
                                 PyObject *msg_name, PyObject *msg) {
    PyObject *exc = cls->tp_new(cls, args, NULL);
    if (exc == NULL) {
        return NULL;
    }
    if (PyObject_SetAttr(exc, ticket_name, ticket) < 0 || PyObject_SetAttr(exc, msg_name, msg) < 0) {
        Py_DECREF(exc);
        return NULL;
    }
    return exc;
}

#endif /* TICKET_AUTH_OBJECTS_H */
