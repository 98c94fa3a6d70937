#include "config/lines.h"

#include <errno.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "config/config.h"

/* Rows added at once beyond the first, so that loading n objects copies O(n) rows. */
#define ROWS_MIN 8

struct cfg_lines *cfg_lines_new(void)
{
    return sw_calloc(1, sizeof(struct cfg_lines));
}

void cfg_lines_free(struct cfg_lines *lines)
{
    if (lines == NULL) {
        return;
    }
    sw_free(lines->trunk_rows);
    lines->trunk_rows = NULL;
    sw_free(lines->account_rows);
    lines->account_rows = NULL;
    sw_free(lines);
}

int cfg_lines_reserve(struct cfg_lines *lines, enum cfg_section_kind kind, size_t index)
{
    SW_ASSERT(kind == CFG_SECTION_TRUNK || kind == CFG_SECTION_ACCOUNT);
    SW_ASSERT(index < CFG_OBJECTS_MAX);
    bool is_trunk = kind == CFG_SECTION_TRUNK;
    unsigned **rows = is_trunk ? &lines->trunk_rows : &lines->account_rows;
    size_t *cap = is_trunk ? &lines->trunk_cap : &lines->account_cap;
    if (index < *cap) {
        return 0;
    }
    size_t width = cfg_keys_kind_count(kind);
    size_t grown_cap = *cap < ROWS_MIN ? ROWS_MIN : *cap * 2;
    unsigned *grown = sw_realloc(*rows, grown_cap * width * sizeof(unsigned));
    if (grown == NULL) {
        return -ENOMEM;
    }
    memset(grown + *cap * width, 0, (grown_cap - *cap) * width * sizeof(unsigned));
    *rows = grown;
    *cap = grown_cap;
    return 0;
}

void cfg_lines_set_object_key(struct cfg_lines *lines, size_t index,
                              const struct cfg_key_desc *desc, unsigned line)
{
    bool is_trunk = cfg_keys_in_section(desc, CFG_SECTION_TRUNK);
    SW_ASSERT(is_trunk || cfg_keys_in_section(desc, CFG_SECTION_ACCOUNT));
    enum cfg_section_kind kind = is_trunk ? CFG_SECTION_TRUNK : CFG_SECTION_ACCOUNT;
    SW_ASSERT(index < (is_trunk ? lines->trunk_cap : lines->account_cap));
    unsigned *rows = is_trunk ? lines->trunk_rows : lines->account_rows;
    rows[index * cfg_keys_kind_count(kind) + cfg_keys_kind_position(desc)] = line;
}

bool cfg_object_find(const struct cfg *cfg, const char *name, enum cfg_section_kind *kind,
                     size_t *index)
{
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        if (strcmp(cfg->trunks[i].name, name) == 0) {
            *kind = CFG_SECTION_TRUNK;
            *index = i;
            return true;
        }
    }
    for (size_t i = 0; i < cfg->account_count; i++) {
        if (strcmp(cfg->accounts[i].name, name) == 0) {
            *kind = CFG_SECTION_ACCOUNT;
            *index = i;
            return true;
        }
    }
    return false;
}

/* The singleton section kind named `name` ("general" ... "stir"); false otherwise. */
static bool find_single(const char *name, enum cfg_section_kind *kind)
{
    return cfg_section_kind_find(sv_from_cstr(name), kind) && !cfg_section_kind_is_object(*kind);
}

unsigned cfg_section_line(const struct cfg *cfg, const char *section)
{
    SW_ASSERT(cfg != NULL && cfg->lines != NULL && section != NULL);
    enum cfg_section_kind kind;
    size_t index = 0;
    if (find_single(section, &kind)) {
        return cfg->lines->sections[kind];
    }
    if (!cfg_object_find(cfg, section, &kind, &index)) {
        return 0;
    }
    return kind == CFG_SECTION_TRUNK ? cfg->trunks[index].line : cfg->accounts[index].line;
}

unsigned cfg_key_line(const struct cfg *cfg, const char *section, const char *key)
{
    SW_ASSERT(cfg != NULL && cfg->lines != NULL && section != NULL && key != NULL);
    enum cfg_section_kind kind;
    size_t index = 0;
    if (find_single(section, &kind)) {
        const struct cfg_key_desc *desc = cfg_keys_find(kind, sv_from_cstr(key));
        return desc != NULL ? cfg->lines->singles[cfg_keys_index(desc)] : 0;
    }
    if (!cfg_object_find(cfg, section, &kind, &index)) {
        return 0;
    }
    const struct cfg_key_desc *desc = cfg_keys_find(kind, sv_from_cstr(key));
    if (desc == NULL) {
        return 0;
    }
    const unsigned *rows =
        kind == CFG_SECTION_TRUNK ? cfg->lines->trunk_rows : cfg->lines->account_rows;
    return rows[index * cfg_keys_kind_count(kind) + cfg_keys_kind_position(desc)];
}
