#include "tools/asterisk_conf.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"

#define NO_SECTION SIZE_MAX

/* One file being read; the stack of them is the chain of #include lines. */
struct frame {
    char *buf; /* owned by the conf; comments are unescaped in place */
    size_t len;
    size_t pos;
    const char *file;
    dev_t dev;
    ino_t ino;
    unsigned line;
    unsigned comment_depth; /* open ;-- block comments */
    /* The files an #include on this frame expanded to, read one after the other. */
    char **pending;
    size_t pending_count;
    size_t pending_next;
    unsigned include_line;
    bool is_try;
};

struct loader {
    struct asterisk_conf *conf;
    struct sw_diag *diag;
    struct frame stack[ASTERISK_CONF_MAX_DEPTH];
    size_t depth;
    size_t files_read;
    size_t section; /* index of the current section, or NO_SECTION */
    unsigned flags;
    bool is_full; /* a section or entry limit was hit (reported once) */
};

static bool conf_own(struct asterisk_conf *conf, char *ptr)
{
    if (ptr == NULL) {
        return false;
    }
    if (conf->owned_count == conf->owned_cap) {
        size_t cap = conf->owned_cap == 0 ? 16 : conf->owned_cap * 2;
        char **grown = sw_realloc(conf->owned, cap * sizeof(*grown));
        if (grown == NULL) {
            sw_free(ptr);
            return false;
        }
        conf->owned = grown;
        conf->owned_cap = cap;
    }
    conf->owned[conf->owned_count++] = ptr;
    return true;
}

void asterisk_conf_free(struct asterisk_conf *conf)
{
    if (conf == NULL) {
        return;
    }
    for (size_t i = 0; i < conf->section_count; i++) {
        sw_free(conf->sections[i].entries);
    }
    sw_free(conf->sections);
    for (size_t i = 0; i < conf->owned_count; i++) {
        sw_free(conf->owned[i]);
    }
    sw_free(conf->owned);
    sw_free(conf);
}

static void report_full(struct loader *ld, const struct frame *f, const char *what)
{
    if (!ld->is_full) {
        ld->is_full = true;
        sw_diag_add(ld->diag, DIAG_ERROR, f->file, f->line, NULL,
                    "more than the limit of %s; the rest is ignored", what);
    }
}

static struct asterisk_conf_entry *entry_add(struct loader *ld, const struct frame *f,
                                             struct asterisk_conf_section *section)
{
    if (ld->conf->total_entries >= ASTERISK_CONF_MAX_ENTRIES) {
        report_full(ld, f, "200000 entries (inherited copies included)");
        return NULL;
    }
    if (section->entry_count == section->entry_cap) {
        size_t cap = section->entry_cap == 0 ? 8 : section->entry_cap * 2;
        struct asterisk_conf_entry *grown = sw_realloc(section->entries, cap * sizeof(*grown));
        if (grown == NULL) {
            report_full(ld, f, "memory");
            return NULL;
        }
        section->entries = grown;
        section->entry_cap = cap;
    }
    ld->conf->total_entries++;
    struct asterisk_conf_entry *e = &section->entries[section->entry_count++];
    memset(e, 0, sizeof(*e));
    return e;
}

static struct asterisk_conf_section *section_add(struct loader *ld, const struct frame *f,
                                                 struct sv name)
{
    struct asterisk_conf *conf = ld->conf;
    if (conf->section_count >= ASTERISK_CONF_MAX_SECTIONS) {
        report_full(ld, f, "20000 sections");
        return NULL;
    }
    if (conf->section_count == conf->section_cap) {
        size_t cap = conf->section_cap == 0 ? 16 : conf->section_cap * 2;
        struct asterisk_conf_section *grown = sw_realloc(conf->sections, cap * sizeof(*grown));
        if (grown == NULL) {
            report_full(ld, f, "memory");
            return NULL;
        }
        conf->sections = grown;
        conf->section_cap = cap;
    }
    struct asterisk_conf_section *s = &conf->sections[conf->section_count];
    memset(s, 0, sizeof(*s));
    s->name = name;
    s->file = f->file;
    s->line = f->line;
    ld->section = conf->section_count++;
    return s;
}

