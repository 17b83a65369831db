/*
 * exporter.h: the Prometheus exporter (`migctl exporter`) on libmicrohttpd.
 *
 * A sampling thread takes a snapshot (metrics/metrics.h) every interval and
 * renders it once; requests are answered from the last rendering, so a
 * scrape never waits on the driver and 200 of them at once cost 200 memory
 * copies. A failed sample (a driver error) is logged once per distinct
 * message and shows as migctl_up 0 with migctl_sample_errors_total rising;
 * the exporter keeps serving and recovers when sampling works again.
 *
 * Request handling is exporter_route(), a pure function of the method, the
 * URL and the current view, so the fuzz target fuzz/fuzz_exporter_request.c
 * can drive it without a socket.
 */
#ifndef MIGCTL_METRICS_EXPORTER_H
#define MIGCTL_METRICS_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>

#include "gpu/backend.h"
#include "metrics/metrics.h"

/* What the request handler sees: the last rendering and the state. */
typedef struct {
    const char *metrics; /* Prometheus text, NULL before the first sample */
    size_t metrics_len;
    bool up;             /* the last sample succeeded */
    double age;          /* seconds since the last successful sample */
    double interval;     /* sampling interval */
    const char *last_error;
} exporter_view;

typedef struct {
    int status;               /* HTTP status */
    const char *content_type;
    const char *body;         /* not owned: points into the view or a constant */
    size_t len;
    bool head;                /* HEAD: send headers only */
} exporter_reply;

/* GET|HEAD /metrics: the text (503 before the first sample); /healthz: 200
 * "ok" while sampling succeeds and is fresh (younger than 3 intervals + 5 s),
 * else 503 with the reason; /: a short index; anything else 404; a method
 * other than GET/HEAD 405. Never fails; any bytes in method and url. */
void exporter_route(const exporter_view *v, const char *method, const char *url,
                    exporter_reply *r);

/* "HOST:PORT", "[V6]:PORT"; PORT 0 picks a free one. */
int exporter_parse_listen(const char *text, char *host, size_t host_len, unsigned *port,
                          mig_error *e);

typedef void (*exporter_log_fn)(void *ctx, const char *line);

typedef struct {
    const char *listen;      /* default "127.0.0.1:9400" */
    double interval;         /* seconds, default 5 */
    metrics_options mo;      /* GPUs and desired config */
    exporter_log_fn log;     /* one line per event (NULL: silent) */
    void *log_ctx;
} exporter_config;

typedef struct exporter exporter;

/* Take the first sample (so /metrics is complete from the first scrape),
 * bind, start serving and sampling. The backend is used only by the
 * sampling thread from then on. */
int exporter_start(mig_backend *b, const exporter_config *c, exporter **out, mig_error *e);
/* The port bound (useful with port 0). */
unsigned exporter_port(const exporter *x);
void exporter_stop(exporter *x);

#endif
