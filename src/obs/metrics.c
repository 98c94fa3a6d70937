#include "obs/metrics.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"

#define METRICS_DEFAULT_SERIES   1024u
#define METRICS_DEFAULT_FAMILIES 128u
#define METRICS_MAX_SLOTS        1024u
#define METRICS_LINE_PAD         8 /* cells: keeps two slots off one cache line */

struct metric_family {
    char *name;
    char *help;
    enum metric_type type;
    char *label_names[METRICS_LABELS_MAX];
    size_t label_count;
};

struct metric_series {
    uint32_t family;
    char *label_values[METRICS_LABELS_MAX];
};

struct metrics {
    struct metric_family *families;
    size_t family_count;
    size_t max_families;
    struct metric_series *series;
    /* Stored with release once a series is complete: a reload may add series while the
     * writers and a scrape run (only the main thread adds). */
    atomic_size_t series_count;
    size_t max_series;
    unsigned slot_count;
    size_t slot_stride;      /* cells per slot, padded */
    _Atomic uint64_t *cells; /* slot_count * slot_stride */
};

int metrics_new(const struct metrics_config *cfg, struct metrics **out)
{
    size_t max_series = cfg->max_series != 0 ? cfg->max_series : METRICS_DEFAULT_SERIES;
    size_t max_families = cfg->max_families != 0 ? cfg->max_families : METRICS_DEFAULT_FAMILIES;
    if (cfg->max_families == 0 && max_families > max_series) {
        max_families = max_series;
    }
    if (cfg->slot_count == 0 || cfg->slot_count > METRICS_MAX_SLOTS || max_series > (1u << 20) ||
        max_families > max_series) {
        return -SW_EBADARG;
    }
    struct metrics *reg = sw_calloc(1, sizeof(*reg));
    if (reg == NULL) {
        return -ENOMEM;
    }
    reg->max_series = max_series;
    reg->max_families = max_families;
    reg->slot_count = cfg->slot_count;
    reg->slot_stride = max_series + METRICS_LINE_PAD;
    reg->families = sw_calloc(max_families, sizeof(*reg->families));
    reg->series = sw_calloc(max_series, sizeof(*reg->series));
    reg->cells = sw_calloc(reg->slot_count * reg->slot_stride, sizeof(*reg->cells));
    if (reg->families == NULL || reg->series == NULL || reg->cells == NULL) {
        metrics_free(reg);
        return -ENOMEM;
    }
    *out = reg;
    return 0;
}

void metrics_free(struct metrics *reg)
{
    if (reg == NULL) {
        return;
    }
    for (size_t i = 0; i < reg->family_count && reg->families != NULL; i++) {
        struct metric_family *f = &reg->families[i];
        sw_free(f->name);
        sw_free(f->help);
        for (size_t l = 0; l < f->label_count; l++) {
            sw_free(f->label_names[l]);
        }
    }
    size_t series_count = atomic_load(&reg->series_count);
    for (size_t i = 0; i < series_count && reg->series != NULL; i++) {
        for (size_t l = 0; l < METRICS_LABELS_MAX; l++) {
            sw_free(reg->series[i].label_values[l]);
        }
    }
    sw_free(reg->families);
    reg->families = NULL;
    sw_free(reg->series);
    reg->series = NULL;
    sw_free(reg->cells);
    reg->cells = NULL;
    sw_free(reg);
}

static bool is_name_char(char c, bool is_first, bool allow_colon)
{
    bool is_alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool is_digit = c >= '0' && c <= '9';
    return is_alpha || (allow_colon && c == ':') || (!is_first && is_digit);
}

static bool is_valid_name(const char *name, bool allow_colon)
{
    if (name == NULL || name[0] == '\0' || strlen(name) > 200) {
        return false;
    }
    for (size_t i = 0; name[i] != '\0'; i++) {
        if (!is_name_char(name[i], i == 0, allow_colon)) {
            return false;
        }
    }
    return allow_colon || strncmp(name, "__", 2) != 0;
}

