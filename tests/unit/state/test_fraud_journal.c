/*
 * The fraud counters' journal (state/fraud_journal.c): what was appended is in the file after
 * the process lets go of it without a word (as after kill -9), replayed oldest first from a
 * position; a half-written record, a record too old and a file of another layout are not
 * replayed; a full ring keeps the newest records.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/fraud_journal.h"
#include "state/fraudstore.h"
#include "support/unit.h"

#define WALL_MS 1796644800000LL /* 2026-12-07 12:00 UTC */

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    (void)snprintf(dir, sizeof(dir), "/tmp/sw-fraud-journal-XXXXXX");
    assert_non_null(mkdtemp(dir));
    (void)snprintf(path, sizeof(path), "%s/state.db.fraudq", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    (void)unlink(path);
    (void)rmdir(dir);
    return 0;
}

/* What a replay handed over, in order. */
struct seen {
    size_t count;
    uint64_t seq[64];
    int64_t duration[64];
    char text[64][160]; /* kind key digits international wall_ms */
};

static void collect(void *ctx, const struct fraud_journal_entry *e)
{
    struct seen *seen = ctx;
    if (seen->count < 64) {
        seen->seq[seen->count] = e->seq;
        seen->duration[seen->count] = e->duration_ms;
        (void)snprintf(seen->text[seen->count], sizeof(seen->text[0]), "%d %.*s %.*s %d %lld",
                       (int)e->kind, (int)e->key.len, e->key.ptr, (int)e->digits.len, e->digits.ptr,
                       e->is_international ? 1 : 0, (long long)e->wall_ms);
    }
    seen->count++;
}

static size_t replay(struct fraud_journal *j, uint64_t since, int64_t not_before, struct seen *seen)
{
    memset(seen, 0, sizeof(*seen));
    return fraud_journal_replay(j, since, not_before, collect, seen);
}

static void test_fraud_journal_replays_after_an_abrupt_end(void **state)
{
    (void)state;
    struct fraud_journal *j = NULL;
    assert_int_equal(fraud_journal_open(path, 64, &j), 0);
    assert_int_equal(fraud_journal_next_seq(j), 1);
    fraud_journal_dial(j, SV("account:alice"), SV("88213400001"), true, WALL_MS);
    fraud_journal_dial(j, SV("trunk:provider"), SV("4930123456"), false, WALL_MS + 5);
    fraud_journal_mark(j, SV("23591234567"), WALL_MS / 1000 + 1);
    uint64_t position = fraud_journal_next_seq(j);
    assert_int_equal(position, 4);
    fraud_journal_dial(j, SV("account:alice"), SV("88213400002"), true, WALL_MS + 2000);
    /* No close: the mapping goes with the process, as with kill -9; only the file is left. */
    struct fraud_journal *again = NULL;
    assert_int_equal(fraud_journal_open(path, 64, &again), 0);
    assert_int_equal(fraud_journal_next_seq(again), 5); /* numbering goes on */
    struct seen seen;
    assert_int_equal(replay(again, 1, 0, &seen), 4);
    assert_string_equal(seen.text[0], "1 account:alice 88213400001 1 1796644800000");
    assert_string_equal(seen.text[1], "1 trunk:provider 4930123456 0 1796644800005");
    assert_string_equal(seen.text[2], "2  23591234567 0 1796644801000");
    assert_string_equal(seen.text[3], "1 account:alice 88213400002 1 1796644802000");
    /* From a save's position on: only what came after it. */
    assert_int_equal(replay(again, position, 0, &seen), 1);
    assert_int_equal(seen.seq[0], 4);
    /* Older than the oldest time of interest: not replayed. */
    assert_int_equal(replay(again, 1, WALL_MS + 1000, &seen), 2);
    fraud_journal_close(again);
    fraud_journal_close(j);
}

static void test_fraud_journal_skips_a_half_written_record(void **state)
{
    (void)state;
    struct fraud_journal *j = NULL;
    assert_int_equal(fraud_journal_open(path, 64, &j), 0);
    fraud_journal_dial(j, SV("account:alice"), SV("1"), false, WALL_MS);
    fraud_journal_dial(j, SV("account:alice"), SV("2"), false, WALL_MS);
    fraud_journal_close(j);
    /* A kill while the second record was written leaves its sequence number zero (the
     * record's first 8 bytes; the file's layout: a 4 KiB header, then 160-byte slots, the
     * record of sequence number N in slot N modulo the slots). */
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    static const unsigned char zero[8];
    assert_int_equal(pwrite(fd, zero, sizeof(zero), 4096 + 2 * 160), (ssize_t)sizeof(zero));
    (void)close(fd);
    assert_int_equal(fraud_journal_open(path, 64, &j), 0);
    struct seen seen;
    assert_int_equal(replay(j, 1, 0, &seen), 1);
    assert_string_equal(seen.text[0], "1 account:alice 1 0 1796644800000");
    fraud_journal_close(j);
}

