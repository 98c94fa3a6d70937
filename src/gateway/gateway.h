/*
 * The running gateway: ties the transports (net), the policy pipeline, the call layer
 * and the event consumers together, and owns the process's signals. Created and driven
 * from the main thread; its workers call into it from their own threads.
 */
#ifndef SW_GATEWAY_GATEWAY_H
#define SW_GATEWAY_GATEWAY_H

#include "base/diag.h"

struct cfg;
struct gateway;

/*
 * Builds a gateway from `cfg` (ownership passes to the gateway): opens every listener,
 * resolves the trunks, prepares the pipeline. `config_path` is what SIGHUP reloads
 * (NULL: the embedded default, which is reloaded as itself). Returns 0, or a negative
 * code with the problems in `diag`.
 */
int gateway_new(struct cfg *cfg, const char *config_path, struct gateway **out,
                struct sw_diag *diag);

/*
 * Starts the workers and serves until SIGTERM or SIGINT; SIGHUP reloads the
 * configuration (listeners need a restart; calls in progress continue). Returns 0 after
 * a clean stop, or a negative code.
 */
int gateway_run(struct gateway *gw);

/* Stops from another thread (tests). */
void gateway_request_stop(struct gateway *gw);

void gateway_free(struct gateway *gw);

/* The `sipwarden run` command. */
int gateway_run_main(int argc, char **argv);

#endif