static bool family_labels_valid(const char *const *label_names, size_t label_count)
{
    if (label_count > METRICS_LABELS_MAX) {
        return false;
    }
    for (size_t l = 0; l < label_count; l++) {
        if (!is_valid_name(label_names[l], false)) {
            return false;
        }
    }
    return true;
}

int metrics_family_add(struct metrics *reg, const struct metrics_family_def *def, uint32_t *family)
{
    const char *const *label_names = def->label_names;
    size_t label_count = def->label_count;
    if (!is_valid_name(def->name, true) || def->help == NULL ||
        (def->type != METRIC_COUNTER && def->type != METRIC_GAUGE) ||
        !family_labels_valid(label_names, label_count)) {
        return -SW_EBADARG;
    }
    if (reg->family_count == reg->max_families) {
        return -SW_EFULL;
    }
    struct metric_family *f = &reg->families[reg->family_count];
    memset(f, 0, sizeof(*f));
    f->type = def->type;
    f->name = sw_strdup(def->name);
    f->help = sw_strdup(def->help);
    bool is_ok = f->name != NULL && f->help != NULL;
    for (size_t l = 0; l < label_count; l++) {
        f->label_names[l] = sw_strdup(label_names[l]);
        is_ok = is_ok && f->label_names[l] != NULL;
    }
    f->label_count = label_count;
    /* Counted even on failure so that metrics_free releases what was copied. */
    reg->family_count++;
    if (!is_ok) {
        return -ENOMEM;
    }
    *family = (uint32_t)(reg->family_count - 1);
    return 0;
}

/* Copies the label values of a series of `f` into `s` (the caller frees them on failure). */
static int series_labels_copy(struct metric_series *s, const struct metric_family *f,
                              const char *const *label_values)
{
    for (size_t l = 0; l < f->label_count; l++) {
        /* The caller's array holds the family's label_count values (the contract), which
         * the analyzer cannot tie to the family's count. */
        /* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign) */
        const char *value = label_values != NULL ? label_values[l] : NULL;
        if (value == NULL) {
            return -SW_EBADARG;
        }
        s->label_values[l] = sw_strdup(value);
        if (s->label_values[l] == NULL) {
            return -ENOMEM;
        }
    }
    return 0;
}

int metrics_series_add(struct metrics *reg, uint32_t family, const char *const *label_values,
                       uint32_t *series)
{
    if (family >= reg->family_count) {
        return -SW_EBADARG;
    }
    const struct metric_family *f = &reg->families[family];
    size_t count = atomic_load_explicit(&reg->series_count, memory_order_relaxed);
    if (count == reg->max_series) {
        return -SW_EFULL;
    }
    struct metric_series *s = &reg->series[count];
    memset(s, 0, sizeof(*s));
    s->family = family;
    int rc = series_labels_copy(s, f, label_values);
    if (rc != 0) {
        for (size_t l = 0; l < METRICS_LABELS_MAX; l++) {
            sw_free(s->label_values[l]);
            s->label_values[l] = NULL;
        }
        return rc;
    }
    /* Published complete: a scrape that sees the count sees the labels. */
    atomic_store_explicit(&reg->series_count, count + 1, memory_order_release);
    *series = (uint32_t)count;
    return 0;
}

static _Atomic uint64_t *cell(const struct metrics *reg, unsigned slot, uint32_t series)
{
    return &reg->cells[(size_t)slot * reg->slot_stride + series];
}

void metrics_add(struct metrics *reg, unsigned slot, uint32_t series, uint64_t delta)
{
    SW_ASSERT(slot < reg->slot_count && series < reg->max_series);
    _Atomic uint64_t *c = cell(reg, slot, series);
    /* One writer per slot: a plain load and store, no locked instruction. */
    uint64_t value = atomic_load_explicit(c, memory_order_relaxed);
    atomic_store_explicit(c, value + delta, memory_order_relaxed);
}

