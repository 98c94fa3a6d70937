#include "base/arena.h"

#include <stdalign.h>
#include <stdbool.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"

struct arena {
    size_t cap;
    size_t used;
    size_t failures;
    size_t fail_countdown; /* 0 = disarmed; else allocations left before the seam fires */
    alignas(max_align_t) unsigned char data[];
};

struct arena *arena_new(size_t cap)
{
    struct arena *arena = sw_malloc(sizeof(*arena) + cap);
    if (arena == NULL) {
        return NULL;
    }
    arena->cap = cap;
    arena->used = 0;
    arena->failures = 0;
    arena->fail_countdown = 0;
    return arena;
}

void arena_free(struct arena *arena)
{
    sw_free(arena);
}

void *arena_alloc(struct arena *arena, size_t size)
{
    SW_ASSERT(arena != NULL);
    const size_t align = alignof(max_align_t);
    size_t start = (arena->used + align - 1) & ~(align - 1);
    bool is_injected = arena->fail_countdown == 1;
    if (arena->fail_countdown > 0) {
        arena->fail_countdown--;
    }
    if (is_injected || start > arena->cap || size > arena->cap - start) {
        arena->failures++;
        return NULL;
    }
    arena->used = start + size;
    return arena->data + start;
}

void *arena_zalloc(struct arena *arena, size_t size)
{
    void *mem = arena_alloc(arena, size);
    if (mem != NULL) {
        memset(mem, 0, size);
    }
    return mem;
}

struct sv arena_sv_dup(struct arena *arena, struct sv s)
{
    if (s.ptr == NULL) {
        return SV_NULL;
    }
    char *copy = arena_alloc(arena, s.len == 0 ? 1 : s.len);
    if (copy == NULL) {
        return SV_NULL;
    }
    if (s.len > 0) {
        memcpy(copy, s.ptr, s.len);
    }
    return sv_make(copy, s.len);
}

void arena_reset(struct arena *arena)
{
    arena->used = 0;
    arena->failures = 0;
    arena->fail_countdown = 0;
}

size_t arena_used(const struct arena *arena)
{
    return arena->used;
}

size_t arena_failures(const struct arena *arena)
{
    return arena->failures;
}

void arena_fail_at(struct arena *arena, size_t nth)
{
    arena->fail_countdown = nth;
}
