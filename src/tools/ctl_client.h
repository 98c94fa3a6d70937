/*
 * The client side of the daemon's control socket (gateway_obs.h describes the protocol),
 * shared by `sipwarden ban` and `sipwarden calls`. Main thread of the command.
 */
#ifndef SW_TOOLS_CTL_CLIENT_H
#define SW_TOOLS_CTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * The socket path: `socket` when given, else [general] control_socket of the
 * configuration `config` (NULL = the embedded default). NULL (the reason printed on
 * standard error, prefixed "sipwarden <command>:") when there is none. Owned by the
 * caller (sw_free).
 */
char *tools_ctl_socket_path(const char *config, const char *socket, const char *command);

/*
 * Sends the request line `request` (with its newline) and reads the whole reply into
 * `reply` (cap bytes, NUL-terminated). Returns 0, or -errno when the daemon cannot be
 * reached or answers nothing (5 s timeouts).
 */
int tools_ctl_exchange(const char *path, const char *request, char *reply, size_t cap);

/*
 * One request of `sipwarden <command>`: sends it, reads a reply of at most `cap` bytes
 * and tells whether the daemon said "ok". Returns the reply (sw_free) with *is_ok set, or
 * NULL when the daemon could not be reached (then said on standard error). A reply that
 * is not ok has its error line printed on standard error.
 */
char *tools_ctl_request(const char *command, const char *path, const char *request, size_t cap,
                        bool *is_ok);

/* Prints one reply line as a table row to `out`; false when the line is not a row. */
typedef bool ctl_row_fn(const char *line, FILE *out);

/*
 * Hands each line of `reply` to `row` and prints "(N not shown)" for a "more N" line.
 * Returns the number of rows printed. Pure.
 */
size_t tools_ctl_print_rows(const char *reply, ctl_row_fn *row, FILE *out);

#endif
