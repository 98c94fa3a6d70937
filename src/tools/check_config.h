/*
 * `sipwarden check-config`: validates a configuration without starting the gateway.
 *
 *   check-config FILE          every problem as "file:line: section.key: error|warning: ...",
 *                              sorted by line, on stderr; a summary on stdout.
 *                              Exit 0 when valid (warnings allowed), 1 on any error.
 *   check-config --default     the same for the built-in default (examples/loopback.conf)
 *   check-config --list-keys   every key with its type, default and help, by section
 *
 * Unknown options and a missing FILE print the usage and exit 2. Runs on the main thread.
 */
#ifndef SW_TOOLS_CHECK_CONFIG_H
#define SW_TOOLS_CHECK_CONFIG_H

#include <stdio.h>

/* The subcommand; argv[0] is "check-config". */
int tools_check_config_main(int argc, char **argv);

/* Prints every key of keys.def, grouped by section, to `out`. */
void tools_check_config_list_keys(FILE *out);

#endif
