/*
 * `sipwarden audit [--format text|json] [--date YYYY-MM-DD] [FILE...]`: the SIP trunk
 * security checklist over sipwarden's and Asterisk's configurations (see
 * docs/audit-json.md). Exit status: 0 nothing fails, 1 something fails, 2 an input could
 * not be read (or bad usage). Runs on the main thread of the command.
 */
#ifndef SW_TOOLS_AUDIT_H
#define SW_TOOLS_AUDIT_H

/* The subcommand; argv[0] is "audit". */
int tools_audit_main(int argc, char **argv);

#endif
