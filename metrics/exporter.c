/*
 * exporter.c: metrics/exporter.h over libmicrohttpd: a thread pool answers
 * requests from the last rendering, a sampling thread replaces it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/exporter.h"

static const char INDEX[] =
    "<html><head><title>migctl exporter</title></head><body><h1>migctl exporter</h1>"
    "<p><a href=\"/metrics\">/metrics</a> (Prometheus) &middot; "
    "<a href=\"/healthz\">/healthz</a></p></body></html>\n";
static const char TEXT[] = "text/plain; version=0.0.4; charset=utf-8";

static void reply(exporter_reply *r, int status, const char *type, const char *body, size_t len)
{
    r->status = status;
    r->content_type = type;
    r->body = body;
    r->len = len;
}

void exporter_route(const exporter_view *v, const char *method, const char *url,
                    exporter_reply *r)
{
    memset(r, 0, sizeof *r);
    method = method ? method : "";
    url = url ? url : "";
    /* the path without a query string */
    size_t plen = strcspn(url, "?#");
    bool get = strcmp(method, "GET") == 0, head = strcmp(method, "HEAD") == 0;
    r->head = head;
    if (!get && !head) {
        static const char m[] = "method not allowed: use GET\n";
        reply(r, 405, "text/plain; charset=utf-8", m, sizeof m - 1);
        return;
    }
    if (plen == 8 && strncmp(url, "/metrics", 8) == 0) {
        if (!v->metrics) {
            static const char m[] = "no sample yet\n";
            reply(r, 503, "text/plain; charset=utf-8", m, sizeof m - 1);
        } else {
            reply(r, 200, TEXT, v->metrics, v->metrics_len);
        }
    } else if (plen == 8 && strncmp(url, "/healthz", 8) == 0) {
        static const char ok[] = "ok\n", stale[] = "sampling is stale\n",
                          down[] = "sampling fails\n";
        bool fresh = v->age <= 3 * v->interval + 5;
        if (v->up && fresh)
            reply(r, 200, "text/plain; charset=utf-8", ok, sizeof ok - 1);
        else if (!v->up)
            reply(r, 503, "text/plain; charset=utf-8", down, sizeof down - 1);
        else
            reply(r, 503, "text/plain; charset=utf-8", stale, sizeof stale - 1);
    } else if (plen == 1 && url[0] == '/') {
        reply(r, 200, "text/html; charset=utf-8", INDEX, sizeof INDEX - 1);
    } else {
        static const char m[] = "not found: try /metrics or /healthz\n";
        reply(r, 404, "text/plain; charset=utf-8", m, sizeof m - 1);
    }
}

int exporter_parse_listen(const char *text, char *host, size_t host_len, unsigned *port,
                          mig_error *e)
{
    const char *colon;
    size_t hl;
    const char *h = text;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return mig_fail(e, MIG_ERR_INPUT, "--listen '%s': expected [ADDRESS]:PORT", text);
        h = text + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon)
            return mig_fail(e, MIG_ERR_INPUT, "--listen '%s': expected ADDRESS:PORT", text);
        hl = (size_t)(colon - text);
    }
    if (hl == 0 || hl >= host_len)
        return mig_fail(e, MIG_ERR_INPUT,
                        "--listen '%s': name the address (127.0.0.1 for loopback, 0.0.0.0 for "
                        "every interface)",
                        text);
    memcpy(host, h, hl);
    host[hl] = '\0';
    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || errno || p > 65535)
        return mig_fail(e, MIG_ERR_INPUT, "--listen '%s': the port must be 0-65535", text);
    *port = (unsigned)p;
    return 0;
}

/* ------------------------------------------------------------ server */

