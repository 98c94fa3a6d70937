#include <stdint.h>

#include "base/arena.h"
#include "support/unit.h"

static void test_arena_caps_and_resets(void **state)
{
    (void)state;
    struct arena *arena = arena_new(256);
    assert_non_null(arena);
    void *a = arena_alloc(arena, 100);
    assert_non_null(a);
    assert_int_equal((uintptr_t)a % _Alignof(max_align_t), 0);
    assert_non_null(arena_alloc(arena, 100));
    assert_null(arena_alloc(arena, 100));
    assert_null(arena_alloc(arena, SIZE_MAX));
    assert_true(arena_used(arena) <= 256);
    arena_reset(arena);
    assert_int_equal(arena_used(arena), 0);
    struct sv copy = arena_sv_dup(arena, SV("abc"));
    assert_true(sv_eq(copy, SV("abc")));
    assert_null(arena_sv_dup(arena, SV_NULL).ptr);
    unsigned char *zeroed = arena_zalloc(arena, 16);
    for (size_t i = 0; i < 16; i++) {
        assert_int_equal(zeroed[i], 0);
    }
    arena_reset(arena);
    assert_int_equal(arena_used(arena), 0);
    arena_free(arena);
    arena_free(NULL);
}

static void test_arena_counts_failures_and_injects_one(void **state)
{
    (void)state;
    struct arena *arena = arena_new(64);
    assert_non_null(arena);
    assert_int_equal(arena_failures(arena), 0);
    assert_null(arena_alloc(arena, 65));
    assert_int_equal(arena_failures(arena), 1);
    arena_reset(arena);
    assert_int_equal(arena_failures(arena), 0);
    arena_fail_at(arena, 2);
    assert_non_null(arena_alloc(arena, 1));
    assert_null(arena_alloc(arena, 1));
    assert_non_null(arena_alloc(arena, 1));
    assert_int_equal(arena_failures(arena), 1);
    arena_fail_at(arena, 1);
    arena_reset(arena);
    assert_non_null(arena_alloc(arena, 1)); /* the reset disarmed the seam */
    assert_int_equal(arena_failures(arena), 0);
    arena_free(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_caps_and_resets),
        cmocka_unit_test(test_arena_counts_failures_and_injects_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
