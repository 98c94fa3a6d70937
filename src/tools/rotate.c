#include "tools/rotate.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/diag.h"
#include "base/err.h"
#include "base/sv.h"
#include "config/config.h"
#include "sip/digest.h"
#include "tools/fileio.h"
#include "tools/passwd.h"

#define DEFAULT_CONFIG "/etc/sipwarden/sipwarden.conf"
#define CONFIG_MAX     ((size_t)16 << 20)
#define BLOCK_CAP      512

/* The keys of an account that rotation replaces. */
static const char *const replaced_keys[] = { "secret", "ha1", "ha1_sha256", "ha1_sha512_256",
                                             "rotated" };
#define REPLACED_COUNT (sizeof(replaced_keys) / sizeof(replaced_keys[0]))

static void print_usage(FILE *out)
{
    (void)fprintf(out,
                  "usage: sipwarden account rotate ACCOUNT [-c FILE] [--length N]\n"
                  "Draws a new secret (printed once), writes its HA1s into FILE (default "
                  "%s)\nand makes the running daemon reload.\n",
                  DEFAULT_CONFIG);
}

/* The next line of `text` from *pos: its bytes (with the newline) in *line. */
static bool next_line(const char *text, size_t len, size_t *pos, struct sv *line)
{
    if (*pos >= len) {
        return false;
    }
    const char *nl = memchr(text + *pos, '\n', len - *pos);
    size_t end = nl != NULL ? (size_t)(nl - text) + 1 : len;
    *line = sv_make(text + *pos, end - *pos);
    *pos = end;
    return true;
}

static bool is_dropped(unsigned number, const unsigned *drop, size_t drop_count)
{
    for (size_t i = 0; i < drop_count; i++) {
        if (drop[i] == number) {
            return true;
        }
    }
    return false;
}

static size_t put_line(char *out, size_t used, struct sv line)
{
    memcpy(out + used, line.ptr, line.len);
    used += line.len;
    if (line.len == 0 || line.ptr[line.len - 1] != '\n') {
        out[used++] = '\n';
    }
    return used;
}

char *tools_rotate_rewrite(const char *text, size_t len, const struct rotate_edit *edit,
                           size_t *out_len)
{
    const char *block = edit->block;
    unsigned insert_line = edit->insert_line;
    size_t block_len = strlen(block);
    char *out = sw_malloc(len + block_len + 3);
    if (out == NULL) {
        return NULL;
    }
    size_t used = 0;
    size_t pos = 0;
    unsigned number = 0;
    struct sv line;
    while (next_line(text, len, &pos, &line)) {
        number++;
        if (number == insert_line && block_len > 0) {
            used = put_line(out, used, sv_make(block, block_len));
        }
        if (!is_dropped(number, edit->drop, edit->drop_count)) {
            bool is_last = pos >= len;
            bool is_more = insert_line > number && block_len > 0;
            if (is_last && !is_more) {
                memcpy(out + used, line.ptr, line.len); /* the file's own ending stays */
                used += line.len;
            } else {
                used = put_line(out, used, line);
            }
        }
    }
    if (insert_line > number && block_len > 0) {
        used = put_line(out, used, sv_make(block, block_len));
    }
    out[used] = '\0';
    *out_len = used;
    return out;
}

static bool is_content(struct sv line)
{
    struct sv trimmed = sv_trim(line);
    return trimmed.len > 0 && trimmed.ptr[0] != ';' && trimmed.ptr[0] != '#';
}

unsigned tools_rotate_section_end(const char *text, size_t len, unsigned header_line)
{
    size_t pos = 0;
    unsigned number = 0;
    unsigned last = header_line;
    struct sv line;
    while (next_line(text, len, &pos, &line)) {
        number++;
        if (number <= header_line) {
            continue;
        }
        struct sv trimmed = sv_trim(line);
        if (trimmed.len > 0 && trimmed.ptr[0] == '[') {
            break;
        }
        if (is_content(line)) {
            last = number;
        }
    }
    return last + 1;
}

