#include "obs/alert_baseline.h"

#include <stddef.h>

#define HOUR_S 3600

void alert_baseline_init(struct alert_baseline *baseline)
{
    for (size_t i = 0; i < BASELINE_PERIODS; i++) {
        baseline->period[i] = -1;
        baseline->calls[i] = 0;
    }
}

static size_t index_of(int64_t period)
{
    int64_t i = period % BASELINE_PERIODS;
    return (size_t)(i < 0 ? i + BASELINE_PERIODS : i);
}

void alert_baseline_record(struct alert_baseline *baseline, int64_t period, uint32_t calls)
{
    size_t i = index_of(period);
    if (baseline->period[i] == period && baseline->calls[i] >= calls) {
        return;
    }
    if (baseline->period[i] > period) {
        return; /* the slot already holds a newer period */
    }
    baseline->period[i] = period;
    baseline->calls[i] = calls;
}

bool alert_baseline_peak(const struct alert_baseline *baseline, int64_t now_s, unsigned min_weeks,
                         uint32_t *peak)
{
    int64_t hour_start = now_s - now_s % HOUR_S;
    unsigned weeks = 0;
    uint32_t best = 0;
    for (int64_t w = 1; w <= BASELINE_WEEKS; w++) {
        int64_t first = (hour_start - w * BASELINE_WEEK_S) / BASELINE_PERIOD_S;
        bool has_week = false;
        for (int64_t p = first; p < first + HOUR_S / BASELINE_PERIOD_S; p++) {
            size_t i = index_of(p);
            if (baseline->period[i] == p) {
                has_week = true;
                best = baseline->calls[i] > best ? baseline->calls[i] : best;
            }
        }
        weeks += has_week ? 1 : 0;
    }
    if (weeks < min_weeks) {
        return false;
    }
    *peak = best;
    return true;
}