/* The last section called `name` among the first `before` sections, or NO_SECTION. */
static size_t section_index(const struct asterisk_conf *conf, struct sv name, size_t before)
{
    for (size_t i = before; i > 0; i--) {
        if (sv_eq(conf->sections[i - 1].name, name)) {
            return i - 1;
        }
    }
    return NO_SECTION;
}

/* Returns the first byte that cannot be in a text file, or -1. */
static long find_binary_byte(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v')) {
            return (long)i;
        }
    }
    return -1;
}

static unsigned line_of(const char *buf, size_t offset)
{
    unsigned line = 1;
    for (size_t i = 0; i < offset; i++) {
        line += buf[i] == '\n' ? 1u : 0u;
    }
    return line;
}

/* Reads a regular file of at most the size limit into a new NUL-terminated buffer. */
static int read_regular_file(int fd, char **out, size_t *out_len)
{
    struct stat st;
    if (fstat(fd, &st) == -1) {
        return -errno;
    }
    if (S_ISDIR(st.st_mode)) {
        return -EISDIR;
    }
    if (!S_ISREG(st.st_mode)) {
        return -SW_EBADARG;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > ASTERISK_CONF_MAX_FILE_BYTES) {
        return -EFBIG;
    }
    size_t cap = (size_t)st.st_size;
    char *buf = sw_malloc(cap + 1);
    if (buf == NULL) {
        return -ENOMEM;
    }
    size_t len = 0;
    while (len < cap) {
        ssize_t got = read(fd, buf + len, cap - len);
        if (got == -1 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break; /* a file that shrank while we read is read as it is now */
        }
        len += (size_t)got;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

static void describe_chain(const struct loader *ld, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ld->depth && used < cap; i++) {
        int n = snprintf(buf + used, cap - used, "%s%s:%u", i == 0 ? "" : " -> ", ld->stack[i].file,
                         ld->stack[i].line);
        if (n < 0) {
            return;
        }
        used += (size_t)n;
    }
}

static bool is_open_in_stack(const struct loader *ld, const struct stat *st)
{
    for (size_t i = 0; i < ld->depth; i++) {
        if (ld->stack[i].dev == st->st_dev && ld->stack[i].ino == st->st_ino) {
            return true;
        }
    }
    return false;
}

/*
 * Checks what makes an include refused before its content is read: depth, count, loops.
 * `where`/`line` name the #include (or the top file with line 0).
 */
static int check_can_open(struct loader *ld, const char *path, int fd, const char *where,
                          unsigned line)
{
    struct stat st;
    if (fstat(fd, &st) == -1) {
        return -errno;
    }
    if (ld->depth == ASTERISK_CONF_MAX_DEPTH) {
        sw_diag_add(ld->diag, DIAG_ERROR, where, line, NULL,
                    "#include of '%s' nested deeper than %d files", path, ASTERISK_CONF_MAX_DEPTH);
        return -SW_ECONFIG;
    }
    if (ld->files_read == ASTERISK_CONF_MAX_FILES) {
        sw_diag_add(ld->diag, DIAG_ERROR, where, line, NULL,
                    "#include of '%s' exceeds the limit of %d files read", path,
                    ASTERISK_CONF_MAX_FILES);
        return -SW_ECONFIG;
    }
    if (is_open_in_stack(ld, &st)) {
        char chain[512];
        describe_chain(ld, chain, sizeof(chain));
        sw_diag_add(ld->diag, DIAG_ERROR, where, line, NULL,
                    "include loop: '%s' is already being read (%s)", path, chain);
        return -SW_ECONFIG;
    }
    return 0;
}

static int push_frame(struct loader *ld, const char *path, char *buf, size_t len, int fd)
{
    if (!conf_own(ld->conf, buf)) {
        return -ENOMEM;
    }
    char *name = sw_strdup(path);
    if (!conf_own(ld->conf, name)) {
        return -ENOMEM;
    }
    struct stat st;
    memset(&st, 0, sizeof(st));
    if (fd != -1 && fstat(fd, &st) == -1) {
        return -errno;
    }
    struct frame *f = &ld->stack[ld->depth++];
    memset(f, 0, sizeof(*f));
    f->buf = buf;
    f->len = len;
    f->file = name;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    ld->files_read++;
    return 0;
}

/* Rejects binary content with the line where it starts; frees `buf` then. */
static int check_text(struct loader *ld, const char *path, char *buf, size_t len)
{
    long bad = find_binary_byte(buf, len);
    if (bad < 0) {
        return 0;
    }
    sw_diag_add(ld->diag, DIAG_ERROR, path, line_of(buf, (size_t)bad), NULL,
                "binary content (byte 0x%02x): not a configuration file",
                (unsigned)(unsigned char)buf[bad]);
    sw_free(buf);
    return -SW_EBADARG;
}

/*
 * Opens and pushes `path`. `where`/`line` name the #include for diagnostics (NULL for the
 * top file). A missing file is silent when `is_try`.
 */
static int open_file(struct loader *ld, const char *path, const char *where, unsigned line,
                     bool is_try)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd == -1) {
        int err = -errno;
        if (!(is_try && err == -ENOENT)) {
            sw_diag_add(ld->diag, DIAG_ERROR, where == NULL ? path : where, line, NULL,
                        "cannot open '%s': %s", path, sw_strerror(err));
        }
        return is_try && err == -ENOENT ? 0 : err;
    }
    int rc = check_can_open(ld, path, fd, where == NULL ? path : where, line);
    char *buf = NULL;
    size_t len = 0;
    if (rc == 0) {
        rc = read_regular_file(fd, &buf, &len);
        if (rc != 0) {
            sw_diag_add(ld->diag, DIAG_ERROR, where == NULL ? path : where, line, NULL,
                        "cannot read '%s': %s", path,
                        rc == -SW_EBADARG ? "not a regular file" : sw_strerror(rc));
        }
    }
    if (rc == 0 && buf != NULL) {
        rc = check_text(ld, path, buf, len);
    }
    if (rc == 0) {
        rc = push_frame(ld, path, buf, len, fd);
    }
    (void)close(fd); /* read-only: nothing to flush, so close cannot lose data */
    return rc;
}

