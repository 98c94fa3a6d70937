#include <pthread.h>
#include <string.h>

#include "base/err.h"
#include "obs/metrics.h"
#include "support/unit.h"

static struct metrics *registry_new(unsigned slots, size_t max_series)
{
    struct metrics *reg = NULL;
    struct metrics_config cfg = { .slot_count = slots, .max_series = max_series };
    assert_int_equal(metrics_new(&cfg, &reg), 0);
    return reg;
}

static void render(const struct metrics *reg, char *text, size_t cap)
{
    struct sw_buf buf;
    sw_buf_init(&buf, text, cap - 1);
    assert_int_equal(metrics_render(reg, &buf), 0);
    text[buf.len] = '\0';
}

static void test_metrics_render_exposition_format(void **state)
{
    (void)state;
    struct metrics *reg = registry_new(2, 0);
    static const char *const labels[] = { "side", "method" };
    uint32_t requests;
    assert_int_equal(
        metrics_family_add(reg,
                           &(struct metrics_family_def){ "sipwarden_requests_total",
                                                         "Requests by side and method.",
                                                         METRIC_COUNTER, labels, 2 },
                           &requests),
        0);
    uint32_t trunk_invite;
    uint32_t odd;
    const char *v1[] = { "trunk", "INVITE" };
    const char *v2[] = { "un\"known\\", "line\nbreak" };
    assert_int_equal(metrics_series_add(reg, requests, v1, &trunk_invite), 0);
    assert_int_equal(metrics_series_add(reg, requests, v2, &odd), 0);
    uint32_t calls_family;
    uint32_t calls;
    assert_int_equal(metrics_family_add(reg,
                                        &(struct metrics_family_def){ "sipwarden_calls_active",
                                                                      "Calls up now.\nBack\\slash",
                                                                      METRIC_GAUGE, NULL, 0 },
                                        &calls_family),
                     0);
    assert_int_equal(metrics_series_add(reg, calls_family, NULL, &calls), 0);

    metrics_add(reg, 0, trunk_invite, 5);
    metrics_add(reg, 1, trunk_invite, 7);
    metrics_add(reg, 1, odd, 1);
    metrics_set(reg, 0, calls, 3);
    metrics_set(reg, 1, calls, -1);
    assert_int_equal(metrics_value(reg, trunk_invite), 12);
    assert_int_equal((int64_t)metrics_value(reg, calls), 2);

    char text[2048];
    render(reg, text, sizeof(text));
    assert_string_equal(
        text, "# HELP sipwarden_requests_total Requests by side and method.\n"
              "# TYPE sipwarden_requests_total counter\n"
              "sipwarden_requests_total{side=\"trunk\",method=\"INVITE\"} 12\n"
              "sipwarden_requests_total{side=\"un\\\"known\\\\\",method=\"line\\nbreak\"} 1\n"
              "# HELP sipwarden_calls_active Calls up now.\\nBack\\\\slash\n"
              "# TYPE sipwarden_calls_active gauge\n"
              "sipwarden_calls_active 2\n");
    metrics_free(reg);
}

