#include "config/keys.h"

#include <stddef.h>
#include <string.h>

#include "base/assert.h"

/* Removes the parentheses around a TYPE expansion. */
#define CFG_UNWRAP(...) __VA_ARGS__

/*
 * First expansion of keys.def: the key table. Each TYPE word becomes a parenthesised list
 * of designated initializers (the parentheses keep its commas inside one macro argument
 * while CFG_KEY forwards it to CFG_KEY_FIELD), unwrapped in the table entry.
 */
/* clang-format off */
#define STRING           (.type = CFG_T_STRING, .info.type = "string")
#define PATH             (.type = CFG_T_PATH, .info.type = "path")
#define HOST             (.type = CFG_T_HOST, .info.type = "host")
#define USER             (.type = CFG_T_USER, .info.type = "user")
#define SECRET           (.type = CFG_T_SECRET, .info.type = "secret")
#define NUMBER           (.type = CFG_T_NUMBER, .info.type = "number")
#define HEX(n)           (.type = CFG_T_HEX, .min = (n), .info.type = "hex, " #n " digits")
#define BOOL             (.type = CFG_T_BOOL, .info.type = "bool")
#define UINT(lo, hi)     (.type = CFG_T_UINT, .min = (lo), .max = (hi), .info.type = "uint " #lo ".." #hi)
#define DURATION(lo, hi) (.type = CFG_T_DURATION, .min = (lo), .max = (hi), .info.type = "duration " #lo ".." #hi " s")
#define ENUM(w)          (.type = CFG_T_ENUM, .words = (w), .info.type = "enum " w)
#define LIST             (.type = CFG_T_LIST, .info.type = "list")
#define CIDRS            (.type = CFG_T_CIDRS, .info.type = "cidr list")
#define ENDPOINT         (.type = CFG_T_ENDPOINT, .info.type = "endpoint")
#define HOSTPORT(port)   (.type = CFG_T_HOSTPORT, .min = (port), .info.type = "host:port")
#define LISTEN           (.type = CFG_T_LISTEN, .info.type = "endpoint list")
#define ALGORITHMS       (.type = CFG_T_ALGORITHMS, .info.type = "algorithm list")
#define NUMBERS          (.type = CFG_T_NUMBERS, .info.type = "number list")
#define DATE             (.type = CFG_T_DATE, .info.type = "date")
/* clang-format on */