/*
 * Removes the comment from the line [start, end) in place: "\;" becomes ";", ";--"
 * opens and "--;" closes a block comment. Returns the content; `comment` gets the text
 * of a ';' line comment (absent when there is none).
 */
static struct sv strip_comment(struct frame *f, char *start, const char *end, struct sv *comment)
{
    char *out = start;
    const char *p = start;
    *comment = SV_NULL;
    while (p < end) {
        size_t left = (size_t)(end - p);
        if (f->comment_depth > 0) {
            if (left >= 3 && memcmp(p, "--;", 3) == 0) {
                f->comment_depth--;
                p += 3;
            } else if (left >= 3 && memcmp(p, ";--", 3) == 0) {
                f->comment_depth++;
                p += 3;
            } else {
                p++;
            }
        } else if (p[0] == '\\' && left >= 2 && p[1] == ';') {
            *out++ = ';';
            p += 2;
        } else if (p[0] == ';' && left >= 3 && p[1] == '-' && p[2] == '-') {
            f->comment_depth++;
            p += 3;
        } else if (p[0] == ';') {
            *comment = sv_trim(sv_make(p + 1, left - 1));
            break;
        } else {
            *out++ = *p++;
        }
    }
    return sv_make(start, (size_t)(out - start));
}

static bool has_glob_chars(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static struct sv strip_quotes(struct sv arg)
{
    if (arg.len >= 2 && ((arg.ptr[0] == '"' && arg.ptr[arg.len - 1] == '"') ||
                         (arg.ptr[0] == '<' && arg.ptr[arg.len - 1] == '>'))) {
        return sv_trim(sv_slice(arg, 1, arg.len - 2));
    }
    return arg;
}

/* `path` relative to the folder of `from` (unless absolute), as a new string. */
static char *resolve_path(const char *from, struct sv path)
{
    const char *slash = strrchr(from, '/');
    size_t dir_len =
        (path.len > 0 && path.ptr[0] == '/') || slash == NULL ? 0 : (size_t)(slash - from) + 1;
    char *out = sw_malloc(dir_len + path.len + 1);
    if (out == NULL) {
        return NULL;
    }
    memcpy(out, from, dir_len);
    memcpy(out + dir_len, path.ptr, path.len);
    out[dir_len + path.len] = '\0';
    return out;
}

static void pending_free(struct frame *f)
{
    for (size_t i = 0; i < f->pending_count; i++) {
        sw_free(f->pending[i]);
    }
    sw_free(f->pending);
    f->pending = NULL;
    f->pending_count = 0;
    f->pending_next = 0;
}

/* Expands the glob `pattern` into f->pending (sorted, bounded). */
static void expand_glob(struct loader *ld, struct frame *f, const char *pattern)
{
    glob_t g;
    memset(&g, 0, sizeof(g));
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): the offline tools read configuration on one thread. */
    int rc = glob(pattern, 0, NULL, &g);
    if (rc != 0) {
        if (rc != GLOB_NOMATCH || !f->is_try) {
            sw_diag_add(ld->diag, DIAG_ERROR, f->file, f->line, NULL,
                        "#include '%s': no file matches", pattern);
        }
        globfree(&g);
        return;
    }
    size_t count = g.gl_pathc < ASTERISK_CONF_MAX_FILES ? g.gl_pathc : ASTERISK_CONF_MAX_FILES;
    f->pending = sw_calloc(count, sizeof(*f->pending));
    for (size_t i = 0; f->pending != NULL && i < count; i++) {
        f->pending[i] = sw_strdup(g.gl_pathv[i]);
        f->pending_count += f->pending[i] != NULL ? 1 : 0;
    }
    globfree(&g);
}

