/*
 * The rules between keys, run by the loader after the values are parsed: derived
 * defaults (a trunk's permit from its provider, the PBX's permit from its address, the
 * implicit never_ban ranges, the default trunk) and consistency (a TLS listener needs a
 * certificate, an account needs a credential, usernames are unique, key files are
 * private...). Each problem goes into the diag with the line of the key concerned.
 * Internal to the config layer; one thread per load.
 */
#ifndef SW_CONFIG_CHECK_H
#define SW_CONFIG_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"
#include "config/config.h"
#include "config/keys.h"

struct cfg_check_ctx {
    struct cfg *cfg;
    struct sw_diag *diag;
    const char *file;
    const unsigned *key_lines;     /* line of each singleton key by table index; 0 = unset */
    const unsigned *section_lines; /* line of each singleton section by kind; 0 = absent */
    bool is_offline; /* the files the configuration names are not looked at (cfg_load_offline) */
};

/* Derives the defaults of `trunk` and checks it; `key_lines` as for its own keys. */
void cfg_check_trunk(const struct cfg_check_ctx *ctx, struct cfg_trunk *trunk,
                     const unsigned *key_lines);

/* Derives the defaults of `account` and checks it. */
void cfg_check_account(const struct cfg_check_ctx *ctx, struct cfg_account *account,
                       const unsigned *key_lines);

/* Checks an alert rule (a metric is required; title defaults to the section name). */
void cfg_check_alert(const struct cfg_check_ctx *ctx, struct cfg_alert *alert,
                     const unsigned *key_lines);

/* Checks a sink: what its kind requires; a webhook URL must be https unless allow_http. */
void cfg_check_sink(const struct cfg_check_ctx *ctx, struct cfg_sink *sink,
                    const unsigned *key_lines);

/* The singleton sections and the rules across objects; run once, after every section. */
void cfg_check_global(const struct cfg_check_ctx *ctx);

#endif