#define CFG_KEY_FIELD(sec, key, field, type_, def, help_) \
    { CFG_UNWRAP type_,                                   \
      .offset = offsetof(struct cfg_##sec, field),        \
      .info.section = #sec,                               \
      .info.name = #key,                                  \
      .info.default_value = (def),                        \
      .info.help = (help_) },

static const struct cfg_key_desc keys[] = {
#include "config/keys.def"
};

#undef CFG_KEY_FIELD
#undef STRING
#undef PATH
#undef HOST
#undef USER
#undef SECRET
#undef NUMBER
#undef HEX
#undef BOOL
#undef UINT
#undef DURATION
#undef ENUM
#undef LIST
#undef CIDRS
#undef ENDPOINT
#undef HOSTPORT
#undef LISTEN
#undef ALGORITHMS
#undef NUMBERS
#undef DATE

/*
 * Second expansion: every field has the C type of its key type, so the loader's writes
 * through `offset` are well-typed. An enum is checked as unsigned int, the type gcc and
 * clang give an enum without negative constants.
 */
#define STRING           (char *)
#define PATH             (char *)
#define HOST             (char *)
#define USER             (char *)
#define SECRET           (char *)
#define NUMBER           (char *)
#define HEX(n)           (char *)
#define BOOL             (bool)
#define UINT(lo, hi)     (uint32_t)
#define DURATION(lo, hi) (uint32_t)
#define ENUM(w)          (unsigned int)
#define LIST             (struct cfg_strings)
#define CIDRS            (struct cfg_cidrs)
#define ENDPOINT         (struct cfg_endpoint)
#define HOSTPORT(port)   (struct cfg_endpoint)
#define LISTEN           (struct cfg_endpoints)
#define ALGORITHMS       (struct cfg_algorithms)
#define NUMBERS          (struct cfg_numbers)
#define DATE             (int64_t)

#define CFG_KEY_FIELD(sec, key, field, type_, def, help_)                                          \
    _Static_assert(_Generic(((struct cfg_##sec *)NULL)->field, CFG_UNWRAP type_ : 1, default : 0), \
                   "struct cfg_" #sec " field " #field " does not have the type of its key");

#include "config/keys.def"

#undef CFG_KEY_FIELD
#undef STRING
#undef PATH
#undef HOST
#undef USER
#undef SECRET
#undef NUMBER
#undef HEX
#undef BOOL
#undef UINT
#undef DURATION
#undef ENUM
#undef LIST
#undef CIDRS
#undef ENDPOINT
#undef HOSTPORT
#undef LISTEN
#undef ALGORITHMS
#undef NUMBERS
#undef DATE

_Static_assert(sizeof(keys) / sizeof(keys[0]) <= CFG_KEYS_MAX, "raise CFG_KEYS_MAX");
_Static_assert(sizeof(enum cfg_log_level) == sizeof(unsigned int), "enums are unsigned int");

struct section_kind_info {
    const char *name;
    size_t offset; /* of the singleton in struct cfg; objects: of their array pointer */
    bool is_object;
    size_t count_offset; /* objects: of their count in struct cfg */
    size_t size;         /* objects: of one element */
};

#define SINGLE_KIND(name_, field)                                                  \
    {                                                                              \
        .name = (name_), .offset = offsetof(struct cfg, field), .is_object = false \
    }
#define OBJECT_KIND(name_, items, count, type)                                     \
    {                                                                              \
        .name = (name_), .offset = offsetof(struct cfg, items), .is_object = true, \
        .count_offset = offsetof(struct cfg, count), .size = sizeof(type)          \
    }

static const struct section_kind_info section_kinds[CFG_SECTION_COUNT] = {
    [CFG_SECTION_GENERAL] = SINGLE_KIND("general", general),
    [CFG_SECTION_TLS] = SINGLE_KIND("tls", tls),
    [CFG_SECTION_PBX] = SINGLE_KIND("pbx", pbx),
    [CFG_SECTION_ACL] = SINGLE_KIND("acl", acl),
    [CFG_SECTION_AUTH] = SINGLE_KIND("auth", auth),
    [CFG_SECTION_BAN] = SINGLE_KIND("ban", ban),
    [CFG_SECTION_RATELIMIT] = SINGLE_KIND("ratelimit", ratelimit),
    [CFG_SECTION_SCANNER] = SINGLE_KIND("scanner", scanner),
    [CFG_SECTION_LOG] = SINGLE_KIND("log", log),
    [CFG_SECTION_ADMIN] = SINGLE_KIND("admin", admin),
    [CFG_SECTION_STATE] = SINGLE_KIND("state", state),
    [CFG_SECTION_CLUSTER] = SINGLE_KIND("cluster", cluster),
    [CFG_SECTION_STIR] = SINGLE_KIND("stir", stir),
    [CFG_SECTION_MEDIA] = SINGLE_KIND("media", media),
    [CFG_SECTION_FRAUD] = SINGLE_KIND("fraud", fraud),
    [CFG_SECTION_CDR] = SINGLE_KIND("cdr", cdr),
    [CFG_SECTION_ALERTS] = SINGLE_KIND("alerts", alerts),
    [CFG_SECTION_TRUNK] = OBJECT_KIND("trunk", trunks, trunk_count, struct cfg_trunk),
    [CFG_SECTION_ACCOUNT] = OBJECT_KIND("account", accounts, account_count, struct cfg_account),
    [CFG_SECTION_ALERT] = OBJECT_KIND("alert", alert_rules, alert_rule_count, struct cfg_alert),
    [CFG_SECTION_SINK] = OBJECT_KIND("sink", alert_sinks, alert_sink_count, struct cfg_sink),
};

void **cfg_objects_array(struct cfg *cfg, enum cfg_section_kind kind)
{
    SW_ASSERT(kind < CFG_SECTION_COUNT && section_kinds[kind].is_object);
    return (void **)(void *)((char *)cfg + section_kinds[kind].offset);
}

size_t *cfg_objects_count(struct cfg *cfg, enum cfg_section_kind kind)
{
    SW_ASSERT(kind < CFG_SECTION_COUNT && section_kinds[kind].is_object);
    return (size_t *)(void *)((char *)cfg + section_kinds[kind].count_offset);
}

void *cfg_objects_of(const struct cfg *cfg, enum cfg_section_kind kind, size_t *count, size_t *size)
{
    SW_ASSERT(kind < CFG_SECTION_COUNT && section_kinds[kind].is_object);
    const char *base = (const char *)cfg;
    *count = *(const size_t *)(const void *)(base + section_kinds[kind].count_offset);
    *size = section_kinds[kind].size;
    return *(void *const *)(const void *)(base + section_kinds[kind].offset);
}

struct cfg_object_head *cfg_object_at(const struct cfg *cfg, enum cfg_section_kind kind,
                                      size_t index)
{
    size_t count = 0;
    size_t size = 0;
    char *items = cfg_objects_of(cfg, kind, &count, &size);
    SW_ASSERT(index < count);
    return (struct cfg_object_head *)(void *)(items + index * size);
}

const struct cfg_key_desc *cfg_keys_table(size_t *count)
{
    *count = sizeof(keys) / sizeof(keys[0]);
    return keys;
}

size_t cfg_keys_index(const struct cfg_key_desc *desc)
{
    SW_ASSERT(desc >= keys && desc < keys + sizeof(keys) / sizeof(keys[0]));
    return (size_t)(desc - keys);
}

size_t cfg_key_count(void)
{
    return sizeof(keys) / sizeof(keys[0]);
}

const struct cfg_key_info *cfg_key_at(size_t index)
{
    SW_ASSERT(index < sizeof(keys) / sizeof(keys[0]));
    return &keys[index].info;
}

bool cfg_keys_in_section(const struct cfg_key_desc *desc, enum cfg_section_kind kind)
{
    SW_ASSERT(kind < CFG_SECTION_COUNT);
    return strcmp(desc->info.section, section_kinds[kind].name) == 0;
}

const struct cfg_key_desc *cfg_keys_find(enum cfg_section_kind kind, struct sv name)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (cfg_keys_in_section(&keys[i], kind) && sv_eq(sv_from_cstr(keys[i].info.name), name)) {
            return &keys[i];
        }
    }
    return NULL;
}

const struct cfg_key_desc *cfg_keys_hint(enum cfg_section_kind kind, struct sv name)
{
    const struct cfg_key_desc *best = NULL;
    size_t cap = cfg_hint_distance_max(name);
    size_t best_distance = cap + 1;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (!cfg_keys_in_section(&keys[i], kind)) {
            continue;
        }
        size_t distance = cfg_edit_distance(sv_from_cstr(keys[i].info.name), name, cap);
        if (distance < best_distance) {
            best = &keys[i];
            best_distance = distance;
        }
    }
    return best;
}

size_t cfg_keys_kind_count(enum cfg_section_kind kind)
{
    size_t count = 0;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        count += cfg_keys_in_section(&keys[i], kind) ? 1 : 0;
    }
    return count;
}

size_t cfg_keys_kind_position(const struct cfg_key_desc *desc)
{
    size_t index = cfg_keys_index(desc);
    size_t position = 0;
    for (size_t i = 0; i < index; i++) {
        position += strcmp(keys[i].info.section, desc->info.section) == 0 ? 1 : 0;
    }
    return position;
}

bool cfg_type_is_list(enum cfg_type type)
{
    return type == CFG_T_LIST || type == CFG_T_CIDRS || type == CFG_T_LISTEN ||
           type == CFG_T_NUMBERS;
}

bool cfg_type_is_secret(enum cfg_type type)
{
    return type == CFG_T_SECRET || type == CFG_T_HEX;
}

bool cfg_section_kind_find(struct sv name, enum cfg_section_kind *out)
{
    for (size_t i = 0; i < CFG_SECTION_COUNT; i++) {
        if (sv_eq(sv_from_cstr(section_kinds[i].name), name)) {
            *out = (enum cfg_section_kind)i;
            return true;
        }
    }
    return false;
}

const char *cfg_section_kind_name(enum cfg_section_kind kind)
{
    SW_ASSERT(kind < CFG_SECTION_COUNT);
    return section_kinds[kind].name;
}

bool cfg_section_kind_is_object(enum cfg_section_kind kind)
{
    SW_ASSERT(kind < CFG_SECTION_COUNT);
    return section_kinds[kind].is_object;
}

void *cfg_section_base(struct cfg *cfg, enum cfg_section_kind kind)
{
    SW_ASSERT(kind < CFG_SECTION_COUNT && !section_kinds[kind].is_object);
    return (char *)cfg + section_kinds[kind].offset;
}

const char *cfg_section_hint(struct sv name)
{
    const char *best = NULL;
    size_t cap = cfg_hint_distance_max(name);
    size_t best_distance = cap + 1;
    for (size_t i = 0; i < CFG_SECTION_COUNT; i++) {
        if (section_kinds[i].is_object) {
            continue;
        }
        size_t distance = cfg_edit_distance(sv_from_cstr(section_kinds[i].name), name, cap);
        if (distance < best_distance) {
            best = section_kinds[i].name;
            best_distance = distance;
        }
    }
    return best;
}

/* Names longer than this are never close to a key (the longest key has 26 bytes). */
#define EDIT_NAME_MAX 64

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

size_t cfg_edit_distance(struct sv a, struct sv b, size_t cap)
{
    if (a.len > EDIT_NAME_MAX || b.len > EDIT_NAME_MAX) {
        return cap + 1;
    }
    size_t diff = a.len > b.len ? a.len - b.len : b.len - a.len;
    if (diff > cap) {
        return cap + 1;
    }
    /* Optimal string alignment (Levenshtein plus adjacent transpositions, the commonest
     * typo), with three rolling rows of the matrix. */
    size_t rows[3][EDIT_NAME_MAX + 1];
    size_t *before = rows[0];
    size_t *above = rows[1];
    size_t *row = rows[2];
    for (size_t j = 0; j <= b.len; j++) {
        above[j] = j;
    }
    for (size_t i = 1; i <= a.len; i++) {
        row[0] = i;
        for (size_t j = 1; j <= b.len; j++) {
            size_t cost = a.ptr[i - 1] == b.ptr[j - 1] ? 0 : 1;
            row[j] = min3(above[j] + 1, row[j - 1] + 1, above[j - 1] + cost);
            if (i > 1 && j > 1 && a.ptr[i - 1] == b.ptr[j - 2] && a.ptr[i - 2] == b.ptr[j - 1] &&
                before[j - 2] + 1 < row[j]) {
                row[j] = before[j - 2] + 1;
            }
        }
        size_t *oldest = before;
        before = above;
        above = row;
        row = oldest;
    }
    return above[b.len] > cap ? cap + 1 : above[b.len];
}

size_t cfg_hint_distance_max(struct sv name)
{
    return name.len >= 5 ? 2 : (name.len >= 2 ? 1 : 0);
}
