#include "tools/check_config.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/diag.h"
#include "config/config.h"
#include "obs/geoip.h"
#include "policy/fraud.h"

#define EXIT_VALID   0
#define EXIT_INVALID 1
#define EXIT_USAGE   2

static void usage(FILE *out)
{
    (void)fprintf(out, "usage: sipwarden check-config FILE\n"
                       "       sipwarden check-config --default\n"
                       "       sipwarden check-config --list-keys\n"
                       "\n"
                       "Validates a configuration file without starting: every problem is\n"
                       "printed as file:line: section.key: message. Exit 0 when the file is\n"
                       "valid (warnings allowed), 1 on any error, 2 on bad usage.\n"
                       "--default checks the built-in default; --list-keys prints every key.\n");
}

static bool same_section(const struct cfg_key_info *a, const struct cfg_key_info *b)
{
    return strcmp(a->section, b->section) == 0;
}

static void print_section_header(FILE *out, const char *section)
{
    if (strcmp(section, "trunk") == 0 || strcmp(section, "account") == 0 ||
        strcmp(section, "alert") == 0 || strcmp(section, "sink") == 0) {
        (void)fprintf(out, "[NAME] with type = %s (first key of the section)\n", section);
        return;
    }
    (void)fprintf(out, "[%s]\n", section);
}

void tools_check_config_list_keys(FILE *out)
{
    size_t count = cfg_key_count();
    for (size_t i = 0; i < count; i++) {
        const struct cfg_key_info *key = cfg_key_at(i);
        if (i == 0 || !same_section(key, cfg_key_at(i - 1))) {
            if (i != 0) {
                (void)fputc('\n', out);
            }
            print_section_header(out, key->section);
        }
        if (key->default_value != NULL) {
            (void)fprintf(out, "  %s (%s, default \"%s\")\n      %s\n", key->name, key->type,
                          key->default_value, key->help);
        } else {
            (void)fprintf(out, "  %s (%s, no default)\n      %s\n", key->name, key->type,
                          key->help);
        }
    }
}

/* Orders entries by line; entries of the same line keep their order. */
static int compare_entries(const void *a, const void *b)
{
    const struct sw_diag_entry *const *x = a;
    const struct sw_diag_entry *const *y = b;
    if ((*x)->line != (*y)->line) {
        return (*x)->line < (*y)->line ? -1 : 1;
    }
    return *x < *y ? -1 : (*x > *y ? 1 : 0);
}

static void print_sorted(const struct sw_diag *diag, FILE *out)
{
    struct sw_diag_entry **order = sw_calloc(diag->count + 1, sizeof(struct sw_diag_entry *));
    if (order == NULL) {
        sw_diag_print(diag, out);
        return;
    }
    for (size_t i = 0; i < diag->count; i++) {
        order[i] = &diag->entries[i];
    }
    qsort(order, diag->count, sizeof(struct sw_diag_entry *), compare_entries);
    struct sw_diag one = { 0 };
    for (size_t i = 0; i < diag->count; i++) {
        /* A one-entry view of the diag reuses its printer (the same format everywhere). */
        one.entries = order[i];
        one.count = 1;
        sw_diag_print(&one, out);
    }
    sw_free(order);
}

static int check(const char *path, bool is_default)
{
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = is_default ? cfg_load_default(&diag) : cfg_load_file(path, &diag);
    if (cfg != NULL) {
        /* The fraud policy reads its own files (rate deck, time zones): what would stop the
         * start stops the check too. */
        struct fraud_policy *policy = fraud_policy_new(cfg, &diag);
        if (policy == NULL) {
            cfg_free(cfg);
            cfg = NULL;
        } else {
            fraud_policy_lint(cfg, &diag);
        }
        fraud_policy_free(policy);
    }
    struct geoip *geo = NULL;
    if (cfg != NULL && geoip_open_configured(cfg, &geo, &diag) != 0) {
        cfg_free(cfg); /* a database the gateway could not open stops the check too */
        cfg = NULL;
    }
    geoip_free(geo);
    print_sorted(&diag, stderr);
    size_t warnings = diag.count - diag.error_count;
    int rc = EXIT_VALID;
    if (cfg == NULL) {
        (void)printf("%s: invalid: %zu error%s, %zu warning%s\n", path, diag.error_count,
                     diag.error_count == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
        rc = EXIT_INVALID;
    } else {
        (void)printf("%s: valid: %zu trunk%s, %zu account%s, %zu warning%s\n", path,
                     cfg->trunk_count, cfg->trunk_count == 1 ? "" : "s", cfg->account_count,
                     cfg->account_count == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    }
    cfg_free(cfg);
    sw_diag_fini(&diag);
    return rc;
}

int tools_check_config_main(int argc, char **argv)
{
    if (argc != 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *arg = argv[1];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        usage(stdout);
        return EXIT_VALID;
    }
    if (strcmp(arg, "--list-keys") == 0) {
        tools_check_config_list_keys(stdout);
        return EXIT_VALID;
    }
    if (strcmp(arg, "--default") == 0) {
        return check("loopback.conf (built-in default)", true);
    }
    if (arg[0] == '-') {
        (void)fprintf(stderr, "sipwarden check-config: unknown option '%s'\n\n", arg);
        usage(stderr);
        return EXIT_USAGE;
    }
    return check(arg, false);
}
