/*
 * fuzz_workload.c: the planner's YAML inputs under arbitrary bytes. Each
 * input is parsed as a workloads file and as a fleet file; whatever parses
 * is then decided and packed (workloads on a fixed two-model fleet, or a
 * fixed workload set on the parsed fleet), so the decisions, the packer and
 * online placement see odd but valid inputs too. Sizes are capped so one
 * input stays fast. Errors must come back as values, never crashes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/workload.h"
#include "plan/pack.h"
#include "plan/replan.h"

static const char fixed_fleet[] =
    "nodes:\n"
    "  - {name: a, gpus: [{model: H100-SXM5-80GB, count: 4}]}\n"
    "  - {name: b, gpus: [{model: H200-SXM-141GB, count: 2}, {model: A30-24GB, count: 2}]}\n";
static const char fixed_workloads[] =
    "workloads:\n"
    "  - {name: a, replicas: 5, memory: 12GB, compute: 1/7}\n"
    "  - {name: b, memory: 30GiB, compute: 3/7}\n"
    "  - {name: c, replicas: 3, memory: 6GiB, compute: 20%, isolation: none}\n";

static unsigned total_instances(const wl_file *w)
{
    unsigned long long n = 0;
    for (unsigned i = 0; i < w->n; i++)
        n += (unsigned long long)w->items[i].replicas * w->items[i].gpus;
    return n > 1000000 ? 1000000 : (unsigned)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mig_error e = {0};
    wl_file w, wfix;
    fl_fleet f, ffix;
    if (wl_parse_string(fixed_workloads, sizeof fixed_workloads - 1, "fixed", &wfix, &e) < 0 ||
        fl_parse_string(fixed_fleet, sizeof fixed_fleet - 1, "fixed", &ffix, &e) < 0)
        return 0;
    if (wl_parse_string((const char *)data, size, "fuzz.yaml", &w, &e) == 0) {
        if (total_instances(&w) <= 2000) {
            pk_plan p;
            if (pack_plan(&w, &ffix, &p, &e) == 0)
                pk_plan_free(&p);
        }
        wl_free(&w);
    }
    if (fl_parse_string((const char *)data, size, "fuzz.yaml", &f, &e) == 0) {
        if (f.n_gpus <= 256) {
            pk_plan p;
            rp_plan r;
            if (pack_plan(&wfix, &f, &p, &e) == 0)
                pk_plan_free(&p);
            if (replan_add(&wfix, &f, &r, &e) == 0)
                rp_plan_free(&r);
            /* a short search: the fuzzer wants many inputs per second */
            rp_options quick = {.time_limit = 0.2};
            if (replan_plan_opts(&wfix, &f, &quick, &r, &e) == 0)
                rp_plan_free(&r);
        }
        fl_free(&f);
    }
    wl_free(&wfix);
    fl_free(&ffix);
    return 0;
}
