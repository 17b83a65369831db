/*
 * err.c: the error value of err.h. Messages are truncated, never overflowed;
 * a prefix that does not fit loses the tail of the original message, not the
 * context.
 */
#include "util/err.h"
#include "util/nvml_rc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int mig_fail(mig_error *e, mig_err_kind kind, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->kind = kind;
    e->nvml = 0;
    e->file[0] = '\0';
    e->line = e->col = 0;
    return -1;
}

int mig_fail_at(mig_error *e, const char *file, unsigned line, unsigned col, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->kind = MIG_ERR_INPUT;
    e->nvml = 0;
    snprintf(e->file, sizeof e->file, "%s", file ? file : "");
    e->line = line;
    e->col = col;
    return -1;
}

const char *mig_error_format(const mig_error *e, char *buf, size_t cap)
{
    if (e->file[0] && e->line)
        snprintf(buf, cap, "%s:%u:%u: %s", e->file, e->line, e->col, e->msg);
    else if (e->file[0])
        snprintf(buf, cap, "%s: %s", e->file, e->msg);
    else if (e->line) /* a position in an input whose name the caller adds */
        snprintf(buf, cap, "%u:%u: %s", e->line, e->col, e->msg);
    else
        snprintf(buf, cap, "%s", e->msg);
    return buf;
}

int mig_fail_nvml(mig_error *e, int rc, const char *fmt, ...)
{
    if (!e)
        return -1;
    char op[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(op, sizeof op, fmt, ap);
    va_end(ap);
    /* Truncation is intended: the message is bounded, the NVML text last. */
    int n = snprintf(e->msg, sizeof e->msg, "%s: ", op);
    if (n > 0 && (size_t)n < sizeof e->msg) {
        strncat(e->msg, nvml_rc_string(rc), sizeof e->msg - strlen(e->msg) - 1);
        strncat(e->msg, nvml_rc_hint(rc, op), sizeof e->msg - strlen(e->msg) - 1);
    }
    e->kind = MIG_ERR_BACKEND;
    e->nvml = rc;
    e->file[0] = '\0';
    e->line = e->col = 0;
    return -1;
}

void mig_error_prefix(mig_error *e, const char *fmt, ...)
{
    if (!e)
        return;
    char ctx[sizeof e->msg];
    char old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof ctx, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    /* The context goes first and is kept whole; the old message may lose its tail. */
    int n = snprintf(e->msg, sizeof e->msg, "%s: ", ctx);
    if (n > 0 && (size_t)n < sizeof e->msg)
        strncat(e->msg, old, sizeof e->msg - (size_t)n - 1);
}

void mig_error_clear(mig_error *e)
{
    if (!e)
        return;
    e->kind = MIG_ERR_NONE;
    e->nvml = 0;
    e->file[0] = '\0';
    e->line = e->col = 0;
    e->msg[0] = '\0';
}

int mig_error_exit_code(const mig_error *e)
{
    switch (e->kind) {
    case MIG_ERR_NONE:
        return 0;
    case MIG_ERR_INPUT:
        return 2;
    case MIG_ERR_REFUSED:
        return 1;
    case MIG_ERR_BACKEND:
    case MIG_ERR_SYSTEM:
        return 3;
    }
    return 3;
}
