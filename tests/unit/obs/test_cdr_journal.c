/*
 * The call records' mapped journal: a replay follows the chain of whole, consecutively
 * numbered entries from offset 0, and nothing else: not a torn entry, not what a reset
 * left behind, not an old chain after a restart; the mapping grows past its first size.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "obs/cdr_journal.h"
#include "support/unit.h"

static char path[128];

static int setup(void **state)
{
    (void)state;
    (void)snprintf(path, sizeof(path), "/tmp/sw-cdr-journal-%d", (int)getpid());
    (void)unlink(path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    (void)unlink(path);
    return 0;
}

static struct call_record record_of(unsigned n)
{
    struct call_record rec;
    memset(&rec, 0, sizeof(rec));
    (void)snprintf(rec.uniqueid, sizeof(rec.uniqueid), "sw00call-%u", n);
    rec.setup_us = n;
    return rec;
}

struct seen {
    unsigned count;
    uint64_t ids[8192];
};

static bool collect(void *ctx, const struct call_record *rec)
{
    struct seen *seen = ctx;
    if (seen->count < sizeof(seen->ids) / sizeof(seen->ids[0])) {
        seen->ids[seen->count] = rec->setup_us;
    }
    seen->count++;
    return true;
}

/* Reopens the journal and replays it. */
static struct seen *replayed(bool *is_torn)
{
    static struct seen seen;
    memset(&seen, 0, sizeof(seen));
    struct cdr_journal *j = NULL;
    assert_int_equal(cdr_journal_open(path, &j), 0);
    (void)cdr_journal_replay(j, collect, &seen, is_torn);
    cdr_journal_close(j);
    return &seen;
}

static void append_range(struct cdr_journal *j, unsigned from, unsigned to)
{
    for (unsigned n = from; n < to; n++) {
        struct call_record rec = record_of(n);
        assert_int_equal(cdr_journal_append(j, &rec), 0);
    }
}

static void test_a_replay_reads_what_was_appended(void **state)
{
    (void)state;
    struct cdr_journal *j = NULL;
    assert_int_equal(cdr_journal_open(path, &j), 0);
    append_range(j, 1, 4);
    cdr_journal_close(j); /* no reset: as if killed */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    bool is_torn = true;
    struct seen *seen = replayed(&is_torn);
    assert_false(is_torn);
    assert_int_equal(seen->count, 3);
    assert_int_equal(seen->ids[0], 1);
    assert_int_equal(seen->ids[2], 3);
}

/* A record the kill cut short (its bytes do not match its check) ends the replay there. */
static void test_a_torn_entry_ends_the_replay(void **state)
{
    (void)state;
    struct cdr_journal *j = NULL;
    assert_int_equal(cdr_journal_open(path, &j), 0);
    append_range(j, 1, 4);
    size_t entry = cdr_journal_bytes(j) / 3;
    cdr_journal_close(j);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "torn", 4, (off_t)(2 * entry + entry / 2)), 4);
    (void)close(fd);
    bool is_torn = false;
    struct seen *seen = replayed(&is_torn);
    assert_true(is_torn);
    assert_int_equal(seen->count, 2);
}

/* After a reset only what came after it is replayed, though older entries lie past it. */
static void test_a_reset_leaves_nothing_to_replay(void **state)
{
    (void)state;
    struct cdr_journal *j = NULL;
    assert_int_equal(cdr_journal_open(path, &j), 0);
    append_range(j, 1, 11);
    cdr_journal_reset(j);
    cdr_journal_close(j);
    bool is_torn = true;
    assert_int_equal(replayed(&is_torn)->count, 0);
    assert_int_equal(cdr_journal_open(path, &j), 0);
    append_range(j, 11, 11); /* nothing */
    cdr_journal_close(j);
    assert_int_equal(cdr_journal_open(path, &j), 0);
    append_range(j, 100, 103);
    cdr_journal_close(j);
    struct seen *seen = replayed(&is_torn);
    assert_false(is_torn);
    assert_int_equal(seen->count, 3);
    assert_int_equal(seen->ids[0], 100);
}

/* A restart numbers past every entry in the file: the old chain's entries, still lying
 * past the new ones, never continue it (a replay would rewrite committed records). */
static void test_a_restart_never_continues_an_old_chain(void **state)
{
    (void)state;
    struct cdr_journal *j = NULL;
    assert_int_equal(cdr_journal_open(path, &j), 0);
    append_range(j, 1, 21);
    cdr_journal_reset(j);
    cdr_journal_close(j);
    assert_int_equal(cdr_journal_open(path, &j), 0);
    append_range(j, 500, 503);
    cdr_journal_close(j);
    bool is_torn = true;
    struct seen *seen = replayed(&is_torn);
    assert_int_equal(seen->count, 3);
    assert_int_equal(seen->ids[2], 502);
}

static void test_the_journal_grows_while_the_writer_lags(void **state)
{
    (void)state;
    struct cdr_journal *j = NULL;
    assert_int_equal(cdr_journal_open(path, &j), 0);
    unsigned count = (unsigned)(CDR_JOURNAL_INITIAL / sizeof(struct call_record)) + 500;
    append_range(j, 1, count + 1);
    assert_true(cdr_journal_bytes(j) > CDR_JOURNAL_INITIAL);
    cdr_journal_close(j);
    bool is_torn = true;
    struct seen *seen = replayed(&is_torn);
    assert_false(is_torn);
    assert_int_equal(seen->count, count);
    assert_int_equal(seen->ids[count - 1], count);
}

/* A journal that cannot grow (here: the file size limit) says so on the append that
 * needed room, and keeps what it holds replayable. */
static void test_a_journal_that_cannot_grow_says_so(void **state)
{
    (void)state;
    struct cdr_journal *j = NULL;
    assert_int_equal(cdr_journal_open(path, &j), 0);
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    struct rlimit capped = { .rlim_cur = CDR_JOURNAL_INITIAL, .rlim_max = old.rlim_max };
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN); /* EFBIG rather than the signal */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &capped), 0);
    int rc = 0;
    unsigned appended = 0;
    for (unsigned n = 1; n < 100000 && rc == 0; n++) {
        struct call_record rec = record_of(n);
        rc = cdr_journal_append(j, &rec);
        appended += rc == 0 ? 1u : 0u;
    }
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    (void)signal(SIGXFSZ, was);
    assert_int_equal(rc, -EFBIG);
    assert_true(appended > 0);
    cdr_journal_close(j);
    bool is_torn = true;
    struct seen *seen = replayed(&is_torn);
    assert_false(is_torn);
    assert_int_equal(seen->count, appended);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_replay_reads_what_was_appended, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_torn_entry_ends_the_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_reset_leaves_nothing_to_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_restart_never_continues_an_old_chain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_the_journal_grows_while_the_writer_lags, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_journal_that_cannot_grow_says_so, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
