"""Floor B: the ticket's two digests computed by OpenSSL's EVP functions from C, one call
from Python, nothing else (no parsing, no objects but the call's own).

It is the cheapest honest way to compute what validating a ticket must compute with the
OpenSSL that hashlib uses: the algorithm is fetched once, one ``EVP_MD_CTX`` is reused for
every call, the digests go into stack buffers, and the call returns ``None``. Floor A
(``_bench.Floor``) is the same two digests through hashlib from Python.

The helper is a tiny CPython extension, compiled on first use into a temporary directory
(never into the checkout) with the compiler and flags setuptools builds extensions with. Like
the compiled core it finds libcrypto's symbols at run time through hashlib's own ``_hashlib``
module (``dlopen`` of its file, then ``dlsym``), so it needs no OpenSSL headers and measures
exactly the library the core calls. Where that is impossible (Windows, a static OpenSSL, no
compiler) ``load()`` raises ``_bench.ImplUnavailableError`` with the reason.

``Floor(openssl_name, hex_inner).run(inner_input, secret)`` computes
``H(H(inner_input) + secret)`` (with ``hex_inner``, the inner digest as lowercase hex, as
mod_auth_tkt does); ``.digest(...)`` returns the digest, to check it against the ticket's.
"""

import atexit
import functools
import importlib.util
import os
import shutil
import sys
import sysconfig
import tempfile

C_SOURCE = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
#include <string.h>

typedef void *(*fetch_fn)(void *, const char *, const char *);
typedef const void *(*byname_fn)(const char *);
typedef int (*size_fn)(const void *);

typedef struct {
    PyObject_HEAD
    void *library;
    const void *md;
    void *fetched;
    void *ctx;
    int size;
    int hex_inner;
    void *(*ctx_new)(void);
    void (*ctx_free)(void *);
    int (*init)(void *, const void *, void *);
    int (*update)(void *, const void *, size_t);
    int (*final)(void *, unsigned char *, unsigned int *);
    void (*md_free)(void *);
} Floor;

#define SYM(var, name) (*(void **)(&(var)) = dlsym(self->library, name), (var) != NULL)

