/*
 * Ban actions: when a ban is added, lifted or ends, optionally put the address into (or
 * take it out of) an nftables set, so that the kernel drops the source before sipwarden
 * sees it, and/or run a configured command with the address. Both run on this module's
 * own thread, never on a worker: the ban store's callback only queues the change.
 *
 * Commands are started with posix_spawn, without a shell: arguments are separate argv
 * entries, names are validated at start, and the address is formatted by us from the
 * binary form, so nothing an attacker sends reaches a command line. Children get
 * /dev/null as stdin/stdout/stderr and a minimal environment; one that runs longer
 * than `timeout_ms` is killed (SIGKILL to the process group it leads) and counted as
 * failed. The gateway
 * must not set SIGCHLD to SIG_IGN (that would reap our children before waitpid).
 *
 *   nft add element <family> <table> <set> { <ip> timeout <seconds>s }   (ban; no
 *       timeout for a ban without end; <set> is set_v4 or set_v6 by address family)
 *   nft delete element <family> <table> <set> { <ip> }                   (lift, end)
 *   <command> ban <ip> <seconds>    /    <command> unban <ip> 0
 *
 * Use: banaction_new(), then ban_store_attach(store, &banaction_ops, action); the store
 * closes it. Changes beyond `queue_cap` waiting are dropped and counted (the gate still
 * enforces every ban; the firewall set is an optimisation).
 */
#ifndef SW_OBS_BANACTION_H
#define SW_OBS_BANACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state/ban.h"

#define BANACTION_ARGS_MAX 8

struct banaction_config {
    const char *nft_path;   /* NULL or "" = no nftables; "nft" is looked up on PATH */
    const char *nft_family; /* ip, ip6, inet, arp, bridge or netdev */
    const char *nft_table;  /* [A-Za-z][A-Za-z0-9_]{0,63} */
    const char *nft_set_v4; /* NULL = IPv4 addresses are not added */
    const char *nft_set_v6; /* NULL = IPv6 addresses are not added */
    const char *command;    /* absolute path of an executable; NULL = none */
    unsigned timeout_ms;    /* per child; 0 = 5000 */
    size_t queue_cap;       /* 0 = 1024 */
};

struct banaction_stats {
    uint64_t spawned; /* children started */
    uint64_t failed;  /* non-zero exit, signal, timeout or spawn error */
    uint64_t dropped; /* changes dropped on a full queue */
};

struct banaction;

/* The backend operations to attach to a ban store. */
extern const struct ban_store_ops banaction_ops;

/*
 * Validates the configuration and starts the action thread. Returns 0, -SW_EBADARG
 * (with the reason logged), -ENOMEM or -errno.
 */
int banaction_new(const struct banaction_config *cfg, struct banaction **out);

/* Runs what is queued, stops the thread and frees; NULL is a no-op. */
void banaction_free(struct banaction *action);

/* Counters (any thread). */
void banaction_stats_get(struct banaction *action, struct banaction_stats *out);

/* Waits until the queue is empty and no child runs, at most `timeout_ms`. For tests. */
bool banaction_wait_idle(struct banaction *action, unsigned timeout_ms);

/* An nft command line: argv entries point into `element` or the action's names. */
struct banaction_argv {
    const char *argv[BANACTION_ARGS_MAX]; /* NULL-terminated */
    char element[128];                    /* "{ 192.0.2.1 timeout 60s }" */
};

/*
 * The nft command line for a change at `now_s`. Returns the number of arguments, or 0
 * when nothing is to run (nftables off, no set for the family, or a ban already over).
 * Pure; exposed for tests.
 */
size_t banaction_nft_argv(const struct banaction *action, enum ban_change change,
                          const struct ban_entry *entry, int64_t now_s, struct banaction_argv *out);

#endif
