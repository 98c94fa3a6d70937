/*
 * `sipwarden calls`: lists and ends the calls in progress of the running daemon through
 * its control socket (gateway_obs.h: the daemon serves only root and its own user).
 *
 *   calls list [--account A | --trunk T]   id, state, account, trunk, source, caller,
 *                                          dialled number, setup and answer times
 *   calls kill ID | --account A | --trunk T   BYE on both legs (CANCEL while ringing)
 * with -c FILE (the socket of that configuration) or --socket PATH. ID is the call's id
 * as listed (leg B's Call-ID, the uniqueid of its record). Exit 0 on success, 1 when the
 * daemon refused (no such call) or cannot be reached, 2 for a usage error. Main thread.
 */
#ifndef SW_TOOLS_CALLS_H
#define SW_TOOLS_CALLS_H

#include <stddef.h>
#include <stdio.h>

/* The `sipwarden calls` command. */
int tools_calls_main(int argc, char **argv);

/*
 * Prints the daemon's "call ..." lines of a list reply as a table (times in UTC) to
 * `out`; other lines are ignored. Returns the number of calls printed. Pure.
 */
size_t tools_calls_print_list(const char *reply, FILE *out);

#endif
