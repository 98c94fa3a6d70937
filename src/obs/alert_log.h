/*
 * What the admin API shows of the alerts (issue #12): the incidents open now (the last
 * message of each rule and key that fired and has not resolved) and the most recent
 * messages of every kind. Fed with every message the engine delivers; read by the admin
 * server. At most ALERT_LOG_OPEN open incidents (a new one past that replaces the oldest)
 * and ALERT_LOG_RECENT recent messages. Any thread (one mutex).
 */
#ifndef SW_OBS_ALERT_LOG_H
#define SW_OBS_ALERT_LOG_H

#include <stddef.h>

#include "obs/alert.h"

#define ALERT_LOG_OPEN   256u
#define ALERT_LOG_RECENT 128u

struct alert_log;

/* NULL when out of memory. */
struct alert_log *alert_log_new(void);

/* NULL is a no-op. */
void alert_log_free(struct alert_log *log);

/* Notes one message: firing and update open (or refresh) the incident, resolved closes it. */
void alert_log_note(struct alert_log *log, const struct alert *alert);

/* Copies up to `cap` open incidents into `out` (oldest first; NULL: none copied);
 * returns how many are open. */
size_t alert_log_open(struct alert_log *log, struct alert *out, size_t cap);

/* Copies up to `cap` recent messages into `out`, newest first; returns how many. */
size_t alert_log_recent(struct alert_log *log, struct alert *out, size_t cap);

#endif
