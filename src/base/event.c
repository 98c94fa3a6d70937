#include "base/event.h"

#include <string.h>

#include "base/time.h"

static const char *const kind_names[] = {
#define SW_EVENT_NAME(name, text, failure) text,
    SW_EVENT_MAP(SW_EVENT_NAME)
#undef SW_EVENT_NAME
};

static const bool kind_failures[] = {
#define SW_EVENT_FAILURE(name, text, failure) failure,
    SW_EVENT_MAP(SW_EVENT_FAILURE)
#undef SW_EVENT_FAILURE
};

const char *sw_event_kind_name(enum sw_event_kind kind)
{
    return (unsigned)kind < EV_KIND_COUNT ? kind_names[kind] : "Unknown";
}

bool sw_event_kind_is_failure(enum sw_event_kind kind)
{
    return (unsigned)kind < EV_KIND_COUNT && kind_failures[kind];
}

bool sw_event_kind_parse(struct sv name, enum sw_event_kind *out)
{
    for (unsigned i = 0; i < EV_KIND_COUNT; i++) {
        if (sv_eq_nocase(name, sv_from_cstr(kind_names[i]))) {
            *out = (enum sw_event_kind)i;
            return true;
        }
    }
    return false;
}

void sw_event_init(struct sw_event *event, enum sw_event_kind kind)
{
    memset(event, 0, sizeof(*event));
    event->kind = kind;
    event->wall_us = sw_wall_us();
    event->count = 1;
}

void sw_event_set(char *field, size_t cap, struct sv value)
{
    size_t len = value.len < cap - 1 ? value.len : cap - 1;
    if (len > 0) {
        memcpy(field, value.ptr, len);
    }
    field[len] = '\0';
}

void sw_event_emit(const struct event_sink *sink, const struct sw_event *event)
{
    if (sink != NULL && sink->emit != NULL) {
        sink->emit(sink->ctx, event);
    }
}

void sw_event_flush(const struct event_sink *sink)
{
    if (sink != NULL && sink->flush != NULL) {
        sink->flush(sink->ctx);
    }
}
