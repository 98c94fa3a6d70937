/*
 * `sipwarden cdr export --since T [--until T] [--format csv|json] [-c FILE | --database
 * PATH]`: prints the call records whose setup time is in [since, until) from the database
 * (the [cdr] database of the configuration, else its [state] path), oldest first, as
 * Master.csv-compatible CSV lines (no header: Asterisk's file has none) or one JSON object
 * per line. T is YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z] (UTC; a space may stand for the T)
 * or seconds since the epoch. Exit 0, 1 when the database cannot be read, 2 for a usage
 * error. Main thread of the command.
 */
#ifndef SW_TOOLS_CDR_H
#define SW_TOOLS_CDR_H

#include <stdbool.h>
#include <stdint.h>

/* The `sipwarden cdr` command. */
int tools_cdr_main(int argc, char **argv);

/* Parses a time argument as above into milliseconds since the epoch; false when bad. */
bool tools_cdr_parse_time(const char *text, int64_t *out_ms);

#endif
