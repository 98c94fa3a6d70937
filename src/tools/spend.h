/*
 * `sipwarden spend`: the spending caps' budgets of the running daemon, through its
 * control socket (gateway_obs.h: root or the daemon's user only).
 *
 *   spend [--account A | --trunk T] [--json] [-c FILE | --socket PATH]
 * prints, per budget ("global", "trunk:T", "account:A"), today's and this month's closed
 * spend, the live cost of the calls in progress, the caps, the calls answered and ringing
 * on it and when the caps would be crossed at the current pace, in the rate deck's
 * currency. Exit 0, 1 when the daemon refused (no such budget) or cannot be reached, 2 for
 * a usage error. Main thread.
 */
#ifndef SW_TOOLS_SPEND_H
#define SW_TOOLS_SPEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The `sipwarden spend` command. */
int tools_spend_main(int argc, char **argv);

/*
 * Prints the daemon's "budget ..." lines of a reply to `out`, as a table or (is_json) a
 * JSON array. Returns the number of budgets printed. Pure.
 */
size_t tools_spend_print(const char *reply, bool is_json, FILE *out);

#endif
