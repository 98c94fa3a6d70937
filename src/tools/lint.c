#include "tools/lint.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/sv.h"
#include "sip/check.h"
#include "sip/msg.h"

/* Enough for the header index and every accessor cache of one maximal message. */
#define LINT_ARENA_BYTES ((size_t)256 * 1024)

enum lint_status { LINT_OK = 0, LINT_NOT_OK = 1, LINT_UNREADABLE = 2 };

static void usage(FILE *out)
{
    (void)fprintf(out, "usage: sipwarden lint [--uas] [FILE...]\n"
                       "  judges each FILE (stdin when none or '-') as one SIP message in a UDP\n"
                       "  datagram, as a proxy (default) or a UAS would: ok, reject CODE, drop.\n"
                       "  exit 0 when all are ok, 1 otherwise, 2 on usage or read errors.\n");
}

/* Reads at most `cap` bytes; one more than the largest message is enough to refuse it. */
static int read_input(const char *path, char *buf, size_t cap, size_t *len)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        return -errno;
    }
    size_t used = 0;
    while (used < cap) {
        size_t got = fread(buf + used, 1, cap - used, f);
        if (got == 0) {
            break;
        }
        used += got;
    }
    int rc = ferror(f) ? -EIO : 0;
    if (!is_stdin) {
        (void)fclose(f);
    }
    *len = used;
    return rc;
}

static void print_verdict(const char *name, const struct sip_check_result *result)
{
    switch (result->action) {
    case SIP_ACTION_PROCEED:
        (void)printf("%s: ok\n", name);
        break;
    case SIP_ACTION_DROP:
        (void)printf("%s: drop %s\n", name, result->reason);
        break;
    case SIP_ACTION_REPLY:
        if (result->unsupported.len > 0) {
            (void)printf("%s: reject %u %s (Unsupported: " SV_FMT ")\n", name, result->status,
                         result->reason, SV_ARG(result->unsupported));
        } else if (result->err.reason != NULL && result->reason == result->err.reason) {
            (void)printf("%s: reject %u %s (at byte %zu)\n", name, result->status, result->reason,
                         result->err.pos);
        } else {
            (void)printf("%s: reject %u %s\n", name, result->status, result->reason);
        }
        break;
    }
}

static enum lint_status lint_one(const char *path, const struct sip_check_cfg *cfg, char *buf,
                                 struct arena *arena)
{
    size_t len = 0;
    int rc = read_input(path, buf, SIP_MAX_MSG_BYTES + 1, &len);
    if (rc != 0) {
        (void)fprintf(stderr, "sipwarden lint: %s: %s\n", path, sw_strerror(rc));
        return LINT_UNREADABLE;
    }
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_msg msg;
    struct sip_check_result result;
    arena_reset(arena);
    (void)sip_check_message(sv_make(buf, len), false, &limits, cfg, arena, &msg, &result);
    print_verdict(path, &result);
    return result.action == SIP_ACTION_PROCEED ? LINT_OK : LINT_NOT_OK;
}

int tools_lint_main(int argc, char **argv)
{
    struct sip_check_cfg cfg = { .role = SIP_ROLE_PROXY };
    int first = 1;
    for (; first < argc && argv[first][0] == '-' && argv[first][1] != '\0'; first++) {
        if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        }
        if (strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[first], "--uas") != 0) {
            usage(stderr);
            return 2;
        }
        cfg.role = SIP_ROLE_UAS;
    }
    char *buf = sw_malloc(SIP_MAX_MSG_BYTES + 1);
    struct arena *arena = arena_new(LINT_ARENA_BYTES);
    if (buf == NULL || arena == NULL) {
        (void)fprintf(stderr, "sipwarden lint: out of memory\n");
        sw_free(buf);
        arena_free(arena);
        return 2;
    }
    int worst = LINT_OK;
    if (first == argc) {
        worst = (int)lint_one("-", &cfg, buf, arena);
    }
    for (int i = first; i < argc; i++) {
        int status = (int)lint_one(argv[i], &cfg, buf, arena);
        worst = status > worst ? status : worst;
    }
    sw_free(buf);
    arena_free(arena);
    (void)fflush(stdout);
    return worst;
}