static const char *ha1_key(enum cfg_digest_algorithm alg)
{
    switch (alg) {
    case CFG_DIGEST_SHA256:
        return "ha1_sha256";
    case CFG_DIGEST_SHA512_256:
        return "ha1_sha512_256";
    case CFG_DIGEST_MD5:
    default:
        return "ha1";
    }
}

/* The new lines of the account: one HA1 per offered algorithm and today's date. */
static int make_block(const struct cfg *cfg, const struct cfg_account *account, const char *secret,
                      char *block, size_t cap)
{
    struct sw_buf buf;
    sw_buf_init(&buf, block, cap);
    for (size_t i = 0; i < cfg->auth.algorithms.count; i++) {
        enum cfg_digest_algorithm alg = cfg->auth.algorithms.items[i];
        char hex[SIP_DIGEST_HEX_CAP];
        /* The enums share their order (config/config.h), so the cast converts. */
        int rc = sip_digest_ha1((enum sip_digest_alg)alg, sv_from_cstr(account->username),
                                sv_from_cstr(cfg->auth.realm), sv_from_cstr(secret), hex);
        if (rc != 0) {
            return rc;
        }
        sw_buf_fmt(&buf, "%s = %s\n", ha1_key(alg), hex);
    }
    time_t now = time(NULL);
    struct tm tm;
    char day[16] = "";
    if (gmtime_r(&now, &tm) == NULL || strftime(day, sizeof(day), "%Y-%m-%d", &tm) == 0) {
        return -SW_EIO;
    }
    sw_buf_fmt(&buf, "rotated = %s\n", day);
    if (buf.is_overflow) {
        return -SW_ETOOBIG;
    }
    block[buf.len] = '\0';
    return 0;
}

/* The account named `name` (section name first, then username), or NULL. */
static const struct cfg_account *find_account(const struct cfg *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->account_count; i++) {
        if (strcmp(cfg->accounts[i].name, name) == 0) {
            return &cfg->accounts[i];
        }
    }
    return cfg_account_find(cfg, sv_from_cstr(name));
}

/* The edited text of the configuration: the account's credential lines replaced. */
static char *edit_text(const struct cfg *cfg, const struct cfg_account *account, const char *block,
                       size_t *out_len)
{
    char *text = NULL;
    size_t len = 0;
    int rc = tools_fileio_read(cfg->source, CONFIG_MAX, &text, &len);
    if (rc != 0) {
        (void)fprintf(stderr, "sipwarden account rotate: %s: %s\n", cfg->source, sw_strerror(rc));
        return NULL;
    }
    unsigned drop[REPLACED_COUNT];
    size_t drop_count = 0;
    for (size_t i = 0; i < REPLACED_COUNT; i++) {
        unsigned line = cfg_key_line(cfg, account->name, replaced_keys[i]);
        if (line != 0) {
            drop[drop_count++] = line;
        }
    }
    unsigned insert = tools_rotate_section_end(text, len, cfg_section_line(cfg, account->name));
    for (size_t i = 0; i < drop_count; i++) {
        insert = drop[i] < insert ? drop[i] : insert;
    }
    struct rotate_edit edit = {
        .drop = drop, .drop_count = drop_count, .insert_line = insert, .block = block
    };
    char *edited = tools_rotate_rewrite(text, len, &edit, out_len);
    sw_free(text);
    return edited;
}

/* Loads the edited text as a start would, and checks that it holds the new hashes. */
static bool edited_is_valid(const struct cfg *cfg, const struct cfg_account *account,
                            const char *edited)
{
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *check = cfg_load_string(cfg->source, edited, &diag);
    if (check == NULL) {
        sw_diag_print(&diag, stderr);
    }
    sw_diag_fini(&diag);
    const struct cfg_account *after = check != NULL ? find_account(check, account->name) : NULL;
    bool is_ok = after != NULL && after->secret == NULL && after->rotated != 0;
    cfg_free(check);
    return is_ok;
}

