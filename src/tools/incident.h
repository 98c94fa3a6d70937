/*
 * `sipwarden account disable|enable NAME` and `sipwarden trunk isolate|restore NAME`: the
 * incident commands of the running daemon, through its control socket (gateway_obs.h:
 * the daemon serves only root and its own user; gateway_incident.h says what each does).
 *
 *   account disable NAME [--reason TEXT]   no new calls, calls in progress ended (BYE on
 *                                          both legs), registration removed; persisted
 *   account enable NAME                    the account works again
 *   trunk isolate NAME [--reason TEXT]     no new calls through the trunk, its calls ended
 *   trunk restore NAME                     the trunk works again
 * and `account rotate NAME`, which edits the configuration instead (tools/rotate.h).
 * with -c FILE (the socket of that configuration) or --socket PATH. Prints how many calls
 * ended. Exit 0 on success, 1 when the daemon refused (unknown name) or cannot be reached,
 * 2 for a usage error. Main thread.
 */
#ifndef SW_TOOLS_INCIDENT_H
#define SW_TOOLS_INCIDENT_H

/* The `sipwarden account` command. */
int tools_account_main(int argc, char **argv);

/* The `sipwarden trunk` command. */
int tools_trunk_main(int argc, char **argv);

#endif
