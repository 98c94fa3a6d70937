#include "policy/fraud_limits.h"

#include <errno.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "config/config.h"
#include "policy/limits.h"
#include "state/callcount.h"

/* Each level, its key and the field of the same name in [fraud], a trunk and an account. */
#define FRAUD_LIMIT_FIELDS(X)                                            \
    X(FRAUD_LIMIT_CALLS_MINUTE_WARN, calls_per_minute_warn)              \
    X(FRAUD_LIMIT_CALLS_MINUTE_BLOCK, calls_per_minute_block)            \
    X(FRAUD_LIMIT_INTL_HOUR_WARN, international_per_hour_warn)           \
    X(FRAUD_LIMIT_INTL_HOUR_BLOCK, international_per_hour_block)         \
    X(FRAUD_LIMIT_DESTS_HOUR_WARN, destinations_per_hour_warn)           \
    X(FRAUD_LIMIT_DESTS_HOUR_BLOCK, destinations_per_hour_block)         \
    X(FRAUD_LIMIT_CONCURRENT_INTL_WARN, concurrent_international_warn)   \
    X(FRAUD_LIMIT_CONCURRENT_INTL_BLOCK, concurrent_international_block) \
    X(FRAUD_LIMIT_SCHEDULE_ACTION, schedule_action)                      \
    X(FRAUD_LIMIT_AFTER_HOURS_CALLS, after_hours_max_calls)              \
    X(FRAUD_LIMIT_AFTER_HOURS_CALLS_MINUTE, after_hours_calls_per_minute)

static const char *const limit_keys[FRAUD_LIMIT_COUNT] = {
#define KEY_NAME(id, field) [id] = #field,
    FRAUD_LIMIT_FIELDS(KEY_NAME)
#undef KEY_NAME
};

/* Copies every level of the section struct `src` into `out->value` (both variables of the
 * function that uses it). */
#define COPY_LEVEL(id, field) out->value[id] = (uint32_t)src->field;

const char *fraud_limit_key(enum fraud_limit id)
{
    SW_ASSERT(id < FRAUD_LIMIT_COUNT);
    return limit_keys[id];
}

void fraud_limits_of_global(const struct cfg *cfg, struct fraud_limits *out)
{
    const struct cfg_fraud *src = &cfg->fraud;
    FRAUD_LIMIT_FIELDS(COPY_LEVEL)
    out->set_mask = (1u << FRAUD_LIMIT_COUNT) - 1u;
}

/* The levels `section` writes (a key with a line in the file). */
static uint32_t written_mask(const struct cfg *cfg, const char *section)
{
    uint32_t mask = 0;
    for (size_t i = 0; i < FRAUD_LIMIT_COUNT; i++) {
        if (cfg_key_line(cfg, section, limit_keys[i]) != 0) {
            mask |= 1u << i;
        }
    }
    return mask;
}

void fraud_limits_of_trunk(const struct cfg *cfg, size_t index, struct fraud_limits *out)
{
    const struct cfg_trunk *src = &cfg->trunks[index];
    FRAUD_LIMIT_FIELDS(COPY_LEVEL)
    out->set_mask = written_mask(cfg, src->name);
}

void fraud_limits_of_account(const struct cfg *cfg, size_t index, struct fraud_limits *out)
{
    const struct cfg_account *src = &cfg->accounts[index];
    FRAUD_LIMIT_FIELDS(COPY_LEVEL)
    out->set_mask = written_mask(cfg, src->name);
}

uint32_t fraud_limits_resolve(const struct fraud_limits *const *levels, size_t count,
                              enum fraud_limit id)
{
    for (size_t i = 0; i < count; i++) {
        if (levels[i] != NULL && (levels[i]->set_mask & (1u << id)) != 0) {
            return levels[i]->value[id];
        }
    }
    return 0;
}

void fraud_slots_fini(struct fraud_slots *slots)
{
    sw_free(slots->trunk_calls);
    sw_free(slots->trunk_intl);
    sw_free(slots->account_calls);
    sw_free(slots->account_intl);
    callcount_release_shared(slots->table);
    *slots = (struct fraud_slots){ 0 };
}

/* The slots of `count` names of one kind pair; false when the table is full. */
static bool find_slots(struct callcount *table, enum callcount_kind kind,
                       enum callcount_kind intl_kind, const char *name,
                       struct callcount_slot **calls, struct callcount_slot **intl)
{
    *calls = callcount_slot(table, kind, name);
    *intl = callcount_slot(table, intl_kind, name);
    return *calls != NULL && *intl != NULL;
}

int fraud_slots_init(struct fraud_slots *slots, const struct cfg *cfg)
{
    *slots = (struct fraud_slots){ 0 };
    slots->table = callcount_acquire(limits_table_capacity(cfg));
    /* Arrays of slot pointers: the size of one pointer is meant. */
    /* NOLINTBEGIN(bugprone-sizeof-expression) */
    slots->trunk_calls = sw_calloc(cfg->trunk_count + 1, sizeof(*slots->trunk_calls));
    slots->trunk_intl = sw_calloc(cfg->trunk_count + 1, sizeof(*slots->trunk_intl));
    slots->account_calls = sw_calloc(cfg->account_count + 1, sizeof(*slots->account_calls));
    slots->account_intl = sw_calloc(cfg->account_count + 1, sizeof(*slots->account_intl));
    /* NOLINTEND(bugprone-sizeof-expression) */
    if (slots->table == NULL || slots->trunk_calls == NULL || slots->trunk_intl == NULL ||
        slots->account_calls == NULL || slots->account_intl == NULL) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        if (!find_slots(slots->table, CALLCOUNT_TRUNK, CALLCOUNT_TRUNK_INTL, cfg->trunks[i].name,
                        &slots->trunk_calls[i], &slots->trunk_intl[i])) {
            return -ENOSPC;
        }
        slots->trunk_count = i + 1;
    }
    for (size_t i = 0; i < cfg->account_count; i++) {
        if (!find_slots(slots->table, CALLCOUNT_ACCOUNT, CALLCOUNT_ACCOUNT_INTL,
                        cfg->accounts[i].username, &slots->account_calls[i],
                        &slots->account_intl[i])) {
            return -ENOSPC;
        }
        slots->account_count = i + 1;
    }
    return 0;
}
