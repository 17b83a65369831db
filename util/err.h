/*
 * err.h: errors as values.
 *
 * Every function that can fail takes a `mig_error *` as its last argument,
 * fills it on failure and returns -1 (or NULL). Nothing below cli/ prints an
 * error: the message travels up, each layer may prepend its context with
 * mig_error_prefix(), and the verb prints it once. The kind decides migctl's
 * exit code (docs/design.md): 2 bad input, 1 a refused operation or drift,
 * 3 a backend or system failure.
 */
#ifndef MIGCTL_UTIL_ERR_H
#define MIGCTL_UTIL_ERR_H

#include <stddef.h>

typedef enum {
    MIG_ERR_NONE = 0,
    MIG_ERR_INPUT,   /* bad input from the user or a file: exit 2 */
    MIG_ERR_REFUSED, /* an operation refused (busy instance, drift): exit 1 */
    MIG_ERR_BACKEND, /* the GPU backend (NVML or simulator) failed: exit 3 */
    MIG_ERR_SYSTEM,  /* I/O, memory, a child process: exit 3 */
} mig_err_kind;

typedef struct {
    mig_err_kind kind;
    int nvml;        /* the NVML return code when the backend failed, else 0 */
    /* Where in an input file the error is, when it is in one: the file's
     * path ("" when none), and a 1-based line and column (0 when unknown).
     * The position lives here, not in msg, so that callers can re-attribute
     * it without parsing text; mig_error_format() renders file:line:col. */
    char file[512];
    unsigned line, col;
    char msg[1024];
} mig_error;

/* Set the error and return -1. */
int mig_fail(mig_error *e, mig_err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An input error at a position in a file: kind MIG_ERR_INPUT with
 * file/line/col set. Returns -1. */
int mig_fail_at(mig_error *e, const char *file, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* "file:line:col: msg" (or the parts that are known) into buf. */
const char *mig_error_format(const mig_error *e, char *buf, size_t cap);

/* A backend error: kind MIG_ERR_BACKEND, e->nvml = rc, message
 * "<formatted operation>: <nvmlErrorString(rc)>" plus nvml_rc_hint() when
 * the operation names an NVML function. Returns -1. */
int mig_fail_nvml(mig_error *e, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepend "<context>: " to the message, keeping kind and code. */
void mig_error_prefix(mig_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void mig_error_clear(mig_error *e);

/* The process exit code for an error of this kind (0 for MIG_ERR_NONE). */
int mig_error_exit_code(const mig_error *e);

#endif