static void test_fraud_journal_full_ring_keeps_the_newest(void **state)
{
    (void)state;
    struct fraud_journal *j = NULL;
    assert_int_equal(fraud_journal_open(path, 8, &j), 0);
    char digits[16];
    for (int i = 1; i <= 20; i++) {
        (void)snprintf(digits, sizeof(digits), "%d", i);
        fraud_journal_dial(j, SV("trunk:t"), sv_from_cstr(digits), false, WALL_MS + i);
    }
    struct seen seen;
    assert_int_equal(replay(j, 1, 0, &seen), 8);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(seen.seq[i], 13 + i);
    }
    fraud_journal_close(j);
    /* Another layout (a different ring size): started afresh, nothing replayed. */
    assert_int_equal(fraud_journal_open(path, 16, &j), 0);
    assert_int_equal(replay(j, 1, 0, &seen), 0);
    assert_int_equal(fraud_journal_next_seq(j), 1);
    fraud_journal_close(j);
}

static void test_fraud_journal_cuts_long_keys_and_refuses_bad_sizes(void **state)
{
    (void)state;
    struct fraud_journal *j = NULL;
    assert_int_equal(fraud_journal_open(path, 12, &j), -EINVAL);
    assert_null(j);
    assert_int_equal(fraud_journal_open(path, 0, &j), -EINVAL);
    /* A folder that does not exist: the error, not a journal. */
    assert_int_equal(fraud_journal_open("/nonexistent-sipwarden/x.fraudq", 4, &j), -ENOENT);
    assert_null(j);
    assert_int_equal(fraud_journal_open(path, 4, &j), 0);
    char key[200];
    memset(key, 'k', sizeof(key));
    fraud_journal_dial(j, (struct sv){ key, sizeof(key) },
                       SV("123456789012345678901234567890123456"), false, WALL_MS);
    struct seen seen;
    assert_int_equal(replay(j, 1, 0, &seen), 1);
    /* FRAUD_KEY_CAP bytes of key, 32 of digits. */
    assert_int_equal(strchr(seen.text[0] + 2, ' ') - (seen.text[0] + 2), FRAUD_KEY_CAP);
    assert_non_null(strstr(seen.text[0], " 12345678901234567890123456789012 0 "));
    fraud_journal_close(j);
}

/* The store appends each dial after counting it, once a journal is set. */
static void test_fraud_journal_gets_the_store_dials(void **state)
{
    (void)state;
    struct fraud_store *store = fraud_store_new_memory(16, 64);
    assert_non_null(store);
    struct fraud_journal *j = NULL;
    assert_int_equal(fraud_journal_open(path, 16, &j), 0);
    struct velocity_cfg cfg = VELOCITY_CFG_DEFAULT;
    struct fraud_dial_result r;
    struct fraud_dial d = { SV("4930123456"), true, 1000 };
    fraud_store_dial(store, SV("account:bob"), &d, &cfg, &r); /* before: not journaled */
    fraud_store_set_journal(store, j);
    fraud_store_dial(store, SV("account:bob"), &d, &cfg, &r);
    fraud_store_wangiri_mark(store, SV("23591234567"), WALL_MS / 1000);
    fraud_store_dial_end(store, SV("account:bob"), SV("4930123456"), 1000, 4000);
    fraud_store_set_journal(store, NULL);
    fraud_store_dial(store, SV("account:bob"), &d, &cfg, &r); /* after: not journaled */
    assert_int_equal(r.calls_minute, 3);
    struct seen seen;
    assert_int_equal(replay(j, 1, 0, &seen), 3);
    assert_non_null(strstr(seen.text[0], "1 account:bob 4930123456 1 "));
    assert_string_equal(seen.text[1], "2  23591234567 0 1796644800000");
    /* The end of the dial, at the dial's wall-clock time (that of the first record: the
     * store's monotonic 1000 is the same instant), answered 4 s. */
    assert_non_null(strstr(seen.text[2], "3 account:bob 4930123456 0 "));
    assert_int_equal(seen.duration[2], 4000);
    fraud_journal_close(j);
    fraud_store_free(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fraud_journal_replays_after_an_abrupt_end, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fraud_journal_skips_a_half_written_record, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fraud_journal_full_ring_keeps_the_newest, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fraud_journal_cuts_long_keys_and_refuses_bad_sizes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_fraud_journal_gets_the_store_dials, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
