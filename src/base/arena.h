/*
 * Bump allocator with a hard cap: the per-message arena (STYLE.md §8). Everything parsed
 * from one message lives here and is released at once by arena_reset(). Running out
 * returns NULL, never falls back to malloc: the caller answers 513 or drops.
 * An arena belongs to one thread.
 */
#ifndef SW_BASE_ARENA_H
#define SW_BASE_ARENA_H

#include <stddef.h>

#include "base/sv.h"

struct arena;

/* A new arena that hands out at most `cap` bytes; NULL when out of memory. */
struct arena *arena_new(size_t cap);

/* Frees the arena and all it handed out; NULL is a no-op. */
void arena_free(struct arena *arena);

/* `size` bytes aligned for any type, or NULL when the cap would be exceeded. */
void *arena_alloc(struct arena *arena, size_t size);

/* Like arena_alloc, zero-filled. */
void *arena_zalloc(struct arena *arena, size_t size);

/* A copy of `s` in the arena (not NUL-terminated), or the absent view when full. */
struct sv arena_sv_dup(struct arena *arena, struct sv s);

/* Forgets every allocation; the memory is reused. */
void arena_reset(struct arena *arena);

/* Bytes handed out since the last reset. */
size_t arena_used(const struct arena *arena);

/*
 * Allocations refused since the last reset (the cap was reached, or the test seam below
 * fired). The stage runner reads it to fail closed: a check that could not allocate what
 * it needed never passes a message (policy/stage.h stage_run).
 */
size_t arena_failures(const struct arena *arena);

/*
 * Test seam (the arena's SW_ALLOC_FAIL_AT): the `nth` allocation from now on (1-based)
 * fails as if the cap were reached; the others succeed as usual. 0 disarms it, and so
 * does arena_reset().
 */
void arena_fail_at(struct arena *arena, size_t nth);

#endif
