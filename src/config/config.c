#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "config/check.h"
#include "config/keys.h"
#include "config/lines.h"
#include "config/value.h"

/* Longest section name; longer ones are refused. */
#define SECTION_NAME_MAX 64

enum section_state {
    SECTION_NONE,    /* before the first section header */
    SECTION_SKIP,    /* a refused section: its keys are ignored (already reported) */
    SECTION_SINGLE,  /* one of [general] ... [stir] */
    SECTION_PENDING, /* [name] whose first key must be `type` */
    SECTION_OBJECT,  /* a trunk or an account */
};

/*
 * The state of one load. libinih calls the reader once per line and the handler for each
 * key line, so `line` is the line of the key being handled; the reader itself handles
 * section headers and refuses malformed lines, so that every problem is reported, not only
 * the first one inih would return.
 */
struct loader {
    struct cfg *cfg;
    struct sw_diag *diag;
    const char *file;
    const char *text;
    size_t len;
    size_t pos;
    unsigned line;
    enum section_state state;
    enum cfg_section_kind kind;
    char section[SECTION_NAME_MAX + 1];
    unsigned section_line;
    size_t section_errors;            /* diag->error_count when the section began */
    size_t object;                    /* index of the current trunk or account */
    unsigned secret_line;             /* first line with a secret or HA1; 0 = none */
    unsigned key_lines[CFG_KEYS_MAX]; /* current section, by key index */
    bool is_offline;                  /* cfg_load_offline(): named files are not checked */
};

static void report(struct loader *ld, unsigned line, const char *key, const char *message)
{
    sw_diag_add(ld->diag, DIAG_ERROR, ld->file, line, key, "%s", message);
}

/* "section.key" for messages. */
static void key_label(const struct loader *ld, const char *name, char *buf, size_t cap)
{
    (void)snprintf(buf, cap, "%s.%s", ld->section, name);
}

static void *object_base(struct loader *ld)
{
    return cfg_object_at(ld->cfg, ld->kind, ld->object);
}

static void *section_base(struct loader *ld)
{
    return ld->state == SECTION_OBJECT ? object_base(ld) : cfg_section_base(ld->cfg, ld->kind);
}