static void handle_include(struct loader *ld, struct frame *f, struct sv arg, bool is_try)
{
    arg = strip_quotes(arg);
    if (arg.len == 0) {
        sw_diag_add(ld->diag, DIAG_ERROR, f->file, f->line, NULL, "#include without a file name");
        return;
    }
    if ((ld->flags & ASTERISK_CONF_NO_INCLUDE) != 0) {
        sw_diag_add(ld->diag, DIAG_WARNING, f->file, f->line, NULL,
                    "#include '" SV_FMT "' not followed (includes disabled)", SV_ARG(arg));
        return;
    }
    char *path = resolve_path(f->file, arg);
    if (path == NULL) {
        report_full(ld, f, "memory");
        return;
    }
    f->is_try = is_try;
    f->include_line = f->line;
    if (has_glob_chars(path)) {
        expand_glob(ld, f, path);
        sw_free(path);
        return;
    }
    f->pending = sw_calloc(1, sizeof(*f->pending));
    if (f->pending == NULL) {
        sw_free(path);
        return;
    }
    f->pending[0] = path;
    f->pending_count = 1;
}

static void handle_directive(struct loader *ld, struct frame *f, struct sv content)
{
    struct sv rest = sv_slice(content, 1, content.len - 1);
    size_t word_len = 0;
    while (word_len < rest.len && rest.ptr[word_len] != ' ' && rest.ptr[word_len] != '\t' &&
           rest.ptr[word_len] != '"' && rest.ptr[word_len] != '<') {
        word_len++;
    }
    struct sv word = sv_slice(rest, 0, word_len);
    struct sv arg = sv_trim(sv_slice(rest, word_len, rest.len - word_len));
    if (sv_eq_nocase(word, SV("include"))) {
        handle_include(ld, f, arg, false);
    } else if (sv_eq_nocase(word, SV("tryinclude"))) {
        handle_include(ld, f, arg, true);
    } else if (sv_eq_nocase(word, SV("exec"))) {
        sw_diag_add(ld->diag, DIAG_WARNING, f->file, f->line, NULL,
                    "#exec '" SV_FMT "' not run: its output is not audited", SV_ARG(arg));
    } else {
        sw_diag_add(ld->diag, DIAG_ERROR, f->file, f->line, NULL, "unknown directive '#" SV_FMT "'",
                    SV_ARG(word));
    }
}

