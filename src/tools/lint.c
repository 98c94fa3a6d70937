#include "tools/lint.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/sv.h"
#include "policy/sanity.h"
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

static void print_verdict(const char *name, struct verdict v, const struct sanity_read_result *read)
{
    const char *reason = v.reason != NULL ? v.reason : "internal failure";
    switch (v.action) {
    case VERDICT_CONTINUE:
    case VERDICT_HOLD: /* the sanity chain never holds */
        (void)printf("%s: ok\n", name);
        break;
    case VERDICT_DROP:
        (void)printf("%s: drop %s\n", name, reason);
        break;
    case VERDICT_REPLY:
        if (sv_starts_with(v.extra_headers, SV("Unsupported: "))) {
            struct sv line = sv_trim(v.extra_headers);
            (void)printf("%s: reject %u %s (" SV_FMT ")\n", name, v.status, reason, SV_ARG(line));
        } else if (read->verdict.action != VERDICT_CONTINUE && read->err.reason != NULL) {
            (void)printf("%s: reject %u %s (at byte %zu)\n", name, v.status, reason, read->err.pos);
        } else {
            (void)printf("%s: reject %u %s\n", name, v.status, reason);
        }
        break;
    }
}

static enum lint_status lint_one(const char *path, enum sip_role role, char *buf,
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
    struct sanity_read_result read;
    arena_reset(arena);
    /* The daemon's sanity chain, towards a sender it answers (a trusted side), with no
     * configuration and nobody listening to its events. */
    struct stage_ctx ctx = { .arena = arena, .is_trusted = true, .transport = SW_TRANSPORT_UDP };
    struct verdict v = sanity_chain_run(&ctx, sv_make(buf, len), false, &limits, role, &msg, &read);
    print_verdict(path, v, &read);
    return v.action == VERDICT_CONTINUE ? LINT_OK : LINT_NOT_OK;
}

int tools_lint_main(int argc, char **argv)
{
    enum sip_role role = SIP_ROLE_PROXY;
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
        role = SIP_ROLE_UAS;
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
        worst = (int)lint_one("-", role, buf, arena);
    }
    for (int i = first; i < argc; i++) {
        int status = (int)lint_one(argv[i], role, buf, arena);
        worst = status > worst ? status : worst;
    }
    sw_free(buf);
    arena_free(arena);
    (void)fflush(stdout);
    return worst;
}