void metrics_set(struct metrics *reg, unsigned slot, uint32_t series, int64_t value)
{
    SW_ASSERT(slot < reg->slot_count && series < reg->max_series);
    atomic_store_explicit(cell(reg, slot, series), (uint64_t)value, memory_order_relaxed);
}

uint64_t metrics_value(const struct metrics *reg, uint32_t series)
{
    SW_ASSERT(series < reg->max_series);
    uint64_t sum = 0;
    for (unsigned s = 0; s < reg->slot_count; s++) {
        sum += atomic_load_explicit(cell(reg, s, series), memory_order_relaxed);
    }
    return sum;
}

/* Exposition format 0.0.4: label values escape backslash, quote and newline. */
static void put_escaped(struct sw_buf *out, const char *text, bool is_label)
{
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\\') {
            sw_buf_str(out, "\\\\");
        } else if (*p == '\n') {
            sw_buf_str(out, "\\n");
        } else if (*p == '"' && is_label) {
            sw_buf_str(out, "\\\"");
        } else {
            sw_buf_char(out, *p);
        }
    }
}

static void render_series(const struct metrics *reg, const struct metric_family *f, uint32_t index,
                          struct sw_buf *out)
{
    const struct metric_series *s = &reg->series[index];
    sw_buf_str(out, f->name);
    if (f->label_count > 0) {
        sw_buf_char(out, '{');
        for (size_t l = 0; l < f->label_count; l++) {
            sw_buf_fmt(out, "%s%s=\"", l > 0 ? "," : "", f->label_names[l]);
            put_escaped(out, s->label_values[l], true);
            sw_buf_char(out, '"');
        }
        sw_buf_char(out, '}');
    }
    uint64_t value = metrics_value(reg, index);
    if (f->type == METRIC_GAUGE) {
        sw_buf_fmt(out, " %lld\n", (long long)(int64_t)value);
    } else {
        sw_buf_fmt(out, " %llu\n", (unsigned long long)value);
    }
}

int metrics_render(const struct metrics *reg, struct sw_buf *out)
{
    for (size_t i = 0; i < reg->family_count; i++) {
        const struct metric_family *f = &reg->families[i];
        sw_buf_fmt(out, "# HELP %s ", f->name);
        put_escaped(out, f->help, false);
        sw_buf_fmt(out, "\n# TYPE %s %s\n", f->name, f->type == METRIC_GAUGE ? "gauge" : "counter");
        size_t series_count = atomic_load_explicit(&reg->series_count, memory_order_acquire);
        for (size_t s = 0; s < series_count; s++) {
            if (reg->series[s].family == i) {
                render_series(reg, f, (uint32_t)s, out);
            }
        }
    }
    return out->is_overflow ? -SW_ETOOBIG : 0;
}

int metrics_events_init(struct metrics_events *events, struct metrics *reg, unsigned slot)
{
    static const char *const labels[] = { "event" };
    const struct metrics_family_def def = {
        .name = "sipwarden_events_total",
        .help = "Security and call events by kind, as the event queue delivered them.",
        .type = METRIC_COUNTER,
        .label_names = labels,
        .label_count = 1,
    };
    uint32_t family;
    int err = metrics_family_add(reg, &def, &family);
    if (err != 0) {
        return err;
    }
    events->reg = reg;
    events->slot = slot;
    for (unsigned k = 0; k < EV_KIND_COUNT && err == 0; k++) {
        const char *value[] = { sw_event_kind_name((enum sw_event_kind)k) };
        err = metrics_series_add(reg, family, value, &events->series[k]);
    }
    return err;
}

void metrics_events_emit(void *ctx, const struct sw_event *event)
{
    struct metrics_events *events = ctx;
    if ((unsigned)event->kind < EV_KIND_COUNT) {
        metrics_add(events->reg, events->slot, events->series[event->kind], 1);
    }
}
