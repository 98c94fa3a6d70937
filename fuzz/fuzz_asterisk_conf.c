/*
 * Fuzz target for the Asterisk configuration reader (tools/asterisk_conf.h): any bytes
 * must give a configuration or a diagnostic, never a crash, a leak or a read out of
 * bounds. Includes are disabled so that no input can make the harness open files. Every
 * loaded entry is walked and looked up, so that views pointing outside the copy show up
 * under ASan.
 */
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "tools/asterisk_conf.h"
#include "tools/audit_asterisk.h"

/* Inputs larger than this are cut: the reader's own limit is tested by the unit tests. */
#define FUZZ_MAX_INPUT (256 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walk(const struct asterisk_conf *conf)
{
    size_t bytes = 0;
    for (size_t i = 0; i < conf->section_count; i++) {
        const struct asterisk_conf_section *s = &conf->sections[i];
        bytes += s->name.len;
        for (size_t j = 0; j < s->entry_count; j++) {
            const struct asterisk_conf_entry *e = &s->entries[j];
            for (size_t k = 0; k < e->value.len; k++) {
                bytes += (unsigned char)e->value.ptr[k] == 0xff ? 1 : 0;
            }
            if (e->kind == ASTERISK_CONF_VAR) {
                (void)asterisk_conf_section_get(s, e->key);
            }
        }
        (void)asterisk_conf_find(conf, s->name);
    }
    return bytes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) {
        size = FUZZ_MAX_INPUT;
    }
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct asterisk_conf *conf = NULL;
    (void)asterisk_conf_parse("fuzz.conf", sv_make((const char *)data, size),
                              ASTERISK_CONF_NO_INCLUDE, &conf, &diag);
    if (conf != NULL) {
        (void)walk(conf);
        (void)audit_asterisk_detect(conf);
    }
    asterisk_conf_free(conf);
    sw_diag_fini(&diag);
    return 0;
}
