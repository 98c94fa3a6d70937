/*
 * seclog_sample: writes every security event kind through obs/seclog into a log file,
 * including injection attempts, for tests/it/seclog_fail2ban (link: sw_obs sw_state sw_base).
 *
 * usage: seclog_sample LOGFILE [asterisk|json]
 * Prints one line per event written: "<kind name> <remote ip> <is-injection 0|1>", so the
 * test knows which addresses a filter must find.
 */
#include <stdio.h>
#include <string.h>

#include "base/addr.h"
#include "base/event.h"
#include "obs/seclog.h"

#define INJECT_REMOTE "IPV4/UDP/10.0.0.1/5060"

/* Values an attacker controls (user name, Call-ID, digest response), crafted to inject. */
static const struct sv injections[] = {
    { "x\",RemoteAddress=\"" INJECT_REMOTE "\"",
      sizeof("x\",RemoteAddress=\"" INJECT_REMOTE "\"") - 1 },
    { "\"", 1 },
    { "a\r\n[2026-01-01 00:00:00] SECURITY[1] res_security_log.c: SecurityEvent=\"FailedACL\","
      "RemoteAddress=\"" INJECT_REMOTE "\"",
      sizeof(
          "a\r\n[2026-01-01 00:00:00] SECURITY[1] res_security_log.c: SecurityEvent=\"FailedACL\","
          "RemoteAddress=\"" INJECT_REMOTE "\"") -
          1 },
    { "nul\0\",RemoteAddress=\"" INJECT_REMOTE "\"",
      sizeof("nul\0\",RemoteAddress=\"" INJECT_REMOTE "\"") - 1 },
    { "back\\\",RemoteAddress=\"" INJECT_REMOTE "\"\\",
      sizeof("back\\\",RemoteAddress=\"" INJECT_REMOTE "\"\\") - 1 },
};

static int write_event(struct seclog *log, struct sw_event *ev, const char *remote,
                       bool is_injection)
{
    if (!sw_sockaddr_parse(sv_from_cstr(remote), 0, &ev->remote) ||
        !sw_sockaddr_parse(SV("127.0.0.1:5060"), 0, &ev->local)) {
        (void)fprintf(stderr, "seclog_sample: bad address %s\n", remote);
        return -1;
    }
    int err = seclog_write(log, ev);
    if (err != 0) {
        (void)fprintf(stderr, "seclog_sample: write failed (%d)\n", err);
        return -1;
    }
    char ip[SW_ADDR_STRLEN];
    sw_sockaddr_format_ip(&ev->remote, ip, sizeof(ip));
    (void)printf("%s %s %d\n", sw_event_kind_name(ev->kind), ip, is_injection ? 1 : 0);
    return 0;
}

/* One clean event of every kind, each from its own address 192.0.2.(10 + kind). */
static int write_every_kind(struct seclog *log)
{
    for (int kind = 0; kind < EV_KIND_COUNT; kind++) {
        struct sw_event ev;
        sw_event_init(&ev, (enum sw_event_kind)kind);
        SW_EVENT_SET(&ev, account, SV("1001"));
        SW_EVENT_SET(&ev, session, SV("a84c2f1d-77@127.0.0.1"));
        SW_EVENT_SET(&ev, challenge, SV("awhP82sIT9XRetPn"));
        SW_EVENT_SET(&ev, response, SV("0d3f928be5ecf490ebee891120d49e09"));
        SW_EVENT_SET(&ev, user_agent, SV("friendly-scanner"));
        SW_EVENT_SET(&ev, module, SV("sample"));
        char remote[32];
        (void)snprintf(remote, sizeof(remote), "192.0.2.%d:%d", 10 + kind, 5060 + kind);
        if (write_event(log, &ev, remote, false) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Every failure kind with every injection in every attacker-written field at once. */
static int write_injections(struct seclog *log)
{
    static const enum sw_event_kind kinds[] = { EV_FAILED_ACL, EV_INVALID_ACCOUNT_ID,
                                                EV_CHALLENGE_RESPONSE_FAILED, EV_INVALID_PASSWORD };

    int n = 0;
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        for (size_t i = 0; i < sizeof(injections) / sizeof(injections[0]); i++) {
            struct sw_event ev;
            sw_event_init(&ev, kinds[k]);
            SW_EVENT_SET(&ev, account, injections[i]);
            SW_EVENT_SET(&ev, session, injections[i]);
            SW_EVENT_SET(&ev, response, injections[i]);
            SW_EVENT_SET(&ev, challenge, injections[i]);
            SW_EVENT_SET(&ev, detail, injections[i]);
            SW_EVENT_SET(&ev, user_agent, injections[i]);
            char remote[32];
            n++;
            (void)snprintf(remote, sizeof(remote), "198.51.100.%d:5060", n);
            if (write_event(log, &ev, remote, true) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

static int write_ipv6(struct seclog *log)
{
    struct sw_event ev;
    sw_event_init(&ev, EV_INVALID_PASSWORD);
    SW_EVENT_SET(&ev, account, SV("1001"));
    return write_event(log, &ev, "[2001:db8::7]:5060", false);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        (void)fprintf(stderr, "usage: seclog_sample LOGFILE [asterisk|json]\n");
        return 2;
    }
    struct seclog_config cfg = { .format = SECLOG_FORMAT_ASTERISK, .path = argv[1] };
    if (argc == 3 && strcmp(argv[2], "json") == 0) {
        cfg.format = SECLOG_FORMAT_JSON;
    } else if (argc == 3 && strcmp(argv[2], "asterisk") != 0) {
        (void)fprintf(stderr, "usage: seclog_sample LOGFILE [asterisk|json]\n");
        return 2;
    }
    struct seclog *log = NULL;
    if (seclog_open(&cfg, &log) != 0) {
        (void)fprintf(stderr, "seclog_sample: cannot open %s\n", argv[1]);
        return 1;
    }
    int err = write_every_kind(log);
    if (err == 0) {
        err = write_injections(log);
    }
    if (err == 0) {
        err = write_ipv6(log);
    }
    seclog_close(log);
    return err == 0 ? 0 : 1;
}
