/*
 * fuzz_config.c: the mig-parted v1 parser on arbitrary bytes.
 *
 * Whatever parses must survive selection against a few GPUs and must
 * round-trip: emitted as YAML and as JSON, each re-parses to an equal
 * config (cfg_equal). Whatever fails must fail with MIG_ERR_INPUT and a
 * "<file>:<line>:<col>: ...; expected ..." message. Anything else aborts;
 * ASan/UBSan catch the rest (leaks, overflows, deep-nesting blowups).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/migparted.h"
#include "model/catalogue.h"

static void reparse_equal(const cfg_file *f, int json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return;
    mig_error e = {0};
    int rc = json ? cfg_emit_json(out, f, &e) : cfg_emit_yaml(out, f, &e);
    fclose(out);
    if (rc != 0)
        abort();
    cfg_file g;
    if (cfg_parse_string(buf, len, "emitted", &g, &e) != 0 || !cfg_equal(f, &g)) {
        fprintf(stderr, "round trip (%s) failed: %s\n%s\n", json ? "json" : "yaml", e.msg, buf);
        abort();
    }
    cfg_free(&g);
    free(buf);
}

static void select_all(const cfg_file *f)
{
    unsigned n;
    const mig_model *models = mig_catalogue(&n);
    mig_gpu_state gs[3];
    memset(gs, 0, sizeof gs);
    for (unsigned i = 0; i < 3; i++) {
        gs[i].index = i;
        gs[i].model = &models[i % n];
        gs[i].mig_capable = true;
        gs[i].pci_device_id = models[i % n].pci_device_ids[0];
        snprintf(gs[i].uuid, sizeof gs[i].uuid, "GPU-%u", i);
        snprintf(gs[i].bus_id, sizeof gs[i].bus_id, "00000000:%02X:00.0", i);
    }
    mig_error e = {0};
    for (unsigned c = 0; c < f->n_configs; c++) {
        const cfg_config *cf = cfg_select(f, f->configs[c].name, &e);
        if (cf != &f->configs[c])
            abort();
        for (unsigned i = 0; i < 3; i++) {
            const cfg_entry *en = cfg_entry_for_gpu(cf, &gs[i]);
            if (en && !cfg_entry_matches(en, &gs[i]))
                abort();
        }
        (void)cfg_check_overlap(cf, gs, 3, &e);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    cfg_file f;
    mig_error e = {0};
    if (cfg_parse_string((const char *)data, size, "fuzz", &f, &e) == 0) {
        if (f.n_configs == 0)
            abort();
        select_all(&f);
        reparse_equal(&f, 0);
        reparse_equal(&f, 1);
        cfg_free(&f);
    } else if (e.kind == MIG_ERR_INPUT) {
        char msg[2048];
        mig_error_format(&e, msg, sizeof msg);
        if (strncmp(msg, "fuzz:", 5) != 0 || !strstr(msg, "expected"))
            abort();
    } else if (e.kind != MIG_ERR_SYSTEM) {
        abort();
    }
    return 0;
}
