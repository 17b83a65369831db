/*
 * fuzz_exporter_request.c: the exporter's request handling
 * (metrics/exporter.h exporter_route) and its --listen parser on arbitrary
 * bytes. Input: "METHOD\nURL\n..." (missing parts are empty); the first
 * byte's low bits also choose the view (no sample yet, up, down, stale).
 * Every reply must be a known status with a body inside the view or a
 * constant, /metrics 200 must be exactly the view's text, and a listen
 * address that parses must give a host that fits and a port <= 65535.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/exporter.h"

static const char METRICS[] = "# HELP migctl_up x\n# TYPE migctl_up gauge\nmigctl_up 1\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *method = buf, *url = "";
    char *nl = memchr(buf, '\n', size);
    if (nl) {
        *nl = '\0';
        url = nl + 1;
        char *nl2 = strchr(url, '\n');
        if (nl2)
            *nl2 = '\0';
    }
    unsigned mode = size ? data[0] & 3 : 0;
    exporter_view v = {
        .metrics = mode ? METRICS : NULL,
        .metrics_len = mode ? sizeof METRICS - 1 : 0,
        .up = mode == 1 || mode == 3,
        .age = mode == 3 ? 1e6 : 0.5,
        .interval = 5,
        .last_error = mode == 2 ? "nvmlDeviceGetCount: Unknown Error" : "",
    };
    exporter_reply r;
    exporter_route(&v, method, url, &r);
    if (r.status != 200 && r.status != 404 && r.status != 405 && r.status != 503)
        abort();
    if (!r.content_type || !r.body || strlen(r.body) < r.len)
        abort();
    bool metrics = strncmp(url, "/metrics", 8) == 0 && (url[8] == '\0' || url[8] == '?' || url[8] == '#');
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (get && metrics && mode && (r.status != 200 || r.body != METRICS))
        abort();
    if (r.status == 200 && r.body == METRICS && !(get && metrics))
        abort();
    char host[64];
    unsigned port = 99999;
    mig_error e;
    if (exporter_parse_listen(url, host, sizeof host, &port, &e) == 0) {
        if (port > 65535 || strlen(host) >= sizeof host || !host[0])
            abort();
    } else if (e.kind != MIG_ERR_INPUT || !e.msg[0]) {
        abort();
    }
    free(buf);
    return 0;
}
