/*
 * Where each section and key of a configuration file is written: the table behind
 * cfg_section_line() and cfg_key_line() (config/config.h). The loader records every line
 * as it reads; the table then belongs to the struct cfg (cfg->lines) and is freed with it.
 * Internal to the config layer; one thread per load, read-only afterwards.
 */
#ifndef SW_CONFIG_LINES_H
#define SW_CONFIG_LINES_H

#include <stdbool.h>
#include <stddef.h>

#include "config/keys.h"

struct cfg_lines {
    unsigned sections[CFG_SECTION_COUNT]; /* singleton section headers by kind; 0 = absent */
    unsigned singles[CFG_KEYS_MAX];       /* singleton keys by table index; 0 = not written */
    /* Per object kind, one row per object in the order of its array in struct cfg, of
     * cfg_keys_kind_count() lines indexed by cfg_keys_kind_position(); 0 = not written.
     * Only the object kinds' entries are used. */
    unsigned *rows[CFG_SECTION_COUNT];
    size_t caps[CFG_SECTION_COUNT]; /* rows allocated; rows past the object count are all 0 */
};

/* A new, empty table, or NULL when out of memory. */
struct cfg_lines *cfg_lines_new(void);

/* Frees `lines` and its rows; NULL is a no-op. */
void cfg_lines_free(struct cfg_lines *lines);

/*
 * Makes room for the row of object `index` of the object kind `kind`,
 * all 0. Called before the object is added, so that a failure leaves the cfg as it was.
 * Returns 0 or -ENOMEM.
 */
int cfg_lines_reserve(struct cfg_lines *lines, enum cfg_section_kind kind, size_t index);

/* The object (trunk, account, alert, sink) named `name`: its kind and index in its
 * array; false when there is none. */
struct cfg;
bool cfg_object_find(const struct cfg *cfg, const char *name, enum cfg_section_kind *kind,
                     size_t *index);

/* Records that key `desc` of object `index` (reserved) of its kind is written at `line`. */
void cfg_lines_set_object_key(struct cfg_lines *lines, size_t index,
                              const struct cfg_key_desc *desc, unsigned line);

#endif
