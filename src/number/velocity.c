#include "number/velocity.h"

#include <string.h>

/* The part of a scan that every check shares: which remembered dials count. */
struct velocity_scan {
    const struct velocity_history *history;
    struct sv digits; /* the new dial */
    int64_t now_ms;
    int64_t window_ms;
    /* Per dial, newest first: the leading digits it shares with the new dial when it is
     * recent and as long, else -1. Worked out once for the three checks. */
    int shared[VELOCITY_HISTORY];
    int most_shared; /* the highest of them (-1: none) */
};

const char *velocity_pattern_name(enum velocity_pattern pattern)
{
    switch (pattern) {
    case VELOCITY_NONE:
        return "none";
    case VELOCITY_SEQUENTIAL:
        return "sequential";
    case VELOCITY_RANGE_SWEEP:
        return "range-sweep";
    case VELOCITY_SHORT_BURST:
        return "short-burst";
    }
    return "none";
}

static bool valid_digits(struct sv digits)
{
    if (digits.len == 0 || digits.len > E164_MAX_DIGITS) {
        return false;
    }
    for (size_t i = 0; i < digits.len; i++) {
        if (digits.ptr[i] < '0' || digits.ptr[i] > '9') {
            return false;
        }
    }
    return true;
}

void velocity_history_init(struct velocity_history *history)
{
    memset(history, 0, sizeof(*history));
}

bool velocity_history_add(struct velocity_history *history, struct sv digits, int64_t at_ms)
{
    if (!valid_digits(digits)) {
        return false;
    }
    struct velocity_dial *dial = &history->dials[history->next];
    memset(dial, 0, sizeof(*dial));
    memcpy(dial->digits, digits.ptr, digits.len);
    dial->len = (uint8_t)digits.len;
    dial->at_ms = at_ms;
    dial->duration_ms = VELOCITY_DURATION_NA;
    history->next = (history->next + 1) % VELOCITY_HISTORY;
    if (history->count < VELOCITY_HISTORY) {
        history->count++;
    }
    return true;
}

/* The slot of the i-th newest dial (0 = newest); i < count. */
static uint32_t newest_slot(const struct velocity_history *history, uint32_t i)
{
    return (history->next + VELOCITY_HISTORY - 1 - i) % VELOCITY_HISTORY;
}

static const struct velocity_dial *newest(const struct velocity_history *history, uint32_t i)
{
    return &history->dials[newest_slot(history, i)];
}

bool velocity_history_end(struct velocity_history *history, struct sv digits, int64_t at_ms,
                          int64_t duration_ms)
{
    for (uint32_t i = 0; i < history->count; i++) {
        struct velocity_dial *dial = &history->dials[newest_slot(history, i)];
        if (dial->at_ms == at_ms && dial->duration_ms == VELOCITY_DURATION_NA &&
            sv_eq(sv_make(dial->digits, dial->len), digits)) {
            dial->duration_ms = duration_ms < 0 ? 0 : duration_ms;
            return true;
        }
    }
    return false;
}

/* The leading digits `dial` shares with the new dial when it is recent and as long, else
 * -1. Eight digits at a time: most dials differ from the new one early. */
static int shared_digits(const struct velocity_scan *scan, const struct velocity_dial *dial,
                         const char *padded)
{
    int64_t age_ms = 0;
    bool is_recent = dial->at_ms <= scan->now_ms &&
                     !__builtin_sub_overflow(scan->now_ms, dial->at_ms, &age_ms) &&
                     age_ms <= scan->window_ms;
    if (!is_recent || dial->len != scan->digits.len) {
        return -1;
    }
    _Static_assert(sizeof(dial->digits) % 8 == 0, "digits compared in words");
    size_t at = 0;
    for (; at < sizeof(dial->digits); at += 8) {
        uint64_t mine = 0;
        uint64_t theirs = 0;
        memcpy(&mine, dial->digits + at, 8);
        memcpy(&theirs, padded + at, 8);
        uint64_t diff = mine ^ theirs;
        if (diff != 0) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            at += (size_t)__builtin_ctzll(diff) / 8; /* the first digit that differs */
#else
            at += (size_t)__builtin_clzll(diff) / 8;
#endif
            break;
        }
    }
    return at < dial->len ? (int)at : (int)dial->len;
}

static void scan_share(struct velocity_scan *scan)
{
    char padded[E164_MAX_DIGITS + 1] = { 0 };
    memcpy(padded, scan->digits.ptr, scan->digits.len); /* valid digits: at most 15 */
    scan->most_shared = -1;
    for (uint32_t i = 0; i < scan->history->count; i++) {
        scan->shared[i] = shared_digits(scan, newest(scan->history, i), padded);
        scan->most_shared =
            scan->shared[i] > scan->most_shared ? scan->shared[i] : scan->most_shared;
    }
}

/* True when some dial is in the range of `range_digits`: without one, no check finds its
 * pattern (a run of one number, one distinct number, no short call), so none need run. */
static bool any_in_range(const struct velocity_scan *scan, unsigned range_digits)
{
    return scan->digits.len > range_digits &&
           scan->most_shared >= (int)(scan->digits.len - range_digits);
}

/* True when the i-th newest dial is recent and in the range of the new dial: same length,
 * same digits but for the last `range_digits`. */
static bool in_range(const struct velocity_scan *scan, uint32_t i, unsigned range_digits)
{
    return scan->digits.len > range_digits &&
           scan->shared[i] >= (int)(scan->digits.len - range_digits);
}