/* Sets every key of `kind` that has a default, in `base`. */
static int apply_defaults(enum cfg_section_kind kind, void *base)
{
    size_t count;
    const struct cfg_key_desc *keys = cfg_keys_table(&count);
    for (size_t i = 0; i < count; i++) {
        if (!cfg_keys_in_section(&keys[i], kind) || keys[i].info.default_value == NULL) {
            continue;
        }
        char msg[256];
        int rc = cfg_value_set(&keys[i], base, sv_from_cstr(keys[i].info.default_value), false, msg,
                               sizeof(msg));
        /* A default that does not parse is a bug in keys.def (unit.config.keys tests it). */
        SW_ASSERT(rc != -SW_ECONFIG);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* Frees what every key of `kind` owns in `base`. */
static void free_section(enum cfg_section_kind kind, void *base)
{
    size_t count;
    const struct cfg_key_desc *keys = cfg_keys_table(&count);
    for (size_t i = 0; i < count; i++) {
        if (cfg_keys_in_section(&keys[i], kind)) {
            cfg_value_free(&keys[i], base);
        }
    }
}

/* Ends the current section: objects get their derived defaults and checks. */
static void finish_section(struct loader *ld)
{
    if (ld->state == SECTION_PENDING) {
        char label[SECTION_NAME_MAX + 3];
        (void)snprintf(label, sizeof(label), "[%s]", ld->section);
        report(ld, ld->section_line, label,
               "empty section: an object section needs 'type = trunk', 'account', 'alert' or "
               "'sink' as its first key");
    }
    bool is_clean = ld->diag->error_count == ld->section_errors;
    if (ld->state == SECTION_OBJECT && is_clean) {
        struct cfg_check_ctx ctx = {
            ld->cfg,       ld->diag, ld->file, ld->cfg->lines->singles, ld->cfg->lines->sections,
            ld->is_offline
        };
        if (ld->kind == CFG_SECTION_TRUNK) {
            cfg_check_trunk(&ctx, &ld->cfg->trunks[ld->object], ld->key_lines);
        } else if (ld->kind == CFG_SECTION_ACCOUNT) {
            cfg_check_account(&ctx, &ld->cfg->accounts[ld->object], ld->key_lines);
        } else if (ld->kind == CFG_SECTION_ALERT) {
            cfg_check_alert(&ctx, &ld->cfg->alert_rules[ld->object], ld->key_lines);
        } else {
            cfg_check_sink(&ctx, &ld->cfg->alert_sinks[ld->object], ld->key_lines);
        }
    }
    ld->state = SECTION_NONE;
    memset(ld->key_lines, 0, sizeof(ld->key_lines));
}

static bool object_name_is_taken(const struct cfg *cfg, const char *name, unsigned *line)
{
    enum cfg_section_kind kind;
    size_t index = 0;
    if (!cfg_object_find(cfg, name, &kind, &index)) {
        return false;
    }
    *line = cfg_object_at(cfg, kind, index)->line;
    return true;
}

static bool section_name_is_valid(struct sv name)
{
    if (name.len == 0 || name.len > SECTION_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < name.len; i++) {
        char c = name.ptr[i];
        bool is_ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '_' || c == '-' || c == '.';
        if (!is_ok) {
            return false;
        }
    }
    return true;
}

static void begin_section(struct loader *ld, struct sv name)
{
    finish_section(ld);
    ld->section_line = ld->line;
    ld->section_errors = ld->diag->error_count;
    ld->state = SECTION_SKIP;
    if (!section_name_is_valid(name)) {
        sw_diag_add(ld->diag, DIAG_ERROR, ld->file, ld->line, NULL,
                    "bad section name (1 to %d letters, digits, '_', '-' or '.')",
                    SECTION_NAME_MAX);
        return;
    }
    (void)sv_copy_cstr(name, ld->section, sizeof(ld->section)); /* fits: checked above */
    char label[SECTION_NAME_MAX + 3];
    (void)snprintf(label, sizeof(label), "[%s]", ld->section);
    enum cfg_section_kind kind;
    unsigned first_line = 0;
    if (cfg_section_kind_find(name, &kind) && !cfg_section_kind_is_object(kind)) {
        unsigned *section_line = &ld->cfg->lines->sections[kind];
        if (*section_line != 0) {
            sw_diag_add(ld->diag, DIAG_ERROR, ld->file, ld->line, label,
                        "duplicate section (first at line %u)", *section_line);
            return;
        }
        *section_line = ld->line;
        ld->kind = kind;
        ld->state = SECTION_SINGLE;
        ld->cfg->stir.is_present |= kind == CFG_SECTION_STIR;
        return;
    }
    if (object_name_is_taken(ld->cfg, ld->section, &first_line)) {
        sw_diag_add(ld->diag, DIAG_ERROR, ld->file, ld->line, label,
                    "duplicate section (first at line %u)", first_line);
        return;
    }
    ld->state = SECTION_PENDING;
}

/* The number of object sections of every kind. */
static size_t object_total(struct cfg *cfg)
{
    size_t total = 0;
    for (size_t kind = 0; kind < CFG_SECTION_COUNT; kind++) {
        if (cfg_section_kind_is_object((enum cfg_section_kind)kind)) {
            total += *cfg_objects_count(cfg, (enum cfg_section_kind)kind);
        }
    }
    return total;
}

/* Appends an object of `kind` named after the current section, with its defaults. */
static int add_object(struct loader *ld, enum cfg_section_kind kind)
{
    struct cfg *cfg = ld->cfg;
    size_t count = 0;
    size_t size = 0;
    (void)cfg_objects_of(cfg, kind, &count, &size); /* the array itself is reallocated below */
    if (object_total(cfg) >= CFG_OBJECTS_MAX) {
        return -SW_EFULL;
    }
    if (cfg_lines_reserve(cfg->lines, kind, count) != 0) {
        return -ENOMEM;
    }
    void **items = cfg_objects_array(cfg, kind);
    char *grown = sw_realloc(*items, (count + 1) * size);
    if (grown == NULL) {
        return -ENOMEM;
    }
    memset(grown + count * size, 0, size);
    *items = grown;
    char *name = sw_strdup(ld->section);
    if (name == NULL) {
        return -ENOMEM;
    }
    struct cfg_object_head *head = (struct cfg_object_head *)(void *)(grown + count * size);
    head->name = name;
    head->line = ld->section_line;
    (*cfg_objects_count(cfg, kind))++;
    ld->kind = kind;
    ld->object = count;
    ld->state = SECTION_OBJECT;
    return apply_defaults(kind, object_base(ld));
}

static void handle_type(struct loader *ld, struct sv name, struct sv value)
{
    char label[SECTION_NAME_MAX + 8];
    if (!sv_eq(name, SV("type"))) {
        const char *hint = cfg_section_hint(sv_from_cstr(ld->section));
        (void)snprintf(label, sizeof(label), "[%s]", ld->section);
        if (hint != NULL) {
            sw_diag_add(ld->diag, DIAG_ERROR, ld->file, ld->section_line, label,
                        "unknown section; did you mean [%s]?", hint);
        } else {
            report(ld, ld->section_line, label,
                   "unknown section: an object section needs 'type = trunk', 'account', 'alert' "
                   "or 'sink' as its first key");
        }
        ld->state = SECTION_SKIP;
        return;
    }
    key_label(ld, "type", label, sizeof(label));
    enum cfg_section_kind kind = CFG_SECTION_COUNT;
    if (!cfg_section_kind_find(value, &kind) || !cfg_section_kind_is_object(kind)) {
        sw_diag_add(ld->diag, DIAG_ERROR, ld->file, ld->line, label,
                    "bad value \"" SV_FMT "\": expected trunk, account, alert or sink",
                    SV_ARG(sv_slice(value, 0, 64)));
        ld->state = SECTION_SKIP;
        return;
    }
    int rc = add_object(ld, kind);
    if (rc != 0) {
        report(ld, ld->line, label, rc == -SW_EFULL ? "too many object sections" : "out of memory");
        ld->state = SECTION_SKIP;
    }
}

static void report_unknown_key(struct loader *ld, struct sv name, const char *label)
{
    const struct cfg_key_desc *hint = cfg_keys_hint(ld->kind, name);
    if (hint != NULL) {
        sw_diag_add(ld->diag, DIAG_ERROR, ld->file, ld->line, label,
                    "unknown key; did you mean '%s'?", hint->info.name);
        return;
    }
    for (size_t kind = 0; kind < CFG_SECTION_COUNT; kind++) {
        if (cfg_keys_find((enum cfg_section_kind)kind, name) != NULL) {
            const char *other = cfg_section_kind_name((enum cfg_section_kind)kind);
            bool is_object = cfg_section_kind_is_object((enum cfg_section_kind)kind);
            sw_diag_add(ld->diag, DIAG_ERROR, ld->file, ld->line, label,
                        "unknown key here; '" SV_FMT "' belongs in %s%s%s", SV_ARG(name),
                        is_object ? "a section with type = " : "[", other, is_object ? "" : "]");
            return;
        }
    }
    report(ld, ld->line, label, "unknown key");
}

static void handle_key(struct loader *ld, struct sv name, struct sv value)
{
    char label[SECTION_NAME_MAX + 72];
    (void)snprintf(label, sizeof(label), "%s." SV_FMT, ld->section, SV_ARG(sv_slice(name, 0, 64)));
    if (ld->state == SECTION_OBJECT && sv_eq(name, SV("type"))) {
        report(ld, ld->line, label, "type may be given once, as the first key of the section");
        return;
    }
    const struct cfg_key_desc *desc = cfg_keys_find(ld->kind, name);
    if (desc == NULL) {
        report_unknown_key(ld, name, label);
        return;
    }
    size_t index = cfg_keys_index(desc);
    bool is_repeat = ld->key_lines[index] != 0;
    if (is_repeat && !cfg_type_is_list(desc->type)) {
        sw_diag_add(ld->diag, DIAG_ERROR, ld->file, ld->line, label,
                    "duplicate key (first set at line %u)", ld->key_lines[index]);
        return;
    }
    if (!is_repeat) {
        ld->key_lines[index] = ld->line;
        if (ld->state == SECTION_SINGLE) {
            ld->cfg->lines->singles[index] = ld->line;
        } else {
            cfg_lines_set_object_key(ld->cfg->lines, ld->object, desc, ld->line);
        }
    }
    char msg[512];
    int rc = cfg_value_set(desc, section_base(ld), value, is_repeat, msg, sizeof(msg));
    if (rc != 0) {
        report(ld, ld->line, label, rc == -SW_ECONFIG ? msg : "out of memory");
        return;
    }
    if (cfg_type_is_secret(desc->type) && value.len > 0 && ld->secret_line == 0) {
        ld->secret_line = ld->line;
    }
}

/* libinih's handler: one key line. Always returns 1 (problems go into the diag). */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
    (void)section; /* the reader tracks sections itself, with their lines */
    struct loader *ld = user;
    struct sv key = sv_from_cstr(name);
    struct sv text = sv_from_cstr(value);
    switch (ld->state) {
    case SECTION_NONE:
        report(ld, ld->line, name, "key outside any section (start with [general])");
        ld->state = SECTION_SKIP;
        break;
    case SECTION_SKIP:
        break;
    case SECTION_PENDING:
        handle_type(ld, key, text);
        break;
    case SECTION_SINGLE:
    case SECTION_OBJECT:
        handle_key(ld, key, text);
        break;
    }
    return 1;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The first byte that is a control character (other than HTAB), or NULL. */
static const char *find_control(struct sv line)
{
    for (size_t i = 0; i < line.len; i++) {
        unsigned char c = (unsigned char)line.ptr[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return line.ptr + i;
        }
    }
    return NULL;
}

/* A section header line "[name]" with an optional comment after it. */
static void read_section_header(struct loader *ld, struct sv line)
{
    long close = sv_find_char(line, ']');
    if (close < 0) {
        report(ld, ld->line, NULL, "missing ] at the end of the section header");
        finish_section(ld);
        ld->state = SECTION_SKIP;
        return;
    }
    struct sv rest = sv_trim(sv_slice(line, (size_t)close + 1, line.len));
    if (rest.len > 0 && rest.ptr[0] != ';' && rest.ptr[0] != '#') {
        report(ld, ld->line, NULL, "unexpected text after the section header");
        finish_section(ld);
        ld->state = SECTION_SKIP;
        return;
    }
    begin_section(ld, sv_trim(sv_slice(line, 1, (size_t)close - 1)));
}

/*
 * A key line must have '=' before any ':' and before an inline comment; inih would
 * otherwise split "name: value" or report only the first bad line.
 */
static bool key_line_is_valid(struct sv line)
{
    for (size_t i = 0; i < line.len; i++) {
        char c = line.ptr[i];
        if (c == '=') {
            return i > 0;
        }
        if (c == ':' || (c == ';' && i > 0 && is_blank(line.ptr[i - 1]))) {
            return false;
        }
    }
    return false;
}

/*
 * Classifies one physical line; returns the bytes inih should see (possibly none).
 * Leading blanks are removed so that inih never treats an indented line as the
 * continuation of the previous value.
 */
static struct sv filter_line(struct loader *ld, struct sv line, size_t cap)
{
    if (find_control(line) != NULL) {
        report(ld, ld->line, NULL, "control character in the line");
        return SV("");
    }
    while (line.len > 0 && is_blank(line.ptr[0])) {
        line = sv_slice(line, 1, line.len - 1);
    }
    if (line.len == 0 || line.ptr[0] == ';' || line.ptr[0] == '#') {
        return SV("");
    }
    if (line.len + 2 > cap) {
        sw_diag_add(ld->diag, DIAG_ERROR, ld->file, ld->line, NULL,
                    "line longer than %zu characters (split a list over several lines with the "
                    "same key)",
                    cap - 2);
        return SV("");
    }
    if (line.ptr[0] == '[') {
        read_section_header(ld, line);
        return SV("");
    }
    if (!key_line_is_valid(line)) {
        report(ld, ld->line, NULL, "expected 'key = value', a [section] or a comment");
        return SV("");
    }
    return line;
}

/* libinih's reader (fgets-like): exactly one physical line per call. */
static char *read_line(char *str, int num, void *stream)
{
    struct loader *ld = stream;
    if (ld->pos >= ld->len || num < 2) {
        return NULL;
    }
    const char *start = ld->text + ld->pos;
    const char *newline = memchr(start, '\n', ld->len - ld->pos);
    size_t len = newline != NULL ? (size_t)(newline - start) : ld->len - ld->pos;
    ld->pos += len + (newline != NULL ? 1 : 0);
    ld->line++;
    if (len > 0 && start[len - 1] == '\r') {
        len--;
    }
    struct sv line = filter_line(ld, sv_make(start, len), (size_t)num);
    memcpy(str, line.ptr, line.len);
    str[line.len] = '\0';
    return str;
}

static int parse_text(struct loader *ld)
{
    /* A UTF-8 byte order mark is skipped (editors on Windows write one). */
    if (ld->len >= 3 && memcmp(ld->text, "\xEF\xBB\xBF", 3) == 0) {
        ld->pos = 3;
    }
    int rc = ini_parse_stream(read_line, ld, on_key, ld);
    finish_section(ld);
    if (rc != 0) {
        /* The reader refuses every line inih could reject, so only allocation fails here. */
        report(ld, ld->line, NULL, "cannot parse the file (out of memory)");
        return -ENOMEM;
    }
    return 0;
}

/*
 * [auth] realm unset: the advertised address, else the host name (issue #9.15: a fixed
 * "sipwarden" told every scanner which product answered). Returns 0 or -ENOMEM.
 */
static int default_realm(struct cfg *cfg)
{
    if (cfg->auth.realm != NULL) {
        return 0;
    }
    char host[256] = "";
    const char *name = cfg->general.advertise_address;
    if (name == NULL) {
        if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0') {
            (void)snprintf(host, sizeof(host), "localhost"); /* no name: still no product */
        }
        host[sizeof(host) - 1] = '\0';
        name = host;
    }
    cfg->auth.realm = sw_strdup(name);
    return cfg->auth.realm != NULL ? 0 : -ENOMEM;
}

static struct cfg *cfg_new(const char *name)
{
    struct cfg *cfg = sw_calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        return NULL;
    }
    cfg->default_trunk_index = SIZE_MAX;
    cfg->source = sw_strdup(name);
    cfg->lines = cfg_lines_new();
    bool is_ok = cfg->source != NULL && cfg->lines != NULL;
    for (size_t kind = 0; is_ok && kind < CFG_SECTION_COUNT; kind++) {
        if (!cfg_section_kind_is_object((enum cfg_section_kind)kind)) {
            is_ok = apply_defaults((enum cfg_section_kind)kind,
                                   cfg_section_base(cfg, (enum cfg_section_kind)kind)) == 0;
        }
    }
    if (!is_ok) {
        cfg_free(cfg);
        return NULL;
    }
    return cfg;
}

