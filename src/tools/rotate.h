/*
 * `sipwarden account rotate A [-c FILE] [--length N]`: replaces the secret of account A
 * (its section name or username) in the configuration file. A new secret is drawn
 * (passwd_generate) and printed once on standard output; the account's `secret`, `ha1*`
 * and `rotated` lines are replaced by one HA1 line per algorithm of [auth] algorithms
 * (ha1, ha1_sha256, ha1_sha512_256) and `rotated = ` today (UTC); every other line,
 * comments included, stays as it was. The new text is validated like a start would
 * before it replaces the file atomically with the old mode and owner
 * (tools/fileio.h). Then the daemon whose [general] pidfile names it gets SIGHUP, so the
 * old credentials fail from its reload on. FILE defaults to /etc/sipwarden/sipwarden.conf.
 * Exit 0, 1 when nothing could be changed, 2 for a usage error. Main thread.
 */
#ifndef SW_TOOLS_ROTATE_H
#define SW_TOOLS_ROTATE_H

#include <stddef.h>

/* `sipwarden account rotate ...`; argv[0] is "rotate". */
int tools_rotate_main(int argc, char **argv);

/* An edit of a configuration file's lines. */
struct rotate_edit {
    const unsigned *drop; /* 1-based lines to remove */
    size_t drop_count;
    unsigned insert_line; /* 1-based line `block` goes before; one past the last appends */
    const char *block;    /* whole lines */
};

/*
 * The text of `text` (`len` bytes) with `edit` applied. A last line without its newline
 * gets one when something follows it. Returns a new NUL-terminated buffer (sw_free) with
 * its length in *out_len, or NULL when out of memory. Pure.
 */
char *tools_rotate_rewrite(const char *text, size_t len, const struct rotate_edit *edit,
                           size_t *out_len);

/*
 * Where new keys go in the section opened at 1-based line `header_line`: after its last
 * line that is neither blank nor a comment, before the next section header. Returns the
 * 1-based line to insert before. Pure.
 */
unsigned tools_rotate_section_end(const char *text, size_t len, unsigned header_line);

#endif