/* The value of the last `range_digits` digits (at most 6: fits easily). */
static uint32_t tail_value(const char *digits, size_t len, unsigned range_digits)
{
    uint32_t value = 0;
    for (size_t i = len - range_digits; i < len; i++) {
        value = value * 10 + (uint32_t)(digits[i] - '0');
    }
    return value;
}

static bool range_ok(unsigned range_digits)
{
    return range_digits >= 1 && range_digits <= VELOCITY_MAX_RANGE;
}

/* The longest run of numbers stepping the same way by 1..max_step, ending at the new dial. */
static unsigned sequential_run(const struct velocity_scan *scan, const struct velocity_cfg *cfg)
{
    uint32_t later = tail_value(scan->digits.ptr, scan->digits.len, cfg->range_digits);
    int direction = 0;
    unsigned run = 1;
    for (uint32_t i = 0; i < scan->history->count; i++) {
        const struct velocity_dial *dial = newest(scan->history, i);
        if (!in_range(scan, i, cfg->range_digits)) {
            continue; /* other destinations in between do not break a run */
        }
        uint32_t value = tail_value(dial->digits, dial->len, cfg->range_digits);
        if (value == later) {
            continue; /* a redial neither extends nor breaks a run */
        }
        int step = value < later ? 1 : -1; /* +1: the numbers went up to the later one */
        uint32_t gap = value < later ? later - value : value - later;
        if (gap > cfg->max_step || (direction != 0 && step != direction)) {
            break;
        }
        direction = step;
        later = value;
        run++;
    }
    return run;
}

/* Distinct numbers of the range, the new one included. */
static unsigned distinct_in_range(const struct velocity_scan *scan, unsigned range_digits)
{
    uint32_t seen[VELOCITY_HISTORY + 1];
    unsigned count = 0;
    seen[count++] = tail_value(scan->digits.ptr, scan->digits.len, range_digits);
    for (uint32_t i = 0; i < scan->history->count; i++) {
        const struct velocity_dial *dial = newest(scan->history, i);
        if (!in_range(scan, i, range_digits)) {
            continue;
        }
        uint32_t value = tail_value(dial->digits, dial->len, range_digits);
        bool is_new = true;
        for (unsigned j = 0; j < count && is_new; j++) {
            is_new = seen[j] != value;
        }
        if (is_new) {
            seen[count++] = value;
        }
    }
    return count;
}

/*
 * Short answered calls into the range, to distinct numbers: IRSF test calls probe several
 * numbers of a range, while calling one number again and again briefly (a voicemail, a
 * busy line, a test of the trunk itself) is no such burst.
 */
static unsigned short_calls(const struct velocity_scan *scan, const struct velocity_cfg *cfg)
{
    uint32_t seen[VELOCITY_HISTORY];
    unsigned count = 0;
    for (uint32_t i = 0; i < scan->history->count; i++) {
        const struct velocity_dial *dial = newest(scan->history, i);
        if (!in_range(scan, i, cfg->burst_range_digits) || dial->duration_ms <= 0 ||
            dial->duration_ms > cfg->short_call_ms) {
            continue;
        }
        uint32_t value = tail_value(dial->digits, dial->len, cfg->burst_range_digits);
        bool is_new = true;
        for (unsigned j = 0; j < count && is_new; j++) {
            is_new = seen[j] != value;
        }
        if (is_new && count < VELOCITY_HISTORY) {
            seen[count++] = value;
        }
    }
    return count;
}

static enum velocity_pattern found(struct velocity_finding *out, enum velocity_pattern pattern,
                                   unsigned count, struct sv digits, unsigned range_digits)
{
    if (out != NULL) {
        out->pattern = pattern;
        out->count = count;
        memset(out->range, 0, sizeof(out->range));
        memcpy(out->range, digits.ptr, digits.len - range_digits);
    }
    return pattern;
}

enum velocity_pattern velocity_check(const struct velocity_history *history, struct sv digits,
                                     int64_t now_ms, const struct velocity_cfg *cfg,
                                     struct velocity_finding *out)
{
    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
    if (!valid_digits(digits)) {
        return VELOCITY_NONE;
    }
    struct velocity_scan scan = {
        .history = history, .digits = digits, .now_ms = now_ms, .window_ms = cfg->window_ms
    };
    scan_share(&scan);
    if (range_ok(cfg->range_digits) && any_in_range(&scan, cfg->range_digits)) {
        unsigned run = cfg->min_run >= 2 ? sequential_run(&scan, cfg) : 0;
        if (cfg->min_run >= 2 && run >= cfg->min_run) {
            return found(out, VELOCITY_SEQUENTIAL, run, digits, cfg->range_digits);
        }
        unsigned distinct =
            cfg->min_distinct >= 2 ? distinct_in_range(&scan, cfg->range_digits) : 0;
        if (cfg->min_distinct >= 2 && distinct >= cfg->min_distinct) {
            return found(out, VELOCITY_RANGE_SWEEP, distinct, digits, cfg->range_digits);
        }
    }
    if (range_ok(cfg->burst_range_digits) && any_in_range(&scan, cfg->burst_range_digits) &&
        cfg->min_short > 0) {
        unsigned shorts = short_calls(&scan, cfg);
        if (shorts >= cfg->min_short) {
            return found(out, VELOCITY_SHORT_BURST, shorts, digits, cfg->burst_range_digits);
        }
    }
    return VELOCITY_NONE;
}
