/*
 * Bindings of remote accounts: where each registered phone can be reached (its real
 * source address and port, so that NAT works, and its Contact URI). One table for the
 * whole process, keyed by the account's name (a phone per account; a new registration
 * replaces the old one), so that a reload that reorders, adds or removes accounts keeps
 * every binding with its own account. Lookups come from any worker when the PBX calls a
 * phone: one mutex, held for a copy. Bounded: at most the capacity given at init; a full
 * table refuses new accounts' bindings (the phone's registration then fails).
 */
#ifndef SW_CALL_REGISTRAR_H
#define SW_CALL_REGISTRAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"
#include "net/worker.h"

#define REGISTRAR_URI_CAP  256
#define REGISTRAR_NAME_CAP 128

struct registrar_binding {
    char contact_uri[REGISTRAR_URI_CAP]; /* the phone's Contact URI (Request-URI of calls to it) */
    struct net_dest dest;                /* its transport source: where calls go */
    int64_t expires_at;                  /* wall-clock seconds */
};

/* Prepares the table for at most `max_accounts` bindings (main thread, before the workers
 * run). Returns 0 or -ENOMEM. */
int registrar_init(size_t max_accounts);
void registrar_fini(void);

/* Stores or replaces the binding of `account`; false when the table is full. */
bool registrar_store(struct sv account, const struct registrar_binding *binding);

/* Removes the binding of `account`. */
void registrar_remove(struct sv account);

/* The live binding of `account` at `now_s`; false when none or expired. */
bool registrar_lookup(struct sv account, int64_t now_s, struct registrar_binding *out);

/*
 * Drops the bindings of every account for which `keep` says false (a reload removed the
 * account: the PBX can no longer reach its phone through us). Returns how many went.
 */
size_t registrar_retain(bool (*keep)(void *ctx, struct sv account), void *ctx);

/* Accounts with a live binding (for metrics and tests). */
size_t registrar_count(int64_t now_s);

#endif
