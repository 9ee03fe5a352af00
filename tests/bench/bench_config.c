/* Benchmark: loading a crm.yaml whose plugin section has N keys, against
 * libyaml's own document load of the same text in the same run.
 *
 *   bench_config [N]     (default 100000)
 *
 * The kernel's loader copies libyaml's document into position-keeping
 * nodes and refuses a duplicate key with the first one's position; the
 * figures show what that costs per key above libyaml. A second text with
 * the last key repeated checks that the duplicate is still found. Each
 * figure is the best of 3 runs (the machine is shared). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "config.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "plugins: [bigp]\nbigp:\n  key_0000001: 1\n..." (+ a repeat of the last key) */
static char *make_yaml(long n, int duplicate, size_t *len)
{
    size_t cap = 64 + (size_t)(n + 1) * 32;
    char *s = malloc(cap);
    if (!s)
        exit(1);
    size_t at = (size_t)snprintf(s, cap, "plugins: [bigp]\nbigp:\n");
    for (long i = 0; i < n; i++)
        at += (size_t)snprintf(s + at, cap - at, "  key_%07ld: %ld\n", i, i);
    if (duplicate)
        at += (size_t)snprintf(s + at, cap - at, "  key_%07ld: again\n", n - 1);
    *len = at;
    return s;
}

static double libyaml_load(const char *text, size_t len)
{
    double t0 = now_s();
    yaml_parser_t p;
    yaml_document_t doc;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &doc)) {
        fprintf(stderr, "bench_config: libyaml refused the text\n");
        exit(1);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    if (n < 1)
        n = 1;
    size_t len, dlen;
    char *text = make_yaml(n, 0, &len), *dup = make_yaml(n, 1, &dlen);

    double base = 1e9, tree = 1e9, full = 1e9, dupt = 1e9;
    size_t keys = 0;
    crm_err err = {0}, derr = {0};
    for (int run = 0; run < 3; run++) {
        double b = libyaml_load(text, len);
        base = b < base ? b : base;

        crm_node *root = NULL;
        double t0 = now_s();
        int rc = crm_node_parse(&root, text, len, "big.yaml", &err);
        double t = now_s() - t0;
        tree = t < tree ? t : tree;
        if (rc != CRM_OK) {
            fprintf(stderr, "bench_config: %s\n", err.msg);
            return 1;
        }
        const crm_node *sec = crm_node_get(root, "bigp");
        keys = sec ? sec->n_items : 0;
        crm_node_free(root);

        crm_config *cfg = NULL;
        t0 = now_s();
        rc = crm_config_load_string(&cfg, text, "big.yaml", &err);
        t = now_s() - t0;
        full = t < full ? t : full;
        if (rc != CRM_OK) {
            fprintf(stderr, "bench_config: %s\n", err.msg);
            return 1;
        }
        crm_config_free(cfg);

        t0 = now_s();
        rc = crm_node_parse(&root, dup, dlen, "big.yaml", &derr);
        t = now_s() - t0;
        dupt = t < dupt ? t : dupt;
        if (rc == CRM_OK || !strstr(derr.msg, "duplicate key")) {
            fprintf(stderr, "bench_config: the repeated key was not refused\n");
            return 1;
        }
    }

    printf("section of %ld keys (%zu loaded), %.1f MB of YAML\n", n, keys, (double)len / 1e6);
    printf("  libyaml document load       %8.3f s\n", base);
    printf("  crm_node_parse (tree)       %8.3f s   %6.2fx libyaml  %7.0f ns/key above it\n",
           tree, tree / base, (tree - base) / (double)n * 1e9);
    printf("  crm_config_load_string      %8.3f s   %6.2fx libyaml\n", full, full / base);
    printf("  duplicate at the end        %8.3f s   (%s)\n", dupt, derr.msg);
    free(text);
    free(dup);
    return 0;
}
