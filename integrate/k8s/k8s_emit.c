/*
 * k8s_emit.c: the planner's per-node layouts as what the GPU Operator
 * consumes: one ConfigMap in the mig-manager's format (key `config.yaml`, a
 * mig-parted v1 file, one named config per node) and the
 * `nvidia.com/mig.config=<name>` label that selects each node's config, as a
 * manifest of Node objects and as `kubectl label` commands.
 *
 * The config inside the ConfigMap holds counts, not placements: the
 * mig-manager runs mig-parted, whose parser rejects migctl's "profile@start"
 * keys. migctl apply finds valid placements for the same counts; mig-parted
 * tries creation orders. The files are written by hand rather than through
 * a YAML emitter because every name in them is first checked to be a
 * Kubernetes name (no quoting is ever needed) and the inner config comes
 * from config/emit.c, which is what makes its quoting right.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/migparted.h"
#include "integrate/k8s/k8s.h"
#include "util/fileio.h"

static bool is_alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* RFC 1123 subdomain, what Kubernetes accepts as a node name. */
static bool node_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253 || !is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum_lower(s[i]) && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

int k8s_config_name(const char *node, char *buf, unsigned len, mig_error *e)
{
    if (!node_name_ok(node))
        return mig_fail(e, MIG_ERR_INPUT,
                        "node name '%s' is not a Kubernetes node name (lower-case letters, "
                        "digits, '-' and '.', starting and ending with a letter or digit)",
                        node);
    /* A label value is at most 63 characters. */
    int n = snprintf(buf, len, "migctl-%s", node);
    if (n < 0 || n > 63 || (unsigned)n >= len)
        return mig_fail(e, MIG_ERR_INPUT,
                        "node name '%s' is too long for a label value "
                        "(nvidia.com/mig.config=migctl-<node> must be at most 63 characters)",
                        node);
    return 0;
}

/* Merge pinned keys ("1g.20gb@0", "1g.20gb@2") into counts ("1g.20gb": 2), and drop the
 * "mps" mark: mig-parted, which the mig-manager runs, knows neither extension. */
static void counts_only(cfg_config *c)
{
    for (unsigned j = 0; j < c->n_entries; j++) {
        cfg_entry *en = &c->entries[j];
        en->mps = false; /* migctl's extension (for Slurm's mps gres): not mig-parted's */
        unsigned out = 0;
        for (unsigned d = 0; d < en->n_devices; d++) {
            cfg_mig_device dev = en->devices[d];
            char *at = strchr(dev.key, '@');
            if (at)
                *at = '\0';
            dev.start = -1;
            unsigned k = 0;
            while (k < out && strcmp(en->devices[k].key, dev.key))
                k++;
            if (k < out)
                en->devices[k].count += dev.count;
            else
                en->devices[out++] = dev;
        }
        en->n_devices = out;
    }
}

static bool node_used(const fl_fleet *f, const pk_gpu *gpus, unsigned nd)
{
    for (unsigned i = 0; i < f->nodes[nd].n_gpus; i++)
        if (gpus[f->nodes[nd].first_gpu + i].use != PK_GPU_FREE)
            return true;
    return false;
}

/* The combined v1 file: one config per used node, named k8s_config_name. */
static int build_configs(const fl_fleet *f, const pk_gpu *gpus, cfg_file *all, mig_error *e)
{
    memset(all, 0, sizeof *all);
    all->path = strdup(K8S_CONFIGMAP_FILE);
    all->configs = calloc(f->n_nodes + 1, sizeof *all->configs);
    if (!all->path || !all->configs) {
        cfg_free(all);
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    }
    for (unsigned nd = 0; nd < f->n_nodes; nd++) {
        if (!node_used(f, gpus, nd))
            continue;
        char name[64];
        cfg_file one;
        if (k8s_config_name(f->nodes[nd].name, name, sizeof name, e) < 0 ||
            pack_node_config(f, gpus, nd, name, &one, e) < 0) {
            cfg_free(all);
            return -1;
        }
        counts_only(&one.configs[0]);
        /* Move the config over; cfg_free(&one) then frees only its shell. */
        all->configs[all->n_configs++] = one.configs[0];
        one.n_configs = 0;
        cfg_free(&one);
    }
    return 0;
}

/* A growing text buffer over open_memstream. */
typedef struct {
    char *data;
    size_t len;
    FILE *fp;
} text;

static int text_open(text *t, mig_error *e)
{
    t->data = NULL;
    t->len = 0;
    t->fp = open_memstream(&t->data, &t->len);
    return t->fp ? 0 : mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
}

static int text_close(text *t, mig_error *e)
{
    if (fclose(t->fp) != 0) {
        free(t->data);
        t->data = NULL;
        return mig_fail(e, MIG_ERR_SYSTEM, "out of memory");
    }
    return 0;
}

static int write_file(const char *dir, const char *name, const text *t, mode_t mode,
                      mig_error *e)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return mig_fail(e, MIG_ERR_INPUT, "%s: path too long", dir);
    return fileio_write_atomic(path, t->data, t->len, mode, e);
}