/* Copies every variable of the section at `from` into the current section. */
static void inherit(struct loader *ld, const struct frame *f, size_t from)
{
    size_t count = ld->conf->sections[from].entry_count;
    for (size_t i = 0; i < count; i++) {
        /* Re-read both pointers each time: entry_add may move the current entries only. */
        const struct asterisk_conf_entry src = ld->conf->sections[from].entries[i];
        if (src.kind != ASTERISK_CONF_VAR) {
            continue;
        }
        struct asterisk_conf_entry *e = entry_add(ld, f, &ld->conf->sections[ld->section]);
        if (e == NULL) {
            return;
        }
        *e = src;
        e->is_inherited = true;
    }
}

/* Applies the "(!,+,t1,t2)" options of the section header `name` just opened. */
static void apply_options(struct loader *ld, const struct frame *f, struct sv name,
                          struct sv options)
{
    size_t created = ld->section;
    struct sv option;
    bool is_last = false;
    bool is_appended = false;
    for (unsigned n = 0; !is_last; n++) {
        is_last = !sv_take_until(&options, ',', &option);
        option = sv_trim(option);
        if (n == ASTERISK_CONF_MAX_TEMPLATES) {
            sw_diag_add(ld->diag, DIAG_ERROR, f->file, f->line, NULL, "more than %d templates",
                        ASTERISK_CONF_MAX_TEMPLATES);
            return;
        }
        if (sv_eq(option, SV("!"))) {
            ld->conf->sections[created].is_template = true;
            continue;
        }
        if (sv_eq(option, SV("+")) && !is_appended) {
            is_appended = true;
            size_t existing = section_index(ld->conf, name, created);
            if (existing == NO_SECTION) {
                sw_diag_add(ld->diag, DIAG_ERROR, f->file, f->line, NULL,
                            "[" SV_FMT "](+) appends to a section that is not defined before",
                            SV_ARG(name));
                continue;
            }
            /* Appending: drop the new section and continue the old one. */
            struct asterisk_conf_section *dropped = &ld->conf->sections[created];
            ld->conf->total_entries -= dropped->entry_count;
            sw_free(dropped->entries);
            dropped->entries = NULL;
            ld->conf->section_count--;
            ld->section = existing;
            created = existing;
            continue;
        }
        size_t from = section_index(ld->conf, option, created);
        if (option.len == 0 || from == NO_SECTION) {
            sw_diag_add(ld->diag, DIAG_ERROR, f->file, f->line, NULL,
                        "template '" SV_FMT "' is not defined before this section", SV_ARG(option));
            continue;
        }
        inherit(ld, f, from);
    }
}