/* Loads `len` bytes of `text`; `mode` is the file's mode, or 0 for text without a file. */
/* NOLINTNEXTLINE(readability-function-size): the text, where it came from, and how to check. */
static struct cfg *load_text(const char *name, const char *text, size_t len, mode_t mode,
                             bool is_offline, struct sw_diag *diag)
{
    size_t errors_before = diag->error_count;
    struct cfg *cfg = cfg_new(name);
    if (cfg == NULL) {
        sw_diag_add(diag, DIAG_ERROR, name, 0, NULL, "out of memory");
        return NULL;
    }
    /* The loader is large (key line tables) but lives only during this call. */
    struct loader *ld = sw_calloc(1, sizeof(*ld));
    if (ld == NULL) {
        sw_diag_add(diag, DIAG_ERROR, name, 0, NULL, "out of memory");
        cfg_free(cfg);
        return NULL;
    }
    *ld = (struct loader){
        .cfg = cfg, .diag = diag, .file = name, .text = text, .len = len, .is_offline = is_offline
    };
    if (parse_text(ld) == 0) {
        if (default_realm(cfg) != 0) {
            sw_diag_add(diag, DIAG_ERROR, name, 0, "auth.realm", "out of memory");
        }
        struct cfg_check_ctx ctx = {
            cfg, diag, name, cfg->lines->singles, cfg->lines->sections, is_offline
        };
        cfg_check_global(&ctx);
    }
    if (ld->secret_line != 0 && (mode & (S_IROTH | S_IWOTH)) != 0) {
        sw_diag_add(diag, DIAG_WARNING, name, ld->secret_line, NULL,
                    "the file holds secrets and other users can read it: chmod o-rwx %s", name);
    }
    sw_free(ld);
    if (diag->error_count != errors_before) {
        cfg_free(cfg);
        return NULL;
    }
    return cfg;
}