static int Floor_init(Floor *self, PyObject *args, PyObject *kwds) {
    const char *library, *name;
    int hex_inner;
    fetch_fn fetch;
    byname_fn byname;
    size_fn md_size;
    if (!PyArg_ParseTuple(args, "ssp", &library, &name, &hex_inner)) return -1;
    if (self->library != NULL) {
        PyErr_SetString(PyExc_TypeError, "already initialised");
        return -1;
    }
    self->library = dlopen(library, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    if (self->library == NULL || !SYM(self->ctx_new, "EVP_MD_CTX_new") || !SYM(self->ctx_free, "EVP_MD_CTX_free")
        || !SYM(self->init, "EVP_DigestInit_ex") || !SYM(self->update, "EVP_DigestUpdate")
        || !SYM(self->final, "EVP_DigestFinal_ex")) {
        PyErr_SetString(PyExc_OSError, "libcrypto's EVP functions are not visible through _hashlib");
        return -1;
    }
    if (SYM(fetch, "EVP_MD_fetch")) {
        if (!SYM(self->md_free, "EVP_MD_free") || !SYM(md_size, "EVP_MD_get_size")) {
            PyErr_SetString(PyExc_OSError, "incomplete OpenSSL 3 API");
            return -1;
        }
        self->fetched = fetch(NULL, name, NULL);
        self->md = self->fetched;
    } else {
        if (!SYM(byname, "EVP_get_digestbyname") || !SYM(md_size, "EVP_MD_size")) {
            PyErr_SetString(PyExc_OSError, "neither the OpenSSL 3 nor the 1.1 API");
            return -1;
        }
        self->md = byname(name);
    }
    if (self->md == NULL || (self->size = md_size(self->md)) <= 0 || self->size > 64) {
        PyErr_Format(PyExc_ValueError, "OpenSSL has no usable digest %s", name);
        return -1;
    }
    self->ctx = self->ctx_new();
    if (self->ctx == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->hex_inner = hex_inner;
    return 0;
}

static void Floor_dealloc(Floor *self) {
    if (self->ctx != NULL) self->ctx_free(self->ctx);
    if (self->fetched != NULL) self->md_free(self->fetched);
    if (self->library != NULL) dlclose(self->library);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* out = H(H(inner_input) + secret), the inner digest raw or as lowercase hex. */
static int nested(Floor *self, PyObject *const *args, Py_ssize_t nargs, unsigned char *out) {
    static const char hex[] = "0123456789abcdef";
    unsigned char inner[128];
    unsigned int n = 0, m = 0;
    Py_ssize_t i, inner_len;
    if (self->ctx == NULL) {
        PyErr_SetString(PyExc_TypeError, "not initialised");
        return -1;
    }
    if (nargs != 2 || !PyBytes_CheckExact(args[0]) || !PyBytes_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "expected (inner_input: bytes, secret: bytes)");
        return -1;
    }
    if (self->init(self->ctx, self->md, NULL) != 1
        || self->update(self->ctx, PyBytes_AS_STRING(args[0]), (size_t)PyBytes_GET_SIZE(args[0])) != 1
        || self->final(self->ctx, inner, &n) != 1 || (int)n != self->size) {
        PyErr_SetString(PyExc_RuntimeError, "EVP digest failed");
        return -1;
    }
    inner_len = self->size;
    if (self->hex_inner) {
        for (i = self->size; i-- > 0;) {
            unsigned char byte = inner[i];
            inner[2 * i] = (unsigned char)hex[byte >> 4];
            inner[2 * i + 1] = (unsigned char)hex[byte & 15];
        }
        inner_len = 2 * self->size;
    }
    if (self->init(self->ctx, self->md, NULL) != 1 || self->update(self->ctx, inner, (size_t)inner_len) != 1
        || self->update(self->ctx, PyBytes_AS_STRING(args[1]), (size_t)PyBytes_GET_SIZE(args[1])) != 1
        || self->final(self->ctx, out, &m) != 1 || (int)m != self->size) {
        PyErr_SetString(PyExc_RuntimeError, "EVP digest failed");
        return -1;
    }
    return 0;
}

static PyObject *Floor_run(Floor *self, PyObject *const *args, Py_ssize_t nargs) {
    unsigned char out[64];
    if (nested(self, args, nargs, out) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *Floor_digest(Floor *self, PyObject *const *args, Py_ssize_t nargs) {
    unsigned char out[64];
    if (nested(self, args, nargs, out) < 0) return NULL;
    return PyBytes_FromStringAndSize((const char *)out, self->size);
}

static PyMethodDef Floor_methods[] = {
    {"run", (PyCFunction)(void (*)(void))Floor_run, METH_FASTCALL, "The two digests; returns None."},
    {"digest", (PyCFunction)(void (*)(void))Floor_digest, METH_FASTCALL, "The two digests; returns the outer one."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject FloorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_ticket_auth_floor_b.Floor",
    .tp_basicsize = sizeof(Floor),
    .tp_dealloc = (destructor)Floor_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = Floor_methods,
    .tp_init = (initproc)Floor_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ticket_auth_floor_b", NULL, -1, NULL};

PyMODINIT_FUNC PyInit__ticket_auth_floor_b(void) {
    PyObject *m;
    if (PyType_Ready(&FloorType) < 0) return NULL;
    m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&FloorType);
    if (PyModule_AddObject(m, "Floor", (PyObject *)&FloorType) < 0) {
        Py_DECREF(&FloorType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
"""

MODULE_NAME = "_ticket_auth_floor_b"


class FloorBUnavailableError(Exception):
    """Floor B cannot be built or loaded here (the message says why)."""


def _build(directory):
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler

    source = os.path.join(directory, f"{MODULE_NAME}.c")
    with open(source, "w", encoding="ascii") as file:
        file.write(C_SOURCE)
    compiler = new_compiler()
    customize_compiler(compiler)
    objects = compiler.compile(
        [source], output_dir=directory, include_dirs=[sysconfig.get_paths()["include"]]
    )
    target = os.path.join(directory, MODULE_NAME + sysconfig.get_config_var("EXT_SUFFIX"))
    compiler.link_shared_object(objects, target)
    return target


@functools.cache
def load():
    """The compiled helper module (built once per process, in a temporary directory)."""
    if sys.platform == "win32":
        raise FloorBUnavailableError("floor B needs dlopen (not on Windows)")
    try:
        import _hashlib
    except ImportError:
        raise FloorBUnavailableError("hashlib has no OpenSSL (_hashlib) here") from None
    directory = tempfile.mkdtemp(prefix="ticket_auth_floor_b.")
    atexit.register(shutil.rmtree, directory, True)
    try:
        path = _build(directory)
    except Exception as exc:  # noqa: BLE001 - no compiler, no headers: say so
        raise FloorBUnavailableError(f"floor B's C helper could not be built: {exc}") from None
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.LIBRARY = _hashlib.__file__
    return module


# hashlib's names -> OpenSSL's, for the algorithms the benchmarks cover.
OPENSSL_NAMES = {"md5": "MD5", "sha256": "SHA256", "sha512": "SHA512"}


def floor(hashalg, hex_inner=False):
    """A Floor object for ``hashalg`` (FloorBUnavailableError when it cannot be made)."""
    module = load()
    name = OPENSSL_NAMES.get(hashalg)
    if name is None:
        raise FloorBUnavailableError(f"hashlib does not serve {hashalg} from OpenSSL")
    try:
        return module.Floor(module.LIBRARY, name, hex_inner)
    except (OSError, ValueError) as exc:
        raise FloorBUnavailableError(str(exc)) from None