static int configmap_text(const cfg_file *all, text *t, mig_error *e)
{
    text inner;
    if (text_open(&inner, e) < 0)
        return -1;
    int rc = cfg_emit_yaml(inner.fp, all, e);
    if (text_close(&inner, e) < 0)
        return -1;
    if (rc < 0) {
        free(inner.data);
        return -1;
    }
    if (text_open(t, e) < 0) {
        free(inner.data);
        return -1;
    }
    fprintf(t->fp,
            "# Written by migctl plan/replan --emit-k8s: the GPU Operator's mig-manager config\n"
            "# for every planned node (one config per node, selected by the node's\n"
            "# " K8S_MIG_CONFIG_LABEL " label; see " K8S_NODES_FILE " and " K8S_SCRIPT_FILE ").\n"
            "#   kubectl apply -n gpu-operator -f " K8S_CONFIGMAP_FILE "\n"
            "#   kubectl patch clusterpolicies.nvidia.com/cluster-policy --type=merge \\\n"
            "#     -p '{\"spec\":{\"migManager\":{\"config\":{\"name\":\"" K8S_CONFIGMAP_NAME
            "\"}}}}'\n"
            "apiVersion: v1\n"
            "kind: ConfigMap\n"
            "metadata:\n"
            "  name: " K8S_CONFIGMAP_NAME "\n"
            "  labels:\n"
            "    app.kubernetes.io/managed-by: migctl\n"
            "data:\n"
            "  config.yaml: |\n");
    /* The inner file as a literal block, every line indented by 4. */
    const char *p = inner.data;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(t->fp, "    %.*s\n", (int)n, p);
        p = nl ? nl + 1 : p + n;
    }
    free(inner.data);
    return text_close(t, e);
}

static int labels_text(const fl_fleet *f, const pk_gpu *gpus, text *nodes, text *script,
                       mig_error *e)
{
    if (text_open(nodes, e) < 0)
        return -1;
    if (text_open(script, e) < 0) {
        fclose(nodes->fp);
        free(nodes->data);
        return -1;
    }
    fprintf(nodes->fp,
            "# Written by migctl plan/replan --emit-k8s: the " K8S_MIG_CONFIG_LABEL " label of\n"
            "# every planned node, as Node objects holding only that label. Check offline:\n"
            "#   kubectl label --local --dry-run=client -f " K8S_NODES_FILE " x=y -o yaml\n"
            "# apply (merges the label into the existing nodes):\n"
            "#   kubectl apply -f " K8S_NODES_FILE "\n");
    fprintf(script->fp,
            "#!/bin/sh\n"
            "# Written by migctl plan/replan --emit-k8s: label every planned node with the\n"
            "# config that " K8S_CONFIGMAP_FILE " holds for it; the GPU Operator's\n"
            "# mig-manager then applies it. Drain a node's GPU workloads first.\n"
            "set -e\n");
    int rc = 0;
    for (unsigned nd = 0; nd < f->n_nodes && rc == 0; nd++) {
        if (!node_used(f, gpus, nd))
            continue;
        char name[64];
        if ((rc = k8s_config_name(f->nodes[nd].name, name, sizeof name, e)) < 0)
            break;
        fprintf(nodes->fp,
                "---\n"
                "apiVersion: v1\n"
                "kind: Node\n"
                "metadata:\n"
                "  name: %s\n"
                "  labels:\n"
                "    " K8S_MIG_CONFIG_LABEL ": %s\n",
                f->nodes[nd].name, name);
        fprintf(script->fp, "kubectl label node --overwrite %s " K8S_MIG_CONFIG_LABEL "=%s\n",
                f->nodes[nd].name, name);
    }
    int r1 = text_close(nodes, e), r2 = text_close(script, e);
    if (rc < 0 || r1 < 0 || r2 < 0) {
        free(nodes->data);
        free(script->data);
        return -1;
    }
    return 0;
}

int k8s_emit(const fl_fleet *f, const pk_gpu *gpus, const char *dir, mig_error *e)
{
    /* Every name is checked before anything is written. */
    for (unsigned nd = 0; nd < f->n_nodes; nd++) {
        char name[64];
        if (node_used(f, gpus, nd) && k8s_config_name(f->nodes[nd].name, name, sizeof name, e) < 0)
            return -1;
    }
    cfg_file all;
    if (build_configs(f, gpus, &all, e) < 0)
        return -1;
    text cm = {0}, nodes = {0}, script = {0};
    int rc = configmap_text(&all, &cm, e);
    cfg_free(&all);
    if (rc < 0)
        return -1;
    if (labels_text(f, gpus, &nodes, &script, e) < 0) {
        free(cm.data);
        return -1;
    }
    if (fileio_mkdir(dir, 0755, e) < 0 ||
        write_file(dir, K8S_CONFIGMAP_FILE, &cm, 0644, e) < 0 ||
        write_file(dir, K8S_NODES_FILE, &nodes, 0644, e) < 0 ||
        write_file(dir, K8S_SCRIPT_FILE, &script, 0755, e) < 0)
        rc = -1;
    free(cm.data);
    free(nodes.data);
    free(script.data);
    return rc;
}
