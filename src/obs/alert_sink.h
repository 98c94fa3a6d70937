/*
 * Alert delivery (issue #12): the sinks of the configuration ([NAME] sections with
 * type = sink), each with its own thread and bounded queue, so that a slow or failing
 * sink never delays the event consumer, a worker or another sink.
 *
 *  - syslog: one line (facility daemon, priority from the severity);
 *  - command: the program runs without a shell (obs/spawn.h), the alert as one JSON
 *    object on its standard input; exit status 0 = delivered;
 *  - webhook: HTTP POST of the JSON (generic) or of {"text": ...} (Slack/Mattermost
 *    incoming webhooks) with libcurl, certificate and name verified, no redirects;
 *    a 2xx answer = delivered;
 *  - sendmail: a message (To, From, Subject, plain text) piped into
 *    `sendmail -i -- <to>`; exit status 0 = delivered.
 * A failed attempt is logged and retried `retries` times, after 1 s, 2 s, 4 s... (at most
 * 60 s); then the alert is given up and counted. A full queue drops its oldest alert and
 * counts it.
 *
 * Threads: alert_sinks_new, _start, _stop and _free belong to one thread (main); alert_sinks_push
 * and alert_sinks_deliver never block (any thread, e.g. the engine's caller);
 * alert_sinks_flush and alert_sinks_stats from any thread. The formatting functions are
 * pure.
 */
#ifndef SW_OBS_ALERT_SINK_H
#define SW_OBS_ALERT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "config/config.h"
#include "obs/alert.h"

/* Largest formatted alert (JSON, text or message); fields are bounded, so this fits. */
#define ALERT_TEXT_MAX 4096

struct alert_sink_stats {
    uint64_t delivered;
    uint64_t failed_attempts;
    uint64_t given_up;
    uint64_t dropped; /* pushed out of a full queue */
};

struct alert_sinks;

/* Builds one sink per cfg->alert_sinks entry (no thread yet). 0, -ENOMEM or -SW_EBADARG. */
int alert_sinks_new(const struct cfg *cfg, struct alert_sinks **out);

/* Starts the threads. Returns 0 or -errno. */
int alert_sinks_start(struct alert_sinks *sinks);

/*
 * Delivers what is queued (waiting at most 5 s for it, then an alert waiting for a retry
 * is given up and counted), stops the threads and joins them; the statistics stay
 * readable. Nothing may be pushed any more. A second call does nothing more.
 */
void alert_sinks_stop(struct alert_sinks *sinks);

/* alert_sinks_stop, then frees; NULL is a no-op. */
void alert_sinks_free(struct alert_sinks *sinks);

size_t alert_sinks_count(const struct alert_sinks *sinks);

/* The index of the sink named `name`, or -1. */
long alert_sinks_find(const struct alert_sinks *sinks, const char *name);

const char *alert_sinks_name(const struct alert_sinks *sinks, size_t index);

/* Queues `alert` for sink `index`. */
void alert_sinks_push(struct alert_sinks *sinks, size_t index, const struct alert *alert);

/* An alert_deliver_fn: queues for every sink in alert->sink_mask. `ctx` is the sinks. */
void alert_sinks_deliver(void *ctx, const struct alert *alert);

/* Waits until every queue is empty and no attempt runs, at most `timeout_ms`. */
bool alert_sinks_flush(struct alert_sinks *sinks, unsigned timeout_ms);

void alert_sinks_stats(struct alert_sinks *sinks, size_t index, struct alert_sink_stats *out);

/* The alert as JSON: the generic object, or {"text": ...} for Slack/Mattermost. */
void alert_format_json(const struct alert *alert, enum cfg_sink_template template_name,
                       struct sw_buf *out);

/* One line: "[HIGH] FIRING brute force attempt: auth_failures of 1001: 11 (...)". */
void alert_format_line(const struct alert *alert, struct sw_buf *out);

/* An RFC 5322 message for sendmail: header lines, an empty line, the text. */
void alert_format_mail(const struct alert *alert, const char *from, const char *to,
                       struct sw_buf *out);

#endif