static void handle_section(struct loader *ld, struct frame *f, struct sv content)
{
    long close = sv_find_char(content, ']');
    if (close < 0) {
        sw_diag_add(ld->diag, DIAG_ERROR, f->file, f->line, NULL,
                    "unterminated section header (no ']')");
        ld->section = NO_SECTION; /* what follows belongs to no known section */
        return;
    }
    struct sv name = sv_trim(sv_slice(content, 1, (size_t)close - 1));
    struct sv rest = sv_trim(sv_slice(content, (size_t)close + 1, content.len));
    struct sv options = SV_NULL;
    if (rest.len > 0) {
        if (rest.ptr[0] != '(' || rest.ptr[rest.len - 1] != ')') {
            sw_diag_add(ld->diag, DIAG_ERROR, f->file, f->line, NULL,
                        "unexpected text after the section header: '" SV_FMT "'", SV_ARG(rest));
            ld->section = NO_SECTION;
            return;
        }
        options = sv_slice(rest, 1, rest.len - 2);
    }
    if (name.len == 0) {
        sw_diag_add(ld->diag, DIAG_ERROR, f->file, f->line, NULL, "empty section name");
        ld->section = NO_SECTION;
        return;
    }
    if (section_add(ld, f, name) == NULL) {
        ld->section = NO_SECTION;
        return;
    }
    if (options.ptr != NULL) {
        apply_options(ld, f, name, options);
    }
}

static void handle_variable(struct loader *ld, struct frame *f, struct sv content)
{
    long eq = sv_find_char(content, '=');
    if (eq <= 0) {
        sw_diag_add(ld->diag, DIAG_ERROR, f->file, f->line, NULL,
                    eq == 0 ? "empty variable name" : "expected 'name = value'");
        return;
    }
    struct sv key = sv_trim(sv_slice(content, 0, (size_t)eq));
    struct sv value = sv_slice(content, (size_t)eq + 1, content.len);
    if (value.len > 0 && value.ptr[0] == '>') {
        value = sv_slice(value, 1, value.len - 1); /* "=>" is the same as "=" */
    }
    if (ld->section == NO_SECTION) {
        sw_diag_add(ld->diag, DIAG_ERROR, f->file, f->line, NULL,
                    "'" SV_FMT "' outside of any section", SV_ARG(key));
        return;
    }
    struct asterisk_conf_entry *e = entry_add(ld, f, &ld->conf->sections[ld->section]);
    if (e == NULL) {
        return;
    }
    e->kind = ASTERISK_CONF_VAR;
    e->key = key;
    e->value = sv_trim(value);
    e->file = f->file;
    e->line = f->line;
}

static void handle_comment(struct loader *ld, const struct frame *f, struct sv comment)
{
    if (comment.ptr == NULL || ld->section == NO_SECTION) {
        return;
    }
    struct asterisk_conf_entry *e = entry_add(ld, f, &ld->conf->sections[ld->section]);
    if (e == NULL) {
        return;
    }
    e->kind = ASTERISK_CONF_COMMENT;
    e->value = comment;
    e->file = f->file;
    e->line = f->line;
}

static void handle_line(struct loader *ld, struct frame *f, char *start, const char *end)
{
    struct sv comment;
    struct sv content = sv_trim(strip_comment(f, start, end, &comment));
    if (content.len > 0 && content.ptr[0] == '#') {
        handle_directive(ld, f, content);
    } else if (content.len > 0 && content.ptr[0] == '[') {
        handle_section(ld, f, content);
    } else if (content.len > 0) {
        handle_variable(ld, f, content);
    }
    handle_comment(ld, f, comment);
}

/* Reads the next line of the top frame, or pops it at its end. */
static void step(struct loader *ld)
{
    struct frame *f = &ld->stack[ld->depth - 1];
    if (f->pending_next < f->pending_count) {
        const char *path = f->pending[f->pending_next++];
        (void)open_file(ld, path, f->file, f->include_line, f->is_try); /* diag has it */
        return;
    }
    pending_free(f);
    if (f->pos >= f->len) {
        if (f->comment_depth > 0) {
            sw_diag_add(ld->diag, DIAG_ERROR, f->file, f->line, NULL,
                        "block comment ';--' not closed with '--;' before the end of the file");
        }
        ld->depth--;
        return;
    }
    char *start = f->buf + f->pos;
    const char *nl = memchr(start, '\n', f->len - f->pos);
    const char *end = nl != NULL ? nl : f->buf + f->len;
    f->pos = (size_t)(end - f->buf) + (nl != NULL ? 1 : 0);
    f->line++;
    if (end > start && end[-1] == '\r') {
        end--;
    }
    handle_line(ld, f, start, end);
}

