/*
 * The learned normal peak of concurrent calls (issue #12): the highest 15-minute level
 * of the same hour of the week over the last four weeks. The gateway records each
 * period's peak (alert_engine_calls_peak_take) and persists it (state/alert_sqlite.h);
 * at start the history is restored here. Hours of the week are counted in UTC.
 *
 * Memory: one entry per 15-minute period of four weeks (2,688 entries, 32 KiB), a ring
 * indexed by period. Not thread-safe: one thread (the housekeeping thread) owns it.
 */
#ifndef SW_OBS_ALERT_BASELINE_H
#define SW_OBS_ALERT_BASELINE_H

#include <stdbool.h>
#include <stdint.h>

#define BASELINE_PERIOD_S 900
#define BASELINE_WEEKS    4
#define BASELINE_WEEK_S   604800
#define BASELINE_PERIODS  (BASELINE_WEEKS * BASELINE_WEEK_S / BASELINE_PERIOD_S)

struct alert_baseline {
    int64_t period[BASELINE_PERIODS]; /* which period the entry holds; -1 = none */
    uint32_t calls[BASELINE_PERIODS];
};

/* Empties the history. */
void alert_baseline_init(struct alert_baseline *baseline);

/* Records that `period` (wall seconds / BASELINE_PERIOD_S) peaked at `calls`; the higher
 * value wins when the period is recorded twice. */
void alert_baseline_record(struct alert_baseline *baseline, int64_t period, uint32_t calls);

/*
 * The normal peak for the hour of the week of `now_s`: the highest level of that hour in
 * each of the previous BASELINE_WEEKS weeks. True (and *peak set) when at least
 * `min_weeks` of those weeks have a recorded level; false when the history is too short.
 */
bool alert_baseline_peak(const struct alert_baseline *baseline, int64_t now_s, unsigned min_weeks,
                         uint32_t *peak);

#endif
