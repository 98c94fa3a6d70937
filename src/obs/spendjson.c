#include "obs/spendjson.h"

#include "number/money.h"
#include "state/spendstore.h"

/* An amount, or null when `is_none`. */
static json_t *amount_json(int64_t micro, bool is_none, bool is_text)
{
    if (is_none) {
        return json_null();
    }
    if (!is_text) {
        return json_integer((json_int_t)micro);
    }
    char buf[MONEY_FORMAT_CAP];
    return json_string(money_format(micro, buf, sizeof(buf)));
}

json_t *spendjson_budget(const struct spend_view *v, int64_t now_ms, bool is_text)
{
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    int rc = json_object_set_new(o, "budget", json_string(v->key));
    rc |= json_object_set_new(o, "today", amount_json(v->day_micro, false, is_text));
    rc |= json_object_set_new(o, "month", amount_json(v->month_micro, false, is_text));
    rc |= json_object_set_new(o, "live", amount_json(v->live_micro, false, is_text));
    rc |= json_object_set_new(o, "daily_cap",
                              amount_json(v->caps.daily_micro, v->caps.daily_micro <= 0, is_text));
    rc |= json_object_set_new(
        o, "monthly_cap", amount_json(v->caps.monthly_micro, v->caps.monthly_micro <= 0, is_text));
    rc |= json_object_set_new(o, "answered", json_integer(v->answered));
    rc |= json_object_set_new(o, "ringing", json_integer(v->ringing));
    rc |= json_object_set_new(o, "crossing_in_ms",
                              v->crossing_ms == SPEND_NEVER
                                  ? json_null()
                                  : json_integer((json_int_t)(v->crossing_ms - now_ms)));
    /* #15: the cluster's closed spend today as Redis last said, and what this node's grant
     * leaves; null on a node alone. */
    rc |= json_object_set_new(o, "cluster_today",
                              amount_json(v->cluster_day_micro, v->cluster_day_micro < 0, is_text));
    rc |= json_object_set_new(o, "grant", amount_json(v->grant_micro, v->grant_micro < 0, is_text));
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}
