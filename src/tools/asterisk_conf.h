/*
 * Reader for Asterisk configuration files (sip.conf, pjsip.conf, logger.conf...), for the
 * offline audit. It understands what Asterisk's own config loader does with these files:
 *
 *   [name]              a section; several sections may share a name (PJSIP does this)
 *   [name](!)           a template (never an object of its own)
 *   [name](t1,t2)       inherits every variable of the sections t1, t2 defined before it
 *   [name](!,t1)        a template that inherits
 *   [name](+)           appends to the last section called name
 *   key = value         also key => value; values keep inner spaces
 *   ; comment           to the end of the line; "\;" is a literal semicolon
 *   ;-- block --;       a comment over several lines (nesting counted)
 *   #include file      relative to the including file's folder (glob patterns allowed)
 *   #tryinclude file   the same, silent when nothing matches
 *   #exec              never run; reported as a warning
 *
 * Every entry keeps its file and line. Comments inside a section are kept as entries too
 * (the audit reads "; rotated=YYYY-MM-DD" from them). Everything is bounded: file size,
 * number of files, include depth, sections and entries (inherited copies included), so a
 * hostile file costs a known amount of memory. Problems go to a struct sw_diag as
 * "file:line: message"; reading continues after an error so every problem is listed.
 *
 * The loaded configuration owns all its memory; entries' views point into it and live
 * until asterisk_conf_free(). It is read-only once loaded; one thread at a time.
 */
#ifndef SW_TOOLS_ASTERISK_CONF_H
#define SW_TOOLS_ASTERISK_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"
#include "base/sv.h"

/* Limits (documented above): larger input is refused with a diagnostic. */
#define ASTERISK_CONF_MAX_FILE_BYTES ((size_t)4 * 1024 * 1024)
#define ASTERISK_CONF_MAX_FILES      64
#define ASTERISK_CONF_MAX_DEPTH      8
#define ASTERISK_CONF_MAX_SECTIONS   20000
#define ASTERISK_CONF_MAX_ENTRIES    200000
#define ASTERISK_CONF_MAX_TEMPLATES  16

enum asterisk_conf_flag {
    ASTERISK_CONF_NO_INCLUDE = 1u << 0, /* report #include as a warning, open no file */
};

enum asterisk_conf_entry_kind {
    ASTERISK_CONF_VAR,
    ASTERISK_CONF_COMMENT,
};

struct asterisk_conf_entry {
    struct sv key;    /* VAR: the name, trimmed; COMMENT: absent */
    struct sv value;  /* VAR: the value, trimmed, "\;" unescaped; COMMENT: text after ';' */
    const char *file; /* owned by the conf */
    unsigned line;
    enum asterisk_conf_entry_kind kind;
    bool is_inherited; /* copied from a template; file/line are the template's */
};

struct asterisk_conf_section {
    struct sv name;
    const char *file; /* where the [name] line is */
    struct asterisk_conf_entry *entries;
    size_t entry_count;
    size_t entry_cap;
    unsigned line;
    bool is_template;
};

struct asterisk_conf {
    struct asterisk_conf_section *sections; /* in file order */
    size_t section_count;
    size_t section_cap;
    size_t total_entries;
    char **owned; /* file contents and file names, freed with the conf */
    size_t owned_count;
    size_t owned_cap;
    const char *path; /* the top file, as given */
};

/*
 * Reads `path` and everything it includes into a new configuration (*out, which the
 * caller frees with asterisk_conf_free()). Returns 0; -SW_ECONFIG when `diag` received
 * errors (the partial configuration is still returned); a negative errno or -SW_EIO when
 * the top file cannot be read at all (then *out is NULL and diag says why).
 */
int asterisk_conf_load(const char *path, unsigned flags, struct asterisk_conf **out,
                       struct sw_diag *diag);

/*
 * The same for text already in memory (copied), named `name` in diagnostics; includes
 * are resolved relative to `name`'s folder unless ASTERISK_CONF_NO_INCLUDE is given.
 */
int asterisk_conf_parse(const char *name, struct sv text, unsigned flags,
                        struct asterisk_conf **out, struct sw_diag *diag);

/* Frees everything; NULL is a no-op. */
void asterisk_conf_free(struct asterisk_conf *conf);

/*
 * The value of the last variable `key` (ASCII case-insensitive, as Asterisk's modules
 * compare) in `section`, own entries overriding inherited ones; NULL when absent.
 */
const struct asterisk_conf_entry *
asterisk_conf_section_get(const struct asterisk_conf_section *section, struct sv key);

/* The last non-template section called `name` (case-sensitive), or NULL. */
const struct asterisk_conf_section *asterisk_conf_find(const struct asterisk_conf *conf,
                                                       struct sv name);

#endif
