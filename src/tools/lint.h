/*
 * `sipwarden lint [--uas] [FILE...]`: judges each file (stdin when none, or "-") as one
 * SIP message received in a UDP datagram from a trusted side, with the verdict of the
 * daemon's sanity chain (policy/sanity.h) at a proxy (or at a UAS with --uas) that supports
 * no extension. Prints one line per file:
 *
 *   FILE: ok
 *   FILE: reject CODE REASON
 *   FILE: drop REASON
 *
 * Exit status: 0 when every file is ok, 1 otherwise, 2 on a usage error or an
 * unreadable file. Runs on the main thread of the command.
 */
#ifndef SW_TOOLS_LINT_H
#define SW_TOOLS_LINT_H

/* The entry point of the subcommand; argv[0] is "lint". */
int tools_lint_main(int argc, char **argv);

#endif
