/*
 * `sipwarden number` and `sipwarden ratedeck`: the number library from the command line.
 *
 *   number NUMBER [--country CC] [--ratedeck FILE]
 *       the E.164 form, country, class, high-risk match (with its list ids) and rate of a
 *       dialled number; CC is the home territory for national forms (ISO code such as DE,
 *       or a calling code such as 49). Exit 0, 1 when the number is refused (the reason and
 *       the SIP response the gateway would give), 2 on bad arguments or an invalid deck.
 *   ratedeck check FILE
 *       validates a rate deck: every problem as FILE:LINE: reason on stderr, exit 0 or 1.
 *
 * Run on the main thread of the command.
 */
#ifndef SW_TOOLS_NUMBER_H
#define SW_TOOLS_NUMBER_H

/* The subcommands; argv[0] is the subcommand's name. Return the exit code. */
int tools_number_main(int argc, char **argv);
int tools_ratedeck_main(int argc, char **argv);

#endif
