/* WebSocket masking (RFC 6455 §5.3) in C: the compiled build's accelerator
 * for transom/http/websocket/frames.py, whose Python functions of the same
 * names are the reference and the pure-Python build's implementation (the
 * tests compare the two on random inputs).
 *
 * Masking XORs the payload with the 4-byte key repeated. Python has no
 * vectorised XOR on bytes; the pure-Python version goes through big ints or
 * bytes.translate over byte lanes, which costs thousands of instructions for
 * a 64-byte frame and milliseconds for a MiB. Here it is 8 bytes per step.
 *
 *   unmask(buffer, key_at, size) -> bytes
 *       the payload of a masked frame held in ``buffer``: the key is the 4
 *       bytes at ``key_at``, the payload the ``size`` bytes after them.
 *   apply_mask(data, mask) -> bytes
 *       ``data`` XOR the 4-byte ``mask`` repeated; its own inverse.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* out[i] = in[i] ^ key[i % 4] for i < n; out and in may be the same. */
static void
xor_key(char *out, const char *in, Py_ssize_t n, const unsigned char *key)
{
    uint32_t k32;
    uint64_t k64, word;
    Py_ssize_t i = 0;

    /* The key's 4 bytes twice, in memory order, whatever the byte order. */
    memcpy(&k32, key, 4);
    k64 = ((uint64_t)k32 << 32) | k32;
    for (; i + 8 <= n; i += 8) {
        memcpy(&word, in + i, 8);
        word ^= k64;
        memcpy(out + i, &word, 8);
    }
    for (; i < n; i++) {
        out[i] = (char)(in[i] ^ key[i & 3]);  /* i is a multiple of 8 here first */
    }
}

static PyObject *
unmask(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    Py_ssize_t key_at, size;
    PyObject *out;

    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "unmask() takes a buffer, key_at and size");
        return NULL;
    }
    key_at = PyLong_AsSsize_t(args[1]);
    if (key_at == -1 && PyErr_Occurred()) {
        return NULL;
    }
    size = PyLong_AsSsize_t(args[2]);
    if (size == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (key_at < 0 || size < 0 || key_at > view.len - 4 || size > view.len - 4 - key_at) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "unmask(): key and payload past the buffer's end");
        return NULL;
    }
    out = PyBytes_FromStringAndSize(NULL, size);
    if (out != NULL) {
        const char *base = (const char *)view.buf + key_at;
        xor_key(PyBytes_AS_STRING(out), base + 4, size, (const unsigned char *)base);
    }
    PyBuffer_Release(&view);
    return out;
}

static PyObject *
apply_mask(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer data, mask;
    PyObject *out = NULL;

    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "apply_mask() takes data and a mask");
        return NULL;
    }
    if (PyObject_GetBuffer(args[0], &data, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(args[1], &mask, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    if (mask.len != 4) {
        PyErr_SetString(PyExc_ValueError, "a masking key is 4 bytes");
    }
    else {
        out = PyBytes_FromStringAndSize(NULL, data.len);
        if (out != NULL) {
            xor_key(PyBytes_AS_STRING(out), (const char *)data.buf, data.len,
                    (const unsigned char *)mask.buf);
        }
    }
    PyBuffer_Release(&mask);
    PyBuffer_Release(&data);
    return out;
}

static PyMethodDef methods[] = {
    {"unmask", (PyCFunction)(void (*)(void))unmask, METH_FASTCALL,
     "unmask(buffer, key_at, size) -> bytes: a masked frame's payload"},
    {"apply_mask", (PyCFunction)(void (*)(void))apply_mask, METH_FASTCALL,
     "apply_mask(data, mask) -> bytes: data XOR the 4-byte mask repeated"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "transom.http.websocket._mask",
    "WebSocket masking in C (see frames.py).", 0, methods,
};

PyMODINIT_FUNC
PyInit__mask(void)
{
    return PyModuleDef_Init(&module_def);
}