struct cfg *cfg_load_string(const char *name, const char *text, struct sw_diag *diag)
{
    SW_ASSERT(name != NULL && text != NULL && diag != NULL);
    return load_text(name, text, strlen(text), 0, false, diag);
}

struct cfg *cfg_load_default(struct sw_diag *diag)
{
    return cfg_load_string("loopback.conf", cfg_default_text(), diag);
}

/* Reads the whole file at `fd` (at most CFG_FILE_MAX_BYTES) into a new buffer. */
static char *read_all(int fd, size_t size, size_t *len)
{
    char *buf = sw_malloc(size + 1);
    if (buf == NULL) {
        return NULL;
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, buf + done, size - done);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; /* a file that shrank while read: what was read is what is checked */
        }
        done += (size_t)n;
    }
    buf[done] = '\0';
    *len = done;
    return buf;
}

static struct cfg *load_file(const char *path, bool is_offline, struct sw_diag *diag)
{
    SW_ASSERT(path != NULL && diag != NULL);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        sw_diag_add(diag, DIAG_ERROR, path, 0, NULL, "cannot open: %s", sw_strerror(-errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
        sw_diag_add(diag, DIAG_ERROR, path, 0, NULL, "not a regular file");
        (void)close(fd); /* read-only: nothing to lose on close */
        return NULL;
    }
    if ((uint64_t)st.st_size > CFG_FILE_MAX_BYTES) {
        sw_diag_add(diag, DIAG_ERROR, path, 0, NULL, "larger than %u bytes", CFG_FILE_MAX_BYTES);
        (void)close(fd);
        return NULL;
    }
    size_t len = 0;
    char *text = read_all(fd, (size_t)st.st_size, &len);
    (void)close(fd);
    if (text == NULL) {
        sw_diag_add(diag, DIAG_ERROR, path, 0, NULL, "out of memory");
        return NULL;
    }
    struct cfg *cfg = load_text(path, text, len, st.st_mode, is_offline, diag);
    sw_free(text);
    return cfg;
}

struct cfg *cfg_load_file(const char *path, struct sw_diag *diag)
{
    return load_file(path, false, diag);
}

struct cfg *cfg_load_offline(const char *path, struct sw_diag *diag)
{
    return load_file(path, true, diag);
}

static void free_objects(struct cfg *cfg)
{
    for (size_t k = 0; k < CFG_SECTION_COUNT; k++) {
        enum cfg_section_kind kind = (enum cfg_section_kind)k;
        if (!cfg_section_kind_is_object(kind)) {
            continue;
        }
        size_t count = 0;
        size_t size = 0;
        char *items = cfg_objects_of(cfg, kind, &count, &size);
        for (size_t i = 0; i < count; i++) {
            struct cfg_object_head *head = (void *)(items + i * size);
            free_section(kind, head);
            sw_free(head->name);
            head->name = NULL;
        }
        sw_free(items);
        *cfg_objects_array(cfg, kind) = NULL;
        *cfg_objects_count(cfg, kind) = 0;
    }
}

void cfg_free(struct cfg *cfg)
{
    if (cfg == NULL) {
        return;
    }
    for (size_t kind = 0; kind < CFG_SECTION_COUNT; kind++) {
        if (!cfg_section_kind_is_object((enum cfg_section_kind)kind)) {
            free_section((enum cfg_section_kind)kind,
                         cfg_section_base(cfg, (enum cfg_section_kind)kind));
        }
    }
    free_objects(cfg);
    cfg_lines_free(cfg->lines);
    cfg->lines = NULL;
    sw_free(cfg->source);
    sw_free(cfg);
}

const struct cfg_trunk *cfg_trunk_find(const struct cfg *cfg, struct sv name)
{
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        if (sv_eq(sv_from_cstr(cfg->trunks[i].name), name)) {
            return &cfg->trunks[i];
        }
    }
    return NULL;
}

