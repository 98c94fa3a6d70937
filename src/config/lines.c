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
    for (size_t kind = 0; kind < CFG_SECTION_COUNT; kind++) {
        sw_free(lines->rows[kind]);
        lines->rows[kind] = NULL;
    }
    sw_free(lines);
}

int cfg_lines_reserve(struct cfg_lines *lines, enum cfg_section_kind kind, size_t index)
{
    SW_ASSERT(cfg_section_kind_is_object(kind));
    SW_ASSERT(index < CFG_OBJECTS_MAX);
    unsigned **rows = &lines->rows[kind];
    size_t *cap = &lines->caps[kind];
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
    enum cfg_section_kind kind = CFG_SECTION_COUNT;
    bool is_found = cfg_section_kind_find(sv_from_cstr(desc->info.section), &kind);
    SW_ASSERT(is_found && cfg_section_kind_is_object(kind));
    SW_ASSERT(index < lines->caps[kind]);
    lines->rows[kind][index * cfg_keys_kind_count(kind) + cfg_keys_kind_position(desc)] = line;
}

bool cfg_object_find(const struct cfg *cfg, const char *name, enum cfg_section_kind *kind,
                     size_t *index)
{
    for (size_t k = 0; k < CFG_SECTION_COUNT; k++) {
        if (!cfg_section_kind_is_object((enum cfg_section_kind)k)) {
            continue;
        }
        size_t count = 0;
        size_t size = 0;
        const char *items = cfg_objects_of(cfg, (enum cfg_section_kind)k, &count, &size);
        for (size_t i = 0; i < count; i++) {
            const struct cfg_object_head *head = (const void *)(items + i * size);
            if (strcmp(head->name, name) == 0) {
                *kind = (enum cfg_section_kind)k;
                *index = i;
                return true;
            }
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
    return cfg_object_at(cfg, kind, index)->line;
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
    const unsigned *rows = cfg->lines->rows[kind];
    return rows[index * cfg_keys_kind_count(kind) + cfg_keys_kind_position(desc)];
}
