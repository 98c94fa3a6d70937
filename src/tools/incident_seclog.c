/*
 * The security log read back (tools/incident_int.h), and the tallies of the report.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/event.h"
#include "tools/cdr.h"
#include "tools/incident_int.h"

#define MARK_ASTERISK "res_security_log.c: "

/* Copies a view into a fixed field, truncated. */
static void set_field(char *field, size_t cap, struct sv value)
{
    size_t len = value.len < cap - 1 ? value.len : cap - 1;
    if (len > 0) {
        memcpy(field, value.ptr, len);
    }
    field[len] = '\0';
}

/* "2026-11-26T15:30:01.123+0100" (Asterisk's EventTV, local time) into UTC ms. */
static bool parse_event_tv(struct sv tv, int64_t *out_ms)
{
    char text[20];
    if (tv.len < 19 || !sv_copy_cstr(sv_slice(tv, 0, 19), text, sizeof(text))) {
        return false;
    }
    int64_t ms = 0;
    if (!tools_cdr_parse_time(text, &ms)) {
        return false;
    }
    struct sv rest = sv_slice(tv, 19, tv.len - 19);
    uint32_t fraction = 0;
    if (rest.len >= 4 && rest.ptr[0] == '.' && sv_to_u32(sv_slice(rest, 1, 3), &fraction)) {
        ms += fraction;
        rest = sv_slice(rest, 4, rest.len - 4);
    }
    uint32_t zone = 0;
    if (rest.len == 5 && (rest.ptr[0] == '+' || rest.ptr[0] == '-') &&
        sv_to_u32(sv_slice(rest, 1, 4), &zone)) {
        int64_t offset_ms = ((int64_t)(zone / 100) * 60 + (int64_t)(zone % 100)) * 60000;
        ms += rest.ptr[0] == '+' ? -offset_ms : offset_ms; /* local = UTC + offset */
    }
    *out_ms = ms;
    return true;
}

/* "IPV4/UDP/192.0.2.10/5070" -> "192.0.2.10". */
static void set_remote(struct incident_event *out, struct sv address)
{
    struct sv part;
    for (int i = 0; i < 2; i++) {
        if (!sv_take_until(&address, '/', &part)) {
            set_field(out->remote, sizeof(out->remote), part);
            return;
        }
    }
    (void)sv_take_until(&address, '/', &part);
    set_field(out->remote, sizeof(out->remote), part);
}

static void set_named(struct incident_event *out, struct sv name, struct sv value)
{
    if (sv_eq(name, SV("SecurityEvent"))) {
        set_field(out->kind, sizeof(out->kind), value);
    } else if (sv_eq(name, SV("AccountID"))) {
        set_field(out->account, sizeof(out->account), value);
    } else if (sv_eq(name, SV("RemoteAddress"))) {
        set_remote(out, value);
    } else if (sv_eq(name, SV("Detail")) || sv_eq(name, SV("ACLName"))) {
        set_field(out->detail, sizeof(out->detail), value);
    } else if (sv_eq(name, SV("EventTV")) && !parse_event_tv(value, &out->time_ms)) {
        out->time_ms = -1;
    }
}

/* SecurityEvent="X",EventTV="...",...: values never hold a quote (seclog encodes it). */
static bool parse_asterisk(struct sv line, struct incident_event *out)
{
    long at = -1;
    for (size_t i = 0; i + sizeof(MARK_ASTERISK) - 1 <= line.len; i++) {
        if (memcmp(line.ptr + i, MARK_ASTERISK, sizeof(MARK_ASTERISK) - 1) == 0) {
            at = (long)(i + sizeof(MARK_ASTERISK) - 1);
            break;
        }
    }
    if (at < 0) {
        return false;
    }
    struct sv cur = sv_slice(line, (size_t)at, line.len - (size_t)at);
    out->time_ms = -1;
    struct sv name;
    struct sv value;
    while (sv_take_until(&cur, '=', &name) && cur.len > 0 && cur.ptr[0] == '"') {
        cur = sv_slice(cur, 1, cur.len - 1);
        if (!sv_take_until(&cur, '"', &value)) {
            break;
        }
        set_named(out, sv_trim(name), value);
        if (cur.len > 0 && cur.ptr[0] == ',') {
            cur = sv_slice(cur, 1, cur.len - 1);
        }
    }
    return out->kind[0] != '\0' && out->time_ms >= 0;
}

