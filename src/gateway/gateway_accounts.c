/*
 * Remote accounts as the gateway sees them: credentials for the PBX's challenges (owned
 * copies: a reload frees the configuration they came from) and the registrar table.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "call/registrar.h"
#include "config/config.h"
#include "gateway/gateway_int.h"

int gw_accounts_init(struct gateway *gw, const struct cfg *cfg)
{
    int rc = registrar_init(cfg->account_count);
    if (rc != 0) {
        return rc;
    }
    gw->account_creds =
        sw_calloc(cfg->account_count == 0 ? 1 : cfg->account_count, sizeof(*gw->account_creds));
    if (gw->account_creds == NULL) {
        return -ENOMEM;
    }
    gw->account_count = cfg->account_count;
    for (size_t i = 0; i < cfg->account_count; i++) {
        const struct cfg_account *a = &cfg->accounts[i];
        struct uac_credentials *c = &gw->account_creds[i];
        /* Our HA1s are for our realm, not the PBX's: only a plain secret can answer it. */
        c->username = a->username != NULL ? sw_strdup(a->username) : NULL;
        c->secret = a->secret != NULL ? sw_strdup(a->secret) : NULL;
    }
    return 0;
}

void gw_accounts_fini(struct gateway *gw)
{
    for (size_t i = 0; gw->account_creds != NULL && i < gw->account_count; i++) {
        sw_free_secret(gw->account_creds[i].username);
        sw_free_secret(gw->account_creds[i].secret);
    }
    sw_free(gw->account_creds);
    gw->account_creds = NULL;
    gw->account_count = 0;
    registrar_fini();
}