static int run(struct loader *ld)
{
    size_t errors_before = ld->diag->error_count;
    while (ld->depth > 0) {
        step(ld);
    }
    return ld->diag->error_count > errors_before ? -SW_ECONFIG : 0;
}

static struct asterisk_conf *conf_new(const char *path)
{
    struct asterisk_conf *conf = sw_calloc(1, sizeof(*conf));
    if (conf == NULL) {
        return NULL;
    }
    char *name = sw_strdup(path);
    if (!conf_own(conf, name)) {
        sw_free(conf);
        return NULL;
    }
    conf->path = name;
    return conf;
}

static void loader_init(struct loader *ld, struct asterisk_conf *conf, unsigned flags,
                        struct sw_diag *diag)
{
    memset(ld, 0, sizeof(*ld));
    ld->conf = conf;
    ld->diag = diag;
    ld->flags = flags;
    ld->section = NO_SECTION;
}

int asterisk_conf_load(const char *path, unsigned flags, struct asterisk_conf **out,
                       struct sw_diag *diag)
{
    SW_ASSERT(path != NULL && out != NULL && diag != NULL);
    *out = NULL;
    struct asterisk_conf *conf = conf_new(path);
    if (conf == NULL) {
        return -ENOMEM;
    }
    struct loader ld;
    loader_init(&ld, conf, flags, diag);
    int rc = open_file(&ld, path, NULL, 0, false);
    if (rc != 0) {
        asterisk_conf_free(conf);
        return rc == -SW_EBADARG ? -SW_EIO : rc;
    }
    *out = conf;
    return run(&ld);
}

int asterisk_conf_parse(const char *name, struct sv text, unsigned flags,
                        struct asterisk_conf **out, struct sw_diag *diag)
{
    SW_ASSERT(name != NULL && out != NULL && diag != NULL);
    *out = NULL;
    struct asterisk_conf *conf = conf_new(name);
    if (conf == NULL) {
        return -ENOMEM;
    }
    struct loader ld;
    loader_init(&ld, conf, flags, diag);
    char *buf = sw_malloc(text.len + 1);
    if (buf == NULL) {
        asterisk_conf_free(conf);
        return -ENOMEM;
    }
    if (text.len > 0) {
        memcpy(buf, text.ptr, text.len);
    }
    buf[text.len] = '\0';
    int rc = text.len > ASTERISK_CONF_MAX_FILE_BYTES ? -EFBIG : 0;
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, name, 0, NULL, "larger than %zu bytes",
                    ASTERISK_CONF_MAX_FILE_BYTES);
        sw_free(buf);
    } else {
        rc = check_text(&ld, name, buf, text.len);
    }
    if (rc == 0) {
        rc = push_frame(&ld, name, buf, text.len, -1);
    }
    if (rc != 0) {
        asterisk_conf_free(conf);
        return rc == -SW_EBADARG ? -SW_EIO : rc;
    }
    *out = conf;
    return run(&ld);
}

const struct asterisk_conf_entry *
asterisk_conf_section_get(const struct asterisk_conf_section *section, struct sv key)
{
    for (size_t i = section->entry_count; i > 0; i--) {
        const struct asterisk_conf_entry *e = &section->entries[i - 1];
        if (e->kind == ASTERISK_CONF_VAR && sv_eq_nocase(e->key, key)) {
            return e;
        }
    }
    return NULL;
}

const struct asterisk_conf_section *asterisk_conf_find(const struct asterisk_conf *conf,
                                                       struct sv name)
{
    for (size_t i = conf->section_count; i > 0; i--) {
        const struct asterisk_conf_section *s = &conf->sections[i - 1];
        if (!s->is_template && sv_eq(s->name, name)) {
            return s;
        }
    }
    return NULL;
}
