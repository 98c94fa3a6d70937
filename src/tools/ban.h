/*
 * `sipwarden ban`: lists, adds and lifts bans in the running daemon through its control
 * socket (gateway_obs.h describes the protocol; the socket is mode 0600 and the daemon
 * checks that the peer is root or its own user).
 *
 *   ban list                      address, offence, source, start, end and reason
 *   ban add ADDR [--time S]       a manual ban (S seconds; "forever"; default [ban]
 *                                 bantime with the repeat-offence factor)
 *   ban del ADDR                  lift a ban
 * with -c FILE (the socket named by [general] control_socket of that configuration) or
 * --socket PATH; without either, the embedded default's socket (sipwarden.ctl in the
 * working directory). Exit 0 on success, 1 when the daemon refused or cannot be reached,
 * 2 for a usage error. Runs on the main thread of the command.
 */
#ifndef SW_TOOLS_BAN_H
#define SW_TOOLS_BAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The `sipwarden ban` command. */
int tools_ban_main(int argc, char **argv);

/*
 * Prints the daemon's "ban ..." lines of a list reply as a table (times in UTC, ISO 8601)
 * to `out`; other lines are ignored. Returns the number of bans printed. Pure.
 */
size_t tools_ban_print_list(const char *reply, FILE *out);

#endif