const struct cfg_account *cfg_account_find(const struct cfg *cfg, struct sv username)
{
    for (size_t i = 0; i < cfg->account_count; i++) {
        if (sv_eq(sv_from_cstr(cfg->accounts[i].username), username)) {
            return &cfg->accounts[i];
        }
    }
    return NULL;
}

bool cfg_numbers_contains(const struct cfg_numbers *numbers, struct sv number)
{
    for (size_t i = 0; i < numbers->count; i++) {
        const struct cfg_number_pattern *p = &numbers->items[i];
        struct sv first = sv_from_cstr(p->first);
        switch (p->kind) {
        case CFG_NUMBER_EXACT:
            if (sv_eq(number, first)) {
                return true;
            }
            break;
        case CFG_NUMBER_RANGE:
            /* Same length, so the text order is the numeric order. */
            if (number.len == first.len && memcmp(number.ptr, p->first, first.len) >= 0 &&
                memcmp(number.ptr, p->last, first.len) <= 0) {
                return true;
            }
            break;
        case CFG_NUMBER_PREFIX:
            if (sv_starts_with(number, first)) {
                return true;
            }
            break;
        }
    }
    return false;
}

int cfg_check_private_file(const char *path, struct sw_diag *diag, const char *file, unsigned line,
                           const char *key)
{
    struct stat st;
    if (stat(path, &st) == -1) {
        int err = -errno;
        sw_diag_add(diag, DIAG_ERROR, file, line, key, "cannot use %s: %s", path, sw_strerror(err));
        return err;
    }
    if (!S_ISREG(st.st_mode)) {
        sw_diag_add(diag, DIAG_ERROR, file, line, key, "%s is not a regular file", path);
        return -SW_EPERM_FILE;
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        sw_diag_add(diag, DIAG_ERROR, file, line, key,
                    "%s is accessible to group or others (mode %03o): chmod 600 %s", path,
                    (unsigned)(st.st_mode & 0777), path);
        return -SW_EPERM_FILE;
    }
    return 0;
}
