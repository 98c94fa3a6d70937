/*
 * The key table generated from keys.def, and the section kinds. Internal to the config
 * layer (the loader, the checks, the tests); other layers use config/config.h.
 * Everything here is static and read-only: thread-safe.
 */
#ifndef SW_CONFIG_KEYS_H
#define SW_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"
#include "config/config.h"

enum cfg_type {
    CFG_T_STRING,
    CFG_T_PATH,
    CFG_T_HOST,
    CFG_T_USER,
    CFG_T_SECRET,
    CFG_T_NUMBER,
    CFG_T_HEX,
    CFG_T_BOOL,
    CFG_T_UINT,
    CFG_T_DURATION,
    CFG_T_ENUM,
    CFG_T_LIST,
    CFG_T_CIDRS,
    CFG_T_ENDPOINT,
    CFG_T_HOSTPORT,
    CFG_T_LISTEN,
    CFG_T_ALGORITHMS,
    CFG_T_NUMBERS,
    CFG_T_DATE,
};

enum cfg_section_kind {
    CFG_SECTION_GENERAL,
    CFG_SECTION_TLS,
    CFG_SECTION_PBX,
    CFG_SECTION_ACL,
    CFG_SECTION_AUTH,
    CFG_SECTION_BAN,
    CFG_SECTION_RATELIMIT,
    CFG_SECTION_SCANNER,
    CFG_SECTION_LOG,
    CFG_SECTION_ADMIN,
    CFG_SECTION_STATE,
    CFG_SECTION_CLUSTER,
    CFG_SECTION_STIR,
    CFG_SECTION_MEDIA,
    CFG_SECTION_FRAUD,
    CFG_SECTION_CDR,
    CFG_SECTION_ALERTS,
    CFG_SECTION_TRUNK,
    CFG_SECTION_ACCOUNT,
    CFG_SECTION_ALERT,
    CFG_SECTION_SINK,
    CFG_SECTION_COUNT,
};

/* Upper bound of the number of keys (checked at compile time in keys.c). */
#define CFG_KEYS_MAX 320

struct cfg_key_desc {
    enum cfg_type type;
    uint32_t min;      /* UINT, DURATION: lowest value; HEX: digits; HOSTPORT: default port */
    uint32_t max;      /* UINT, DURATION: highest value */
    const char *words; /* ENUM: "a|b|c" */
    size_t offset;     /* of the field in struct cfg_<section> */
    struct cfg_key_info info;
};

/* The whole table, in keys.def order; `*count` gets its length. */
const struct cfg_key_desc *cfg_keys_table(size_t *count);

/* Position of `desc` in the table. */
size_t cfg_keys_index(const struct cfg_key_desc *desc);

/* The key `name` (exact, case-sensitive) of section kind `kind`, or NULL. */
const struct cfg_key_desc *cfg_keys_find(enum cfg_section_kind kind, struct sv name);

/*
 * The key of `kind` closest to the unknown `name` (the "did you mean" hint) when within
 * cfg_hint_distance_max(name) edits, or NULL.
 */
const struct cfg_key_desc *cfg_keys_hint(enum cfg_section_kind kind, struct sv name);

/* True when `desc` belongs to section kind `kind`. */
bool cfg_keys_in_section(const struct cfg_key_desc *desc, enum cfg_section_kind kind);

/* The number of keys of section kind `kind`. */
size_t cfg_keys_kind_count(enum cfg_section_kind kind);

/* The position of `desc` among the keys of its own section kind (0 for its first key),
 * in keys.def order; below cfg_keys_kind_count() of that kind. */
size_t cfg_keys_kind_position(const struct cfg_key_desc *desc);

/* True when values of `type` are lists that a repeated key appends to. */
bool cfg_type_is_list(enum cfg_type type);

/* True when values of `type` must never be printed (secrets and HA1s). */
bool cfg_type_is_secret(enum cfg_type type);

/* The singleton section or object kind named `name` ("general"..."stir", "trunk",
 * "account"); false when unknown. */
bool cfg_section_kind_find(struct sv name, enum cfg_section_kind *out);

/* The name of `kind` ("general", ..., "trunk", "account"). */
const char *cfg_section_kind_name(enum cfg_section_kind kind);

/* True for the object kinds (trunk, account, alert, sink). */
bool cfg_section_kind_is_object(enum cfg_section_kind kind);

/*
 * The objects of kind `kind` in `cfg`: the array (NULL when none), its length in *count
 * and the size of one element in *size. Every object struct starts with `char *name;
 * unsigned line;` (struct cfg_object_head).
 */
void *cfg_objects_of(const struct cfg *cfg, enum cfg_section_kind kind, size_t *count,
                     size_t *size);

/* Where `kind`'s array and count live in struct cfg (for the loader, which grows them). */
void **cfg_objects_array(struct cfg *cfg, enum cfg_section_kind kind);
size_t *cfg_objects_count(struct cfg *cfg, enum cfg_section_kind kind);

/* The head of object `index` of `kind` (index below its count). */
struct cfg_object_head *cfg_object_at(const struct cfg *cfg, enum cfg_section_kind kind,
                                      size_t index);

/* The singleton section `kind` inside `cfg` (not for objects). */
void *cfg_section_base(struct cfg *cfg, enum cfg_section_kind kind);

/* The singleton section closest to `name` within the same distance, or NULL. */
const char *cfg_section_hint(struct sv name);

/*
 * Edit distance of `a` and `b` (insertions, deletions, substitutions and adjacent
 * transpositions count one), or `cap` + 1 when larger. No allocation.
 */
size_t cfg_edit_distance(struct sv a, struct sv b, size_t cap);

/* How many edits a hint may be away: 2, but 1 for names under 5 bytes and 0 for one byte,
 * so that short names do not get far-fetched hints. */
size_t cfg_hint_distance_max(struct sv name);

#endif