static void test_metrics_rejects_bad_names_and_overflow(void **state)
{
    (void)state;
    struct metrics *reg = registry_new(1, 2);
    uint32_t family;

    static const struct {
        const char *name;
        const char *label;
        int err;
    } cases[] = {
        { "ok_name:sub", "label", 0 },
        { "9starts_with_digit", "l", -SW_EBADARG },
        { "has-dash", "l", -SW_EBADARG },
        { "", "l", -SW_EBADARG },
        { "good", "__reserved", -SW_EBADARG },
        { "good", "bad:colon", -SW_EBADARG },
        { "good", "fine_1", 0 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *labels[] = { cases[i].label };
        assert_int_equal(
            metrics_family_add(
                reg, &(struct metrics_family_def){ cases[i].name, "h", METRIC_COUNTER, labels, 1 },
                &family),
            cases[i].err);
    }
    uint32_t series;
    const char *value[] = { "x" };
    assert_int_equal(metrics_series_add(reg, family, value, &series), 0);
    assert_int_equal(metrics_series_add(reg, family, value, &series), 0);
    assert_int_equal(metrics_series_add(reg, family, value, &series), -SW_EFULL);
    assert_int_equal(metrics_series_add(reg, 99, value, &series), -SW_EBADARG);
    char small[32];
    struct sw_buf buf;
    sw_buf_init(&buf, small, sizeof(small));
    assert_int_equal(metrics_render(reg, &buf), -SW_ETOOBIG);
    assert_true(buf.is_overflow);
    metrics_free(reg);
    struct metrics *none = NULL;
    assert_int_equal(metrics_new(&(struct metrics_config){ .slot_count = 0 }, &none), -SW_EBADARG);
}

static void test_metrics_events_sink(void **state)
{
    (void)state;
    struct metrics *reg = registry_new(3, 0);
    struct metrics_events events;
    assert_int_equal(metrics_events_init(&events, reg, 2), 0);
    struct event_sink sink = { .emit = metrics_events_emit, .ctx = &events };
    struct sw_event ev;
    sw_event_init(&ev, EV_INVALID_PASSWORD);
    sw_event_emit(&sink, &ev);
    sw_event_emit(&sink, &ev);
    sw_event_init(&ev, EV_BAN_ADDED);
    sw_event_emit(&sink, &ev);
    char text[8192];
    render(reg, text, sizeof(text));
    assert_non_null(strstr(text, "sipwarden_events_total{event=\"InvalidPassword\"} 2\n"));
    assert_non_null(strstr(text, "sipwarden_events_total{event=\"BanAdded\"} 1\n"));
    assert_non_null(strstr(text, "sipwarden_events_total{event=\"FailedACL\"} 0\n"));
    metrics_free(reg);
}

#define WRITERS 4
#define ADDS    1000000u

struct writer {
    struct metrics *reg;
    unsigned slot;
    uint32_t series;
};

static void *writer_main(void *arg)
{
    const struct writer *w = arg;
    for (uint32_t i = 0; i < ADDS; i++) {
        metrics_add(w->reg, w->slot, w->series, 1);
    }
    return NULL;
}

/* Writers on their own slots while a scraper renders: the final sum is exact (TSan too). */
static void test_metrics_concurrent_writers(void **state)
{
    (void)state;
    struct metrics *reg = registry_new(WRITERS, 0);
    uint32_t family;
    uint32_t series;
    assert_int_equal(metrics_family_add(reg,
                                        &(struct metrics_family_def){ "packets_total", "Packets.",
                                                                      METRIC_COUNTER, NULL, 0 },
                                        &family),
                     0);
    assert_int_equal(metrics_series_add(reg, family, NULL, &series), 0);
    pthread_t threads[WRITERS];
    struct writer writers[WRITERS];
    for (unsigned i = 0; i < WRITERS; i++) {
        writers[i] = (struct writer){ .reg = reg, .slot = i, .series = series };
        assert_int_equal(pthread_create(&threads[i], NULL, writer_main, &writers[i]), 0);
    }
    uint64_t previous = 0;
    for (int scrape = 0; scrape < 100; scrape++) {
        uint64_t now = metrics_value(reg, series);
        assert_true(now >= previous);
        previous = now;
        char text[512];
        render(reg, text, sizeof(text));
    }
    for (unsigned i = 0; i < WRITERS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    }
    assert_int_equal(metrics_value(reg, series), (uint64_t)WRITERS * ADDS);
    metrics_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_render_exposition_format),
        cmocka_unit_test(test_metrics_rejects_bad_names_and_overflow),
        cmocka_unit_test(test_metrics_events_sink),
        cmocka_unit_test(test_metrics_concurrent_writers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