struct exporter {
    mig_backend *b;
    exporter_config cfg;
    metrics_options mo;
    struct MHD_Daemon *d;
    unsigned port;
    pthread_t sampler;
    bool sampler_running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    /* the view, under mu */
    char *text;
    size_t text_len;
    bool up;
    double last_ok; /* monotonic */
    unsigned long long errors, samples;
    char last_error[1024];
};

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void logf_(exporter *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(exporter *x, const char *fmt, ...)
{
    if (!x->cfg.log)
        return;
    char line[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    x->cfg.log(x->cfg.log_ctx, line);
}

/* The exporter's own series, appended to each rendering. */
static char *with_self(exporter *x, char *text, size_t *len, bool ok, double duration)
{
    char self[1600];
    char err[600];
    size_t o = 0;
    for (const char *p = x->last_error; *p && o + 3 < sizeof err; p++) {
        if (*p == '\\' || *p == '"')
            err[o++] = '\\';
        err[o++] = *p == '\n' ? ' ' : *p;
    }
    err[o] = '\0';
    int n = snprintf(self, sizeof self,
                     "# HELP migctl_up 1 when the last sample of the GPUs succeeded.\n"
                     "# TYPE migctl_up gauge\nmigctl_up %d\n"
                     "# HELP migctl_sample_errors_total Samples that failed (driver errors).\n"
                     "# TYPE migctl_sample_errors_total counter\nmigctl_sample_errors_total %llu\n"
                     "# HELP migctl_samples_total Samples taken.\n"
                     "# TYPE migctl_samples_total counter\nmigctl_samples_total %llu\n"
                     "# HELP migctl_sample_duration_seconds How long the last sample took.\n"
                     "# TYPE migctl_sample_duration_seconds gauge\n"
                     "migctl_sample_duration_seconds %.6f\n"
                     "# HELP migctl_last_error_info The last sampling error (empty: none).\n"
                     "# TYPE migctl_last_error_info gauge\nmigctl_last_error_info{error=\"%s\"} %d\n",
                     ok, x->errors, x->samples, duration, err, x->last_error[0] != '\0');
    size_t base = text ? *len : 0;
    char *out = realloc(text, base + (size_t)n + 1);
    if (!out) {
        free(text);
        return NULL;
    }
    memcpy(out + base, self, (size_t)n + 1);
    *len = base + (size_t)n;
    return out;
}

static void sample_once(exporter *x, bool settle)
{
    metrics_node n;
    mig_error e;
    double t0 = mono();
    int rc = settle ? metrics_collect_settled(x->b, &x->mo, 0.2, &n, &e)
                    : metrics_collect(x->b, &x->mo, &n, &e);
    char *text = NULL;
    size_t len = 0;
    if (rc == 0) {
        text = metrics_prometheus(&n, &len);
        metrics_node_free(&n);
    } else {
        metrics_node_free(&n);
    }
    pthread_mutex_lock(&x->mu);
    x->samples++;
    if (rc < 0) {
        x->errors++;
        if (strcmp(x->last_error, e.msg) != 0 || x->up)
            logf_(x, "sample failed: %s", e.msg);
        snprintf(x->last_error, sizeof x->last_error, "%s", e.msg);
    } else if (!x->up && x->samples > 1) {
        logf_(x, "sampling works again");
    }
    if (rc == 0 && !text)
        logf_(x, "out of memory rendering the metrics");
    x->up = rc == 0 && text;
    if (x->up) {
        x->last_ok = mono();
        x->last_error[0] = '\0';
    }
    text = with_self(x, text, &len, x->up, mono() - t0);
    if (text) {
        free(x->text);
        x->text = text;
        x->text_len = len;
    }
    pthread_mutex_unlock(&x->mu);
}

static void *sampler_main(void *arg)
{
    exporter *x = arg;
    pthread_mutex_lock(&x->mu);
    while (!x->stop) {
        double secs = x->cfg.interval;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += (time_t)secs;
        until.tv_nsec += (long)((secs - floor(secs)) * 1e9);
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!x->stop && pthread_cond_timedwait(&x->cv, &x->mu, &until) != ETIMEDOUT)
            ;
        if (x->stop)
            break;
        pthread_mutex_unlock(&x->mu);
        sample_once(x, false);
        pthread_mutex_lock(&x->mu);
    }
    pthread_mutex_unlock(&x->mu);
    return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **state)
{
    (void)version, (void)upload;
    exporter *x = cls;
    if (!*state) { /* first call: headers only; answer on the next */
        *state = (void *)1;
        return MHD_YES;
    }
    *upload_size = 0; /* a body is ignored */
    pthread_mutex_lock(&x->mu);
    exporter_view v = {
        .metrics = x->text,
        .metrics_len = x->text_len,
        .up = x->up,
        .age = mono() - x->last_ok,
        .interval = x->cfg.interval,
        .last_error = x->last_error,
    };
    exporter_reply r;
    exporter_route(&v, method, url, &r);
    /* copied under the lock: the sampler may replace the text right after */
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r.len, (void *)r.body, MHD_RESPMEM_MUST_COPY);
    pthread_mutex_unlock(&x->mu);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", r.content_type);
    if (r.status == 405)
        MHD_add_response_header(resp, "Allow", "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

int exporter_start(mig_backend *b, const exporter_config *c, exporter **out, mig_error *e)
{
    char host[256];
    unsigned port;
    if (exporter_parse_listen(c->listen ? c->listen : "127.0.0.1:9400", host, sizeof host,
                              &port, e) < 0)
        return -1;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    bool v6 = false;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        v6 = true;
    } else {
        return mig_fail(e, MIG_ERR_INPUT, "--listen: '%s' is not an IPv4 or IPv6 address", host);
    }
    exporter *x = calloc(1, sizeof *x);
    if (!x)
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    x->b = b;
    x->cfg = *c;
    if (!(x->cfg.interval > 0))
        x->cfg.interval = 5;
    x->mo = c->mo;
    pthread_mutex_init(&x->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&x->cv, &ca);
    pthread_condattr_destroy(&ca);
    /* The first sample before binding: /metrics is complete from the start,
     * and a backend that cannot sample at all is still served (migctl_up 0). */
    sample_once(x, true);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    x->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, x,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
                            /* idle seconds before a connection is dropped: long enough
                             * that a burst on a loaded node (200 scrapes at once in the
                             * load test, 4 threads) is answered late, not cut off */
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
    if (!x->d) {
        int err = errno;
        exporter_stop(x);
        return mig_fail(e, MIG_ERR_SYSTEM, "cannot listen on %s: %s", c->listen,
                        err ? strerror(err) : "libmicrohttpd failed to start");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(x->d, MHD_DAEMON_INFO_BIND_PORT);
    x->port = info ? info->port : port;
    if (pthread_create(&x->sampler, NULL, sampler_main, x) != 0) {
        exporter_stop(x);
        return mig_fail(e, MIG_ERR_SYSTEM, "cannot start the sampling thread");
    }
    x->sampler_running = true;
    *out = x;
    return 0;
}

unsigned exporter_port(const exporter *x)
{
    return x->port;
}

void exporter_stop(exporter *x)
{
    if (!x)
        return;
    if (x->d)
        MHD_stop_daemon(x->d);
    pthread_mutex_lock(&x->mu);
    x->stop = true;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    if (x->sampler_running)
        pthread_join(x->sampler, NULL);
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->cv);
    free(x->text);
    free(x);
}
