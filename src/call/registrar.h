/*
 * Bindings of remote accounts: where each registered phone can be reached (its real
 * source address and port, so that NAT works, and its Contact URI). One table for the
 * whole process, one slot per configured account (a phone per account; a new
 * registration replaces the old one), guarded by a mutex per account: lookups come from
 * any worker when the PBX calls a phone. Bounded by the number of accounts.
 */
#ifndef SW_CALL_REGISTRAR_H
#define SW_CALL_REGISTRAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"
#include "net/worker.h"

#define REGISTRAR_URI_CAP 256

struct registrar_binding {
    char contact_uri[REGISTRAR_URI_CAP]; /* the phone's Contact URI (Request-URI of calls to it) */
    struct net_dest dest;                /* its transport source: where calls go */
    int64_t expires_at;                  /* wall-clock seconds */
};

/* Prepares the table for `accounts` accounts (main thread, before the workers run). */
int registrar_init(size_t accounts);
void registrar_fini(void);

/* Stores or replaces the binding of `account`. */
void registrar_store(size_t account, const struct registrar_binding *binding);

/* Removes the binding of `account`. */
void registrar_remove(size_t account);

/* The live binding of `account` at `now_s`; false when none or expired. */
bool registrar_lookup(size_t account, int64_t now_s, struct registrar_binding *out);

/* Accounts with a live binding (for metrics and tests). */
size_t registrar_count(int64_t now_s);

#endif
