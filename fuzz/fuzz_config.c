/*
 * fuzz_config: configuration text -> cfg_load_string -> cfg_free. Checks that every input
 * either loads or reports at least one error, and leaks nothing (ASan's leak check).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/diag.h"
#include "config/config.h"

/* The name is libFuzzer's. */
/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Real files are a few kilobytes; larger inputs only slow the search down. */
    if (size > 65536) {
        return 0;
    }
    char *text = sw_malloc(size + 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("fuzz.conf", text, &diag);
    if ((cfg == NULL) != (diag.error_count > 0)) {
        abort();
    }
    for (size_t i = 0; cfg != NULL && i < cfg->account_count; i++) {
        if (cfg->accounts[i].username == NULL) {
            abort();
        }
    }
    cfg_free(cfg);
    sw_diag_fini(&diag);
    sw_free(text);
    return 0;
}