static struct sv json_text(const json_t *obj, const char *key)
{
    const json_t *value = json_object_get(obj, key);
    return json_is_string(value) ? sv_make(json_string_value(value), json_string_length(value))
                                 : sv_make("", 0);
}

static bool parse_json(struct sv line, struct incident_event *out)
{
    json_t *obj = json_loadb(line.ptr, line.len, 0, NULL);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return false;
    }
    out->time_ms = -1;
    if (!parse_event_tv(json_text(obj, "time"), &out->time_ms)) {
        out->time_ms = -1;
    }
    set_field(out->kind, sizeof(out->kind), json_text(obj, "event"));
    set_field(out->account, sizeof(out->account), json_text(obj, "account"));
    set_field(out->detail, sizeof(out->detail), json_text(obj, "detail"));
    set_remote(out, json_text(obj, "remote"));
    json_decref(obj);
    return out->kind[0] != '\0' && out->time_ms >= 0;
}

bool incident_event_parse(struct sv line, struct incident_event *out)
{
    memset(out, 0, sizeof(*out));
    struct sv trimmed = sv_trim(line);
    bool is_ok = trimmed.len > 0 && trimmed.ptr[0] == '{' ? parse_json(trimmed, out)
                                                          : parse_asterisk(trimmed, out);
    if (!is_ok) {
        return false;
    }
    enum sw_event_kind kind;
    if (sw_event_kind_parse(sv_from_cstr(out->kind), &kind)) {
        out->is_anomalous = sw_event_kind_is_failure(kind) || kind == EV_FRAUD_BLOCK ||
                            kind == EV_FRAUD_WARN || kind == EV_POLICY_HIT ||
                            kind == EV_BAN_ADDED || kind == EV_IDENTITY_FAILED;
    }
    return true;
}

/* ---- tallies --------------------------------------------------------------------------- */

struct incident_tally_item *incident_tally_get(struct incident_tally *tally, const char *key)
{
    for (size_t i = 0; i < tally->count; i++) {
        if (strcmp(tally->items[i].key, key) == 0) {
            return &tally->items[i];
        }
    }
    if (tally->count == tally->cap) {
        size_t cap = tally->cap == 0 ? 16 : tally->cap * 2;
        struct incident_tally_item *items =
            cap <= INCIDENT_TALLY_MAX ? sw_realloc(tally->items, cap * sizeof(*items)) : NULL;
        if (items == NULL) {
            tally->others++;
            return NULL;
        }
        tally->items = items;
        tally->cap = cap;
    }
    struct incident_tally_item *item = &tally->items[tally->count++];
    memset(item, 0, sizeof(*item));
    set_field(item->key, sizeof(item->key), sv_from_cstr(key));
    return item;
}

static int by_count(const void *a, const void *b)
{
    const struct incident_tally_item *x = a;
    const struct incident_tally_item *y = b;
    if (x->count != y->count) {
        return x->count > y->count ? -1 : 1;
    }
    return strcmp(x->key, y->key);
}

void incident_tally_sort(struct incident_tally *tally)
{
    if (tally->count > 1) {
        qsort(tally->items, tally->count, sizeof(tally->items[0]), by_count);
    }
}

void incident_tally_fini(struct incident_tally *tally)
{
    sw_free(tally->items);
    tally->items = NULL;
    tally->count = 0;
    tally->cap = 0;
}
