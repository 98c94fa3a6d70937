/*
 * `sipwarden alert test [--sink NAME] [-c FILE]`: sends a test alert through the sinks
 * of a configuration (all of them, or one), waits for each delivery with its retries and
 * prints the outcome per sink. Exit 0 when every chosen sink delivered, 1 when one
 * failed or the configuration is invalid, 2 on bad usage. Main thread.
 */
#ifndef SW_TOOLS_ALERT_H
#define SW_TOOLS_ALERT_H

int tools_alert_main(int argc, char **argv);

#endif
