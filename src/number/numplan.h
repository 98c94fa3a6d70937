/*
 * The numbering plan: territories and their calling codes, trunk and international
 * prefixes, and the class of a number (premium rate, toll free, mobile...), from
 * libphonenumber's metadata compiled at build time into DFA tables (gen_numplan.py ->
 * numplan_data.h). Everything here is read-only static data: thread-safe, no allocation.
 */
#ifndef SW_NUMBER_NUMPLAN_H
#define SW_NUMBER_NUMPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"

#define E164_MAX_DIGITS 15 /* ITU-T E.164 §6.1: at most 15 digits after the '+' */

/*
 * The class of a number. The values up to NUMCLASS_VOICEMAIL are bit positions of the
 * generated accept masks (gen_numplan.py CLASSES): keep the two in step.
 */
enum numclass {
    NUMCLASS_UNKNOWN = 0, /* no pattern of the territory matches: never "safe" */
    NUMCLASS_FIXED,
    NUMCLASS_MOBILE,
    NUMCLASS_TOLL_FREE,
    NUMCLASS_PREMIUM_RATE,
    NUMCLASS_SHARED_COST,
    NUMCLASS_VOIP,
    NUMCLASS_PERSONAL,
    NUMCLASS_PAGER,
    NUMCLASS_UAN,
    NUMCLASS_VOICEMAIL,
    NUMCLASS_FIXED_OR_MOBILE, /* both patterns match (e.g. +1): libphonenumber's answer */
    NUMCLASS_COUNT
};

/* One territory (ISO 3166-1 alpha-2, or "001" for a non-geographic code). */
struct numplan_territory {
    const char *iso;
    const char *calling_code;    /* digits, no '+' */
    const char *name;            /* English display name */
    const char *national_prefix; /* trunk prefix ("0", "1", "8", "06"), "" when none */
    uint16_t leading_start;      /* DFA of leading_digits (0: none) */
    uint16_t intl_start;         /* DFA of the international prefix (0: none) */
    uint16_t class_start;        /* DFA of the class patterns (0: no data) */
    uint8_t is_main;             /* the default territory of a shared calling code */
    bool has_classes;
};

/* One row of the built-in high-risk list (high-risk-prefixes.tsv). */
struct numplan_highrisk {
    const char *prefix; /* E.164 digits without '+' */
    const char *iso;
    const char *name;
    const char *lists; /* comma-separated list ids, e.g. "FBI-2014,FTC-ONE-RING" */
    const char *note;
};

/* The result of classifying an E.164 number. */
struct numplan_class {
    const struct numplan_territory *territory; /* NULL when the calling code is unknown */
    enum numclass numclass;
    uint16_t mask; /* every class whose pattern matches (1 << enum numclass) */
};

/* The lower-case name of a class ("premium-rate", "unknown"...). Never NULL. */
const char *numclass_name(enum numclass numclass);

/* The territory with ISO code `iso` (case-insensitive), or NULL. */
const struct numplan_territory *numplan_territory_by_iso(struct sv iso);

/* The main territory of the calling code in `code` (digits, e.g. "49"), or NULL. */
const struct numplan_territory *numplan_territory_by_code(struct sv code);

/*
 * The length (1 to 3) of the calling code that starts the E.164 digits `digits`, or 0
 * when no assigned code does (ITU-T E.164 codes are prefix-free).
 */
size_t numplan_code_len(struct sv digits);

/*
 * Classifies the E.164 digits `digits` (calling code first, no '+', at most 15). Among
 * the territories that share the calling code, the one whose leading digits select the
 * number wins, else the first (main first) whose patterns classify it; `out->numclass`
 * is NUMCLASS_UNKNOWN when none does, with the territory the leading digits select (else
 * the main one). Never fails: an unknown code gives a NULL territory.
 */
void numplan_classify(struct sv digits, struct numplan_class *out);

/*
 * The length of the longest international prefix of `territory` (00, 011, 810...) that
 * starts `digits` and is followed by a digit other than 0 (calling codes never start with
 * 0), or 0 when there is none.
 */
size_t numplan_intl_prefix_len(const struct numplan_territory *territory, struct sv digits);

/* The built-in high-risk rows: their count and row `i` (< count). */
size_t numplan_highrisk_count(void);
const struct numplan_highrisk *numplan_highrisk_row(size_t i);

#endif