/* SIGHUP to the daemon of [general] pidfile. */
static void reload_daemon(const struct cfg *cfg)
{
    const char *pidfile = cfg->general.pidfile;
    if (pidfile == NULL) {
        (void)fprintf(stderr,
                      "sipwarden account rotate: %s names no [general] pidfile: reload "
                      "the daemon (SIGHUP) to apply the new secret\n",
                      cfg->source);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    long pid = 0;
    if (tools_fileio_read(pidfile, 64, &text, &len) == 0) {
        pid = strtol(text, NULL, 10);
        sw_free(text);
    }
    if (pid <= 1 || kill((pid_t)pid, SIGHUP) == -1) {
        (void)fprintf(stderr,
                      "sipwarden account rotate: no daemon to reload (pidfile %s): the "
                      "new secret applies at its next start\n",
                      pidfile);
        return;
    }
    (void)fprintf(stderr, "sipwarden account rotate: asked the daemon (pid %ld) to reload\n", pid);
}

static int rotate(const struct cfg *cfg, const struct cfg_account *account, size_t length)
{
    char secret[PASSWD_MAX_LENGTH + 1];
    char block[BLOCK_CAP];
    int rc = passwd_generate(length, secret, sizeof(secret));
    if (rc == 0) {
        rc = make_block(cfg, account, secret, block, sizeof(block));
    }
    size_t len = 0;
    char *edited = rc == 0 ? edit_text(cfg, account, block, &len) : NULL;
    OPENSSL_cleanse(block, sizeof(block));
    if (edited != NULL && edited_is_valid(cfg, account, edited)) {
        rc = tools_fileio_replace(cfg->source, edited, len);
    } else if (rc == 0) {
        rc = -SW_ECONFIG;
    }
    if (edited != NULL) {
        OPENSSL_cleanse(edited, len);
        sw_free(edited);
    }
    if (rc == 0) {
        (void)printf("%s\n", secret);
        (void)fflush(stdout);
    }
    OPENSSL_cleanse(secret, sizeof(secret));
    if (rc != 0) {
        (void)fprintf(stderr, "sipwarden account rotate: %s unchanged: %s\n", cfg->source,
                      sw_strerror(rc));
        return 1;
    }
    (void)fprintf(stderr, "sipwarden account rotate: %s: account %s has a new secret\n",
                  cfg->source, account->name);
    if (cfg_key_line(cfg, "auth", "realm") == 0) {
        (void)fprintf(stderr,
                      "sipwarden account rotate: warning: [auth] realm is not set: the HA1s "
                      "hold the realm '%s' derived on this host; set it in %s\n",
                      cfg->auth.realm, cfg->source);
    }
    reload_daemon(cfg);
    return 0;
}

struct rotate_args {
    const char *config;
    const char *account;
    size_t length;
};

static bool parse_args(int argc, char **argv, struct rotate_args *args)
{
    static const struct option options[] = {
        { "config", required_argument, NULL, 'c' },
        { "length", required_argument, NULL, 'l' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    optind = 0; /* GNU: full re-initialisation, so the command can run twice in tests */
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): options are parsed once, on the main thread. */
    while ((opt = getopt_long(argc, argv, "c:", options, NULL)) != -1) {
        uint32_t length = 0;
        if (opt == 'c') {
            args->config = optarg;
        } else if (opt == 'l' && sv_to_u32(sv_from_cstr(optarg), &length) &&
                   length >= PASSWD_MIN_LENGTH && length <= PASSWD_MAX_LENGTH) {
            args->length = length;
        } else {
            return false;
        }
    }
    if (optind + 1 != argc) {
        return false;
    }
    args->account = argv[optind];
    return true;
}

int tools_rotate_main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        print_usage(stdout);
        return 0;
    }
    struct rotate_args args = { .config = DEFAULT_CONFIG, .length = PASSWD_DEFAULT_LENGTH };
    if (!parse_args(argc, argv, &args)) {
        print_usage(stderr);
        return 2;
    }
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_file(args.config, &diag);
    if (cfg == NULL) {
        sw_diag_print(&diag, stderr);
    }
    sw_diag_fini(&diag);
    if (cfg == NULL) {
        return 1;
    }
    const struct cfg_account *account = find_account(cfg, args.account);
    int rc = 1;
    if (account == NULL) {
        (void)fprintf(stderr, "sipwarden account rotate: %s has no account '%s'\n", cfg->source,
                      args.account);
    } else {
        rc = rotate(cfg, account, args.length);
    }
    cfg_free(cfg);
    return rc;
}
